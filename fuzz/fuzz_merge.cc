// Fuzz target for the layer merge (fs::Tree) and fs::resolve: the bytes are decoded into a small
// sequence of entries over up to 4 layers (files, dirs, symlinks, hardlinks, whiteouts, opaque
// dirs; paths from a small alphabet with "..", ".", ".wh." and absolute symlink targets), merged,
// then a few paths are resolved. Any broken invariant aborts. Inputs without symlinks, "." or
// ".." are also merged by a naive reference model (a sorted map of paths, after the OCI
// image-spec changeset rules) and both views must agree.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
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

// The first kSimpleNames are plain names: inputs in "simple" mode use only those and no
// symlinks, so that the reference model applies.
constexpr std::string_view kNames[] = {"a", "b", "c", "lib", "usr", ".wh.a", "..", "."};
constexpr size_t kSimpleNames = 6;

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
std::string make_path(Reader& in, bool absolute_ok, bool simple = false) {
  uint8_t b = in.next();
  std::string p = absolute_ok && !simple && (b & 0x80) ? "/" : "";
  int n = 1 + (b & 3) % 3;
  size_t names = simple ? kSimpleNames : std::size(kNames);
  for (int i = 0; i < n; ++i) {
    if (i > 0) p += '/';
    p += kNames[in.next() % names];
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

// --- reference model ------------------------------------------------------------------------

using coroner::scan::Entry;

struct RefNode {
  const Entry* entry;
  const Entry* inode;
  bool implicit;
};
using RefMap = std::map<std::string, RefNode, std::less<>>;

bool ref_dir(const RefNode& n) { return n.inode->type == coroner::scan::FileType::kDirectory; }

void erase_children(RefMap& m, const std::string& dir) {
  std::string prefix = dir + "/";
  for (auto it = m.lower_bound(prefix); it != m.end() && it->first.starts_with(prefix);) {
    it = m.erase(it);
  }
}

bool simple_path(std::string_view p) {
  for (size_t start = 0; start <= p.size();) {
    size_t slash = p.find('/', start);
    std::string_view c = p.substr(start, slash == std::string_view::npos ? p.npos : slash - start);
    if (c.empty() || c == "." || c == "..") return false;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

// Paths the reference can model: no symlinks (parents are never followed) and plain components.
bool reference_applies(std::span<const coroner::scan::LayerIndex> layers) {
  for (const auto& l : layers) {
    for (const Entry& e : l.entries) {
      if (e.type == coroner::scan::FileType::kSymlink) return false;
      if (e.path == "." && e.type == coroner::scan::FileType::kDirectory) continue;
      if (e.path == "." && e.whiteout == coroner::scan::Whiteout::kOpaque) continue;
      if (!simple_path(e.path)) return false;
      if (e.type == coroner::scan::FileType::kHardlink && !simple_path(e.link)) return false;
    }
  }
  return true;
}

bool has_marker(std::string_view p) {
  return p.starts_with(".wh.") || p.find("/.wh.") != std::string_view::npos;
}

void ref_add(RefMap& m, const Entry& e) {
  if (e.path == "." || has_marker(e.path)) return;
  const Entry* inode = &e;
  if (e.type == coroner::scan::FileType::kHardlink) {
    auto t = m.find(e.link);
    if (t == m.end() || ref_dir(t->second)) return;
    inode = t->second.inode;
  }
  for (size_t slash = e.path.find('/'); slash != std::string_view::npos;
       slash = e.path.find('/', slash + 1)) {
    std::string parent(e.path.substr(0, slash));
    auto it = m.find(parent);
    if (it == m.end()) {
      const Entry* d = &coroner::fs::implicit_dir_entry();
      m.emplace(parent, RefNode{d, d, true});
    } else if (!ref_dir(it->second)) {
      return;
    }
  }
  std::string path(e.path);
  auto it = m.find(path);
  if (it != m.end() && ref_dir(it->second) && inode->type != coroner::scan::FileType::kDirectory) {
    erase_children(m, path);
  }
  m[path] = RefNode{&e, inode, false};
}

RefMap reference_merge(std::span<const coroner::scan::LayerIndex> layers) {
  RefMap m;
  for (const auto& l : layers) {
    for (const Entry& e : l.entries) {
      if (e.whiteout == coroner::scan::Whiteout::kFile && e.path != ".") {
        erase_children(m, std::string(e.path));
        m.erase(std::string(e.path));
      } else if (e.whiteout == coroner::scan::Whiteout::kOpaque) {
        if (e.path == ".") {
          m.clear();
          continue;
        }
        auto it = m.find(e.path);
        if (it != m.end() && ref_dir(it->second)) erase_children(m, std::string(e.path));
      }
    }
    for (const Entry& e : l.entries) {
      if (e.whiteout == coroner::scan::Whiteout::kNone) ref_add(m, e);
    }
  }
  return m;
}

void check_against_reference(const coroner::fs::Tree& tree,
                             std::span<const coroner::scan::LayerIndex> layers) {
  RefMap want = reference_merge(layers);
  RefMap got;
  tree.walk([&](coroner::fs::NodeId id) {
    if (id == coroner::fs::kRootNode) return true;
    const coroner::fs::Node& n = tree.node(id);
    got.emplace(tree.path_of(id).substr(1), RefNode{n.entry, n.inode, n.implicit});
    return true;
  });
  for (const auto& [path, n] : want) {
    auto it = got.find(path);
    if (it == got.end()) fail("reference has " + path + ", the tree does not");
    if (it->second.entry != n.entry || it->second.inode != n.inode ||
        it->second.implicit != n.implicit) {
      fail("tree and reference differ at " + path);
    }
  }
  for (const auto& [path, n] : got) {
    if (!want.count(path)) fail("tree has " + path + ", the reference does not");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  try {
    Reader in(data, size);
    coroner::testing::TreeBuilder b;
    int layers = 1;
    const bool simple = in.next() & 1;
    auto path = [&] { return make_path(in, false, simple); };
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
          b.file(path(), in.next());
          break;
        case 2:
          b.dir(path());
          break;
        case 3: {
          std::string p = path();
          if (simple) {
            b.file(p);
          } else {
            b.symlink(p, make_path(in, true));
          }
          break;
        }
        case 4: {
          std::string p = path();
          b.hardlink(p, path());
          break;
        }
        case 5:
          b.whiteout(path());
          break;
        case 6:
          b.opaque(path());
          break;
        case 7:
          b.fifo(path());
          break;
        default:
          b.dir(".");
          break;
      }
    }
    coroner::fs::Tree tree = b.build();
    std::vector<std::string> bad = coroner::testing::check_invariants(tree);
    if (!bad.empty()) fail(bad.front());
    if (reference_applies(b.layers())) check_against_reference(tree, b.layers());
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
