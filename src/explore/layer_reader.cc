#include "explore/layer_reader.h"

#include <algorithm>
#include <array>
#include <vector>

#include "base/error.h"
#include "base/text.h"
#include "explore/fd.h"
#include "scan/layer_stream.h"

namespace coroner::explore {
namespace {

// The uncompressed bytes of a layer blob through scan's LayerStream (compression sniffed by
// content; no digests: the scan verified them).
class DecompressedStream : public ByteStream {
 public:
  explicit DecompressedStream(std::unique_ptr<ByteStream> blob)
      : blob_(std::move(blob)), layer_(*blob_, /*digest=*/false, kMaxUncompressed) {}

  size_t read(std::span<std::byte> buf) override {
    if (pending_.empty()) pending_ = layer_.next();
    size_t n = std::min(buf.size(), pending_.size());
    std::copy_n(pending_.begin(), n, buf.begin());
    pending_ = pending_.subspan(n);
    return n;
  }
  std::string name() const override { return blob_->name(); }

 private:
  static constexpr uint64_t kMaxUncompressed = 1ull << 40;  // as scan::ScanOptions

  std::unique_ptr<ByteStream> blob_;
  scan::LayerStream layer_;
  std::span<const std::byte> pending_;
};

// A window of `remaining` bytes of an underlying stream.
class LimitedStream : public ByteStream {
 public:
  LimitedStream(ByteStream& in, uint64_t size, std::string name)
      : in_(in), remaining_(size), name_(std::move(name)) {}
  size_t read(std::span<std::byte> buf) override {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), remaining_));
    if (want == 0) return 0;
    size_t n = in_.read(buf.first(want));
    if (n == 0) throw Error(escape(name_) + ": layer stream ends inside the file's content");
    remaining_ -= n;
    return n;
  }
  std::string name() const override { return name_; }
  uint64_t remaining() const { return remaining_; }

 private:
  ByteStream& in_;
  uint64_t remaining_;
  std::string name_;
};

void skip(ByteStream& in, uint64_t n, const std::string& what) {
  std::array<std::byte, 64 * 1024> buf;
  while (n > 0) {
    size_t got = in.read(std::span(buf).first(std::min<uint64_t>(n, buf.size())));
    if (got == 0) throw Error(escape(what) + ": layer stream ends before an entry's content");
    n -= got;
  }
}

// rootfs:DIR: the "layer" is a folder; open each file beneath it without following symlinks.
void read_from_dir(const std::string& dir, std::span<const scan::Entry* const> entries,
                   const EntryContentFn& fn) {
  UniqueFd root = open_dir(dir);
  for (const scan::Entry* e : entries) {
    UniqueFd fd = open_file_beneath(root.get(), e->path);
    if (!fd) throw Error(escape(dir) + "/" + escape(e->path) + ": cannot open for reading");
    auto file = open_fd_stream(fd.release(), std::string(e->path));
    LimitedStream content(*file, e->size, std::string(e->path));
    fn(*e, content);
  }
}

}  // namespace

std::unique_ptr<ByteStream> open_decompressed(std::unique_ptr<ByteStream> blob) {
  return std::make_unique<DecompressedStream>(std::move(blob));
}

void read_entries(const image::ImageSource& source, const scan::LayerIndex& layer,
                  std::span<const scan::Entry* const> entries, const EntryContentFn& fn) {
  if (entries.empty()) return;
  std::vector<const scan::Entry*> sorted(entries.begin(), entries.end());
  std::stable_sort(sorted.begin(), sorted.end(), [](const scan::Entry* a, const scan::Entry* b) {
    return a->data_offset < b->data_offset;
  });
  with_context(scan::layer_context(layer.index, layer.desc.digest), [&] {
    if (auto dir = source.layer_dir(layer.index)) return read_from_dir(*dir, sorted, fn);
    auto stream = open_decompressed(source.open_layer(layer.index));
    uint64_t pos = 0;
    for (const scan::Entry* e : sorted) {
      if (e->sparse) {
        // Its content is not at data_offset: a second parse of the layer expands it (rare).
        CORONER_CHECK(e->type == scan::FileType::kRegular);
        auto sparse = scan::open_sparse_entry(source, layer, *e);
        LimitedStream content(*sparse, e->size, std::string(e->path));
        fn(*e, content);
        continue;
      }
      CORONER_CHECK(e->type == scan::FileType::kRegular && e->data_offset >= pos);
      skip(*stream, e->data_offset - pos, stream->name());
      LimitedStream content(*stream, e->size, std::string(e->path));
      fn(*e, content);
      skip(content, content.remaining(), std::string(e->path));
      pos = e->data_offset + e->size;
    }
  });
}

}  // namespace coroner::explore
