// Fuzz target for scan::scan_layer: bytes -> layer stream (gzip, zstd or plain tar, sniffed) ->
// entries and facts, then read_entry of each regular entry, which must give back exactly
// `size` bytes (checks data_offset; a sparse entry is parsed again up to it). Any input either
// scans or throws coroner::Error.
//
// Seeds: no archives are committed. fuzz/tar_seeds.cc writes ~20 small layers (every entry kind,
// pax long names, xattrs, whiteouts, gzip/zstd/multi-member, truncated and hostile names) with
// LayerBuilder into a folder; ctest runs it (test fuzz_replay_tar_seeds) into
// <build>/fuzz-seeds/tar and replays them. For a libFuzzer run:
//   build/tar_seeds /tmp/tar-corpus && build/fuzz_tar -dict=fuzz/tar.dict /tmp/tar-corpus
// The 42 tars of Go's archive/tar test data (Debian's golang-1.19-src,
// /usr/share/go-1.19/src/archive/tar/testdata) make a good extra corpus: copy them in.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "base/stream.h"
#include "scan/layer_index.h"

namespace {

constexpr size_t kMaxInputSize = 512 * 1024;

class OneBlobSource : public coroner::image::ImageSource {
 public:
  explicit OneBlobSource(std::span<const std::byte> blob) : blob_(blob) {
    info_.layers.emplace_back();
  }
  const coroner::image::ImageInfo& info() const override { return info_; }
  std::unique_ptr<coroner::ByteStream> open_layer(size_t) const override {
    return coroner::open_memory_stream(blob_, "fuzz");
  }

 private:
  std::span<const std::byte> blob_;
  coroner::image::ImageInfo info_;
};

// libarchive takes the `realsize` field of a GNU-format header (bytes 483..494) as the size of
// any entry, where GNU tar and Go's archive/tar (and the fast path) read it for sparse ('S')
// entries only: Go's test file nil-uid.tar, written by an Eye-Fi card with times at 476 and 488,
// is 14 bytes for them and 2176 for libarchive. Such inputs are not compared with libarchive.
bool has_gnu_realsize_quirk(std::span<const std::byte> bytes) {
  for (size_t at = 0; at + 512 <= bytes.size(); at += 512) {
    const auto* h = reinterpret_cast<const char*>(bytes.data() + at);
    if (std::string_view(h + 257, 8) == std::string_view("ustar  \0", 8) && h[156] != 'S' &&
        h[483] != '\0') {
      return true;
    }
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  coroner::scan::ScanOptions options;
  options.verify = false;
  options.max_uncompressed = 64 << 20;  // bombs end quickly
  options.max_elf = 1 << 20;
  options.capture = [](std::string_view path, uint64_t) { return path.size() % 3 == 0; };
  OneBlobSource source(bytes);
  using coroner::scan::Entry;
  std::optional<coroner::scan::LayerIndex> lib;
  try {
    coroner::scan::ScanOptions lib_options = options;
    lib_options.tar_fast_path = false;
    auto stream = source.open_layer(0);
    lib = coroner::scan::scan_layer(*stream, source.info().layers[0], 0, lib_options);
  } catch (const coroner::Error&) {
  }
  try {
    auto stream = source.open_layer(0);
    coroner::scan::LayerIndex layer =
        coroner::scan::scan_layer(*stream, source.info().layers[0], 0, options);
    if (has_gnu_realsize_quirk(bytes)) lib.reset();  // (above): not compared
    if (lib && lib->entries.size() != layer.entries.size()) __builtin_trap();
    // The fast path follows Go where the archive ends after extended headers with no entry;
    // libarchive calls that damaged. The scan says so in a note.
    bool go_end = false;
    for (const std::string& n : layer.notes) go_end |= n.find("has no entry after it") != n.npos;
    if (!lib && !has_gnu_realsize_quirk(bytes) && !go_end) __builtin_trap();
    for (size_t i = 0; lib && i < layer.entries.size(); ++i) {
      const Entry &a = layer.entries[i], &b = lib->entries[i];
      if (a.path != b.path || a.link != b.link || a.uname != b.uname || a.gname != b.gname ||
          a.size != b.size || a.data_offset != b.data_offset || a.mtime != b.mtime ||
          a.uid != b.uid || a.gid != b.gid || a.mode != b.mode || a.type != b.type ||
          a.whiteout != b.whiteout || a.kind != b.kind ||
          (a.facts == Entry::kNoFacts) != (b.facts == Entry::kNoFacts)) {
        __builtin_trap();  // the fast path disagrees with libarchive
      }
      if (a.facts != Entry::kNoFacts &&
          (layer.facts[a.facts].xattrs != lib->facts[b.facts].xattrs ||
           layer.facts[a.facts].dev_major != lib->facts[b.facts].dev_major ||
           layer.facts[a.facts].dev_minor != lib->facts[b.facts].dev_minor)) {
        __builtin_trap();
      }
    }
    lib.reset();
    int reads = 0;
    for (const coroner::scan::Entry& e : layer.entries) {
      if (e.type != coroner::scan::FileType::kRegular ||
          e.whiteout != coroner::scan::Whiteout::kNone || ++reads > 8) {
        continue;
      }
      // A sparse entry expands its holes on re-read: a tiny input may claim terabytes.
      if (e.sparse && e.size > options.max_uncompressed) continue;
      uint64_t got = 0;
      coroner::scan::read_entry(source, layer, e,
                                [&](std::span<const std::byte> b) { got += b.size(); });
      if (got != e.size) __builtin_trap();  // read_entry disagrees with the scan
    }
  } catch (const coroner::Error& e) {
    // libarchive alone read what the fast path refused: a bug, unless the fast path followed Go's
    // archive/tar in refusing malformed pax records, which libarchive skips or cuts.
    bool go_stricter =
        std::string_view(e.what()).find("malformed pax extended header") != std::string_view::npos;
    if (lib && !go_stricter) __builtin_trap();
  }
  return 0;
}
