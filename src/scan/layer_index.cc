#include "scan/layer_index.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <thread>

#include "base/error.h"
#include "base/text.h"
#include "scan/index_builder.h"
#include "scan/layer_stream.h"
#include "scan/rootfs.h"
#include "scan/tar_reader.h"

namespace coroner::scan {

std::string_view StringArena::add(std::string_view s) {
  if (s.empty()) return {};
  // Big strings get a block of their own, so they do not waste the rest of the current one.
  if (s.size() > kBlock / 4) {
    char* p = blocks_.emplace_back(new char[s.size()]).get();
    std::memcpy(p, s.data(), s.size());
    allocated_ += s.size();
    // Keep filling the current block: move the big one before it.
    if (blocks_.size() > 1) std::swap(blocks_[blocks_.size() - 1], blocks_[blocks_.size() - 2]);
    return {p, s.size()};
  }
  if (used_ + s.size() > kBlock) {
    blocks_.emplace_back(new char[kBlock]);
    allocated_ += kBlock;
    used_ = 0;
  }
  char* p = blocks_.back().get() + used_;
  std::memcpy(p, s.data(), s.size());
  used_ += s.size();
  return {p, s.size()};
}

namespace {

void scan_tar(LayerStream& stream, IndexBuilder& builder, LayerIndex& out,
              const ScanOptions& options, const std::function<void()>& tick) {
  // An empty stream is an empty layer (Go's archive/tar reads it so); libarchive would call it
  // an unrecognised format.
  if (stream.at_end()) return;
  TarScanner tar(stream, options.tar_fast_path);
  // Holes of sparse files expand to zeros: bounded like the stream itself, and tighter.
  tar.limit_holes(std::min(options.max_sparse_holes, options.max_uncompressed));
  RawEntry raw;
  while (tar.next(raw)) {
    for (const std::string& w : tar.warnings()) builder.note(escape(raw.name) + ": " + w);
    int64_t i = builder.add(raw);
    if (i >= 0 && tar.sparse()) out.entries[static_cast<size_t>(i)].sparse = true;
    std::span<const std::byte> view = i >= 0 ? tar.content_view() : std::span<const std::byte>();
    builder.sniff(
        i, [&] { return tar.read_block(); },
        [&](std::span<std::byte> rest) { tar.read_rest_into(rest); }, view);
    tick();
  }
  if (!tar.end_note().empty()) builder.note(tar.end_note());
}

void verify_digests(LayerStream& stream, const image::LayerDesc& desc, LayerIndex& out) {
  std::string blob = stream.blob_digest();
  out.diff_id = stream.diff_id();
  if (!desc.digest.empty() && desc.digest != blob) {
    throw Error("digest mismatch: manifest says " + escape(desc.digest) + ", blob is " + blob);
  }
  if (!desc.diff_id.empty() && desc.diff_id != out.diff_id) {
    throw Error("diff_id mismatch: config says " + escape(desc.diff_id) +
                ", uncompressed layer is " + out.diff_id);
  }
}

}  // namespace

std::string layer_context(uint32_t index, std::string_view digest) {
  std::string s = "layer " + std::to_string(index);
  if (digest.empty()) return s;
  // "sha256:" and 12 hex digits identify a layer for a human, as docker history shows them.
  size_t colon = digest.find(':');
  size_t keep = colon == std::string_view::npos ? 12 : colon + 1 + 12;
  s += " (" + escape(digest.substr(0, keep));
  if (digest.size() > keep) s += "…";
  return s + ")";
}

LayerIndex scan_layer(ByteStream& blob, const image::LayerDesc& desc, uint32_t index,
                      const ScanOptions& options) {
  LayerIndex out;
  out.index = index;
  out.desc = desc;
  with_context(layer_context(index, desc.digest), [&] {
    LayerStream stream(blob, options.verify, options.max_uncompressed);
    out.compression = stream.compression();
    IndexBuilder builder(out, options);
    // Progress, throttled per layer (one entry can be a whole big file: no finer grain).
    auto last = std::chrono::steady_clock::now();
    auto tick = [&] {
      if (!options.progress) return;
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(100)) return;
      last = now;
      options.progress(index, stream.compressed_bytes());
    };
    scan_tar(stream, builder, out, options, tick);
    // The digests cover the whole blob, also what follows the end-of-archive marker.
    stream.drain();
    builder.finish();
    out.compressed_bytes = stream.compressed_bytes();
    out.uncompressed_bytes = stream.uncompressed_bytes();
    if (options.verify) verify_digests(stream, desc, out);
  });
  if (options.progress) options.progress(index, out.compressed_bytes);
  return out;
}

std::vector<LayerIndex> scan_image(const image::ImageSource& source, const ScanOptions& options) {
  const std::vector<image::LayerDesc>& layers = source.info().layers;
  std::vector<LayerIndex> out(layers.size());
  std::vector<std::exception_ptr> errors(layers.size());
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  auto captured_total =
      options.captured_total ? options.captured_total : std::make_shared<std::atomic<uint64_t>>(0);
  auto work = [&] {
    for (size_t k; !failed && (k = next++) < layers.size();) {
      // Order: 0, n-1, n-2, ..., 1.
      size_t i = k == 0 ? 0 : layers.size() - k;
      try {
        ScanOptions o = options;
        o.captured_total = captured_total;
        if (options.content_scanner) {
          o.content_scanner = [&options, i] {
            std::unique_ptr<ContentScanner> s = options.content_scanner();
            if (s) s->set_layer(static_cast<uint32_t>(i));
            return s;
          };
        }
        if (std::optional<std::string> dir = source.layer_dir(i)) {
          out[i] = scan_folder(*dir, layers[i], static_cast<uint32_t>(i), o);
        } else {
          std::unique_ptr<ByteStream> blob = source.open_layer(i);
          out[i] = scan_layer(*blob, layers[i], static_cast<uint32_t>(i), o);
        }
        if (options.layer_scanned) options.layer_scanned(out[i]);
      } catch (...) {
        errors[i] = std::current_exception();
        failed = true;
      }
    }
  };
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(layers.size())));
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  pool.clear();  // joins
  // The error of the lowest layer, whichever thread saw its error first.
  for (std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return out;
}

namespace {

// A hardlink has no content of its own: it is the content of its target, written earlier in the
// same layer (the last such entry before it).
const Entry& content_entry(const LayerIndex& layer, const Entry& entry) {
  if (entry.type != FileType::kHardlink) return entry;
  const Entry* self = &entry;
  const Entry* first = layer.entries.data();
  bool inside = self >= first && self < first + layer.entries.size();
  size_t end = inside ? static_cast<size_t>(self - first) : layer.entries.size();
  for (size_t i = end; i-- > 0;) {
    const Entry& e = layer.entries[i];
    if (e.path == entry.link && e.whiteout == Whiteout::kNone) {
      if (e.type == FileType::kRegular) return e;
      if (e.type == FileType::kHardlink && &e != &entry) return content_entry(layer, e);
      break;
    }
  }
  throw Error(escape(entry.path) + ": hardlink target " + escape(entry.link) +
              " is not a regular file of this layer");
}

// A sparse entry's expanded content, by parsing the layer again with the scan's own TarScanner
// (the fast path included), so that data_offset finds the same entry.
class SparseEntryStream : public ByteStream {
 public:
  SparseEntryStream(std::unique_ptr<ByteStream> blob, const Entry& e)
      : blob_(std::move(blob)),
        stream_(*blob_, false, UINT64_MAX),
        tar_(stream_),
        path_(e.path),
        left_(e.size) {
    // Re-reads (cat, export, grep, verify) are bounded like the scan: an entry the scan did not
    // read may declare up to the stream's 1 TiB.
    tar_.limit_holes(kMaxSparseHoles);
    RawEntry raw;
    while (tar_.next(raw)) {
      if (raw.data_offset < e.data_offset) continue;
      if (raw.data_offset == e.data_offset && tar_.sparse() && raw.size == e.size) return;
      break;
    }
    throw Error(escape(e.path) + ": sparse entry not found when the layer is read again");
  }
  size_t read(std::span<std::byte> buf) override {
    if (pending_.empty()) pending_ = tar_.read_block();
    size_t n = std::min(buf.size(), pending_.size());
    if (n == 0 && left_ > 0 && !buf.empty()) {
      throw Error(escape(path_) + ": sparse content ends early");
    }
    std::copy_n(pending_.begin(), n, buf.begin());
    pending_ = pending_.subspan(n);
    left_ -= n;
    return n;
  }
  std::string name() const override { return path_; }

 private:
  std::unique_ptr<ByteStream> blob_;
  LayerStream stream_;
  TarScanner tar_;
  std::string path_;
  uint64_t left_;
  std::span<const std::byte> pending_;
};

}  // namespace

std::unique_ptr<ByteStream> open_sparse_entry(const image::ImageSource& source,
                                              const LayerIndex& layer, const Entry& entry) {
  CORONER_CHECK(entry.sparse);
  std::unique_ptr<ByteStream> out;
  with_context(layer_context(layer.index, layer.desc.digest), [&] {
    out = std::make_unique<SparseEntryStream>(source.open_layer(layer.index), entry);
  });
  return out;
}

void read_entry(const image::ImageSource& source, const LayerIndex& layer, const Entry& entry,
                const std::function<void(std::span<const std::byte>)>& sink) {
  with_context(layer_context(layer.index, layer.desc.digest), [&] {
    const Entry& e = content_entry(layer, entry);
    if (std::optional<std::string> dir = source.layer_dir(layer.index)) {
      read_folder_file(*dir, e.path, sink);
      return;
    }
    if (e.type != FileType::kRegular) throw Error(escape(e.path) + ": not a regular file");
    if (e.sparse) {
      auto content = std::make_unique<SparseEntryStream>(source.open_layer(layer.index), e);
      std::unique_ptr<std::byte[]> buf(new std::byte[64 * 1024]);
      for (uint64_t left = e.size; left > 0;) {
        size_t n =
            content->read({buf.get(), static_cast<size_t>(std::min<uint64_t>(left, 64 * 1024))});
        if (n == 0) throw Error(escape(e.path) + ": sparse content ends early");
        sink({buf.get(), n});
        left -= n;
      }
      return;
    }
    std::unique_ptr<ByteStream> blob = source.open_layer(layer.index);
    LayerStream stream(*blob, false, UINT64_MAX);
    auto truncated = [&] { return Error(escape(e.path) + ": layer ends inside the content"); };
    if (!stream.skip(e.data_offset)) throw truncated();
    for (uint64_t left = e.size; left > 0;) {
      std::span<const std::byte> chunk = stream.next();
      if (chunk.empty()) throw truncated();
      if (chunk.size() > left) chunk = chunk.first(static_cast<size_t>(left));
      sink(chunk);
      left -= chunk.size();
    }
  });
}

}  // namespace coroner::scan
