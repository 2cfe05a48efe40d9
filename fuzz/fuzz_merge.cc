// Fuzz target for the layer merge (fs::Tree) and fs::resolve: the bytes are decoded into a small
// sequence of entries over up to 4 layers (files, dirs, symlinks, hardlinks, whiteouts, opaque
// dirs; paths from a small alphabet with "..", ".", ".wh." and absolute symlink targets), merged,
// then a few paths are resolved. Any broken invariant aborts.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/error.h"
#include "fs/resolve.h"
#include "fs/tree.h"
#include "testing/tree_builder.h"

namespace {

constexpr size_t kMaxInputSize = 512 * 1024;
constexpr size_t kMaxEntries = 256;
constexpr int kMaxLayers = 4;

constexpr std::string_view kNames[] = {"a", "b", "c", "lib", "usr", "..", ".", ".wh.a"};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// 1-3 components; with `absolute_ok` a leading "/" may be added (symlink targets).
std::string make_path(Reader& in, bool absolute_ok) {
  uint8_t b = in.next();
  std::string p = absolute_ok && (b & 0x80) ? "/" : "";
  int n = 1 + (b & 3) % 3;
  for (int i = 0; i < n; ++i) {
    if (i > 0) p += '/';
    p += kNames[in.next() % std::size(kNames)];
  }
  return p;
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_merge: %s\n", what.c_str());
  std::abort();
}

void check_resolve(const coroner::fs::Tree& tree, const std::string& path, bool follow) {
  using namespace coroner::fs;
  ResolveOptions o;
  o.follow_last = follow;
  ResolveResult r = resolve(tree, path, o);
  if (r.ok() != r.node.has_value()) fail("resolve: ok() and node disagree for " + path);
  if (r.hops.size() > static_cast<size_t>(kMaxSymlinkHops)) fail("resolve: too many hops");
  if (!r.ok()) return;
  const Node& n = tree.node(*r.node);
  if (!n.present) fail("resolve: node not present for " + path);
  if (follow && n.is_symlink()) fail("resolve: followed result is a symlink for " + path);
  if (tree.lookup(r.path) != r.node) fail("resolve: path does not look up to the node");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  try {
    Reader in(data, size);
    coroner::testing::TreeBuilder b;
    int layers = 1;
    for (size_t n = 0; n < kMaxEntries && !in.empty(); ++n) {
      uint8_t op = in.next();
      switch (op % 9) {
        case 0:
          if (layers < kMaxLayers) {
            b.layer();
            ++layers;
          }
          break;
        case 1:
          b.file(make_path(in, false), in.next());
          break;
        case 2:
          b.dir(make_path(in, false));
          break;
        case 3: {
          std::string p = make_path(in, false);
          b.symlink(p, make_path(in, true));
          break;
        }
        case 4: {
          std::string p = make_path(in, false);
          b.hardlink(p, make_path(in, false));
          break;
        }
        case 5:
          b.whiteout(make_path(in, false));
          break;
        case 6:
          b.opaque(make_path(in, false));
          break;
        case 7:
          b.fifo(make_path(in, false));
          break;
        default:
          b.dir(".");
          break;
      }
    }
    coroner::fs::Tree tree = b.build();
    std::vector<std::string> bad = coroner::testing::check_invariants(tree);
    if (!bad.empty()) fail(bad.front());
    for (int i = 0; i < 4 && !in.empty(); ++i) {
      std::string p = make_path(in, true);
      check_resolve(tree, p, true);
      check_resolve(tree, p, false);
    }
    for (uint32_t l = 0; l < tree.layer_count(); ++l) (void)tree.layer_changes(l);
  } catch (const coroner::Error&) {
  }
  return 0;
}
