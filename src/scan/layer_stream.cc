#include "scan/layer_stream.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "base/digest.h"
#include "base/error.h"

namespace coroner::scan {
namespace {

constexpr size_t kChunk = LayerStream::kChunk;
// Decoded chunks are smaller than the blob reads: the ring of them stays in the L2 cache, where
// libarchive and the sniffers read them right after the decoder wrote them (measured: 1 MiB
// chunks cost zstd scans ~8% more than 256 KiB ones).
constexpr size_t kOutChunk = LayerStream::kOutChunk;
// Uncompressed chunks in flight: the one the reader holds, and up to kRing - 1 decoded ahead of
// it (which the hasher may still be reading).
constexpr size_t kRing = 4;

// Hashes chunks on a second thread, in order, so that SHA-256 (~1.8 GB/s per core with SHA-NI)
// overlaps with inflating and parsing instead of adding to them. push() returns a ticket;
// wait(ticket) returns once that chunk and all before it are hashed, so the producer knows when
// a buffer may be overwritten.
class HashPipe {
 public:
  HashPipe() : thread_([this] { run(); }) {}
  ~HashPipe() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    work_cv_.notify_one();
    thread_.join();
  }
  HashPipe(const HashPipe&) = delete;
  HashPipe& operator=(const HashPipe&) = delete;

  uint64_t push(Sha256& sha, std::span<const std::byte> data) {
    {
      std::lock_guard<std::mutex> l(mu_);
      queue_.push_back({&sha, data});
      ++pushed_;
    }
    work_cv_.notify_one();
    return pushed_;
  }
  void wait(uint64_t ticket) {
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [&] { return done_ >= ticket; });
  }
  void wait_all() {
    std::unique_lock<std::mutex> l(mu_);
    done_cv_.wait(l, [&] { return done_ >= pushed_; });
  }

 private:
  struct Job {
    Sha256* sha;
    std::span<const std::byte> data;
  };
  void run() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      work_cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      Job job = queue_.front();
      queue_.pop_front();
      l.unlock();
      job.sha->update(job.data);
      l.lock();
      ++done_;
      done_cv_.notify_one();
    }
  }

  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Job> queue_;
  uint64_t pushed_ = 0, done_ = 0;  // pushed_ is only written by the producing thread
  bool stop_ = false;
  std::thread thread_;  // last: started after the members it uses
};

// The compressed side: the blob, read in big chunks, counted and digested as it is read.
// A blob in a local file is mapped (ByteStream::map_rest) and its chunks are views of the page
// cache, with no copy. The reader stays at most kMapLag chunks ahead of the hasher, and the pages
// both are done with are unmapped as it goes (madvise MADV_DONTNEED: the page cache keeps them),
// so the process maps a few MiB of the blob at a time, not the whole of it. Otherwise chunks
// rotate through kSlots buffers, so that the next chunk is read while the hasher still digests
// the one before (with a single buffer, reading and hashing took turns: each thread of a plain
// layer sat idle half the time).
struct Input {
  static constexpr size_t kSlots = 3;
  static constexpr size_t kMapLag = 8;
  explicit Input(ByteStream& b) : blob(b), map(b.map_rest()) {
    if (!map) slots[0].reset(new std::byte[kChunk]);
  }
  ByteStream& blob;
  std::optional<std::span<const std::byte>> map;  // the mapped blob, or nullopt
  size_t map_pos = 0;                             // bytes of `map` handed out
  const std::byte* view = nullptr;                // mapped: the current chunk
  // Mapped: the hash ticket and the end of the last kMapLag pieces taken, round robin, and the
  // bytes of `map` unmapped so far.
  uint64_t lag_ticket[kMapLag] = {};
  size_t lag_end[kMapLag] = {};
  size_t lag_next = 0;
  size_t unmapped = 0;
  std::unique_ptr<std::byte[]> slots[kSlots];
  uint64_t tickets[kSlots] = {};  // of the last hash job on each slot
  size_t slot = 0;
  size_t len = 0;
  bool eof = false;
  std::atomic<uint64_t> bytes{0};  // written by the decoding thread, read for progress
  Sha256* sha = nullptr;           // the blob digest, when digesting
  HashPipe* pipe = nullptr;

  // The current chunk (valid until the kSlots-th refill() from now; mapped: while the blob lives).
  const std::byte* buf() const { return map ? view : slots[slot].get(); }
  // Moves to the next buffer and fills it with the next chunk; false at the end of the blob.
  bool refill() {
    if (eof) {
      len = 0;
      return false;
    }
    if (map) {
      len = 0;
      return append();
    }
    slot = (slot + 1) % kSlots;
    if (!slots[slot]) slots[slot].reset(new std::byte[kChunk]);
    if (pipe) pipe->wait(tickets[slot]);  // the hasher may still read the slot's old chunk
    len = 0;
    return append();
  }
  // Appends what the next read returns to the buffer; false at the end of the blob.
  bool append() {
    if (eof) return false;
    std::span<const std::byte> got;
    if (map) {
      if (len == 0) view = map->data() + map_pos;  // the chunk grows over the mapping
      got = take_mapped(kChunk - len);
    } else {
      std::span<std::byte> room(slots[slot].get() + len, kChunk - len);
      got = room.first(blob.read(room));
    }
    uint64_t ticket = consumed(got);
    if (got.empty()) return false;
    if (map) {
      mapped_taken(ticket);
    } else {
      tickets[slot] = ticket;
    }
    len += got.size();
    return true;
  }
  // Copies up to dst.size() next bytes of the blob into `dst` (digested); 0 at the end.
  size_t read_into(std::span<std::byte> dst) {
    if (eof) return 0;
    std::span<const std::byte> got;
    if (map) {
      got = take_mapped(dst.size());
      std::memcpy(dst.data(), got.data(), got.size());
    } else {
      got = dst.first(blob.read(dst));
    }
    uint64_t ticket = consumed(got);
    if (map && !got.empty()) mapped_taken(ticket);
    return got.size();
  }

 private:
  // The next up to `n` bytes of the mapping, once the hasher is done with the piece taken
  // kMapLag pieces ago; the whole pages before that piece's end are unmapped.
  std::span<const std::byte> take_mapped(size_t n) {
    size_t oldest = lag_next % kMapLag;
    if (pipe != nullptr && lag_ticket[oldest] != 0) pipe->wait(lag_ticket[oldest]);
    unmap_before(lag_end[oldest]);
    std::span<const std::byte> got = map->subspan(map_pos, std::min(n, map->size() - map_pos));
    map_pos += got.size();
    return got;
  }
  void mapped_taken(uint64_t ticket) {
    lag_ticket[lag_next % kMapLag] = ticket;
    lag_end[lag_next % kMapLag] = map_pos;
    ++lag_next;
  }
  void unmap_before(size_t end) {
    const std::byte* base = map->data();
    unmapped = static_cast<size_t>(drop_mapped_pages(base + unmapped, base + end) - base);
  }
  // Counts and digests bytes just read (empty: the end of the blob); the hash job's ticket.
  uint64_t consumed(std::span<const std::byte> got) {
    if (got.empty()) {
      eof = true;
      return 0;
    }
    bytes += got.size();
    return sha ? pipe->push(*sha, got) : 0;
  }
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // The next uncompressed chunk, decoded into `out` (kOutChunk bytes) unless the decoder needs no
  // buffer of its own; empty at the end of the stream.
  virtual std::span<const std::byte> next(Input& in, std::byte* out) = 0;
};

// Plain tar: the blob's own chunks, handed on without a copy.
class PlainDecoder : public Decoder {
 public:
  std::span<const std::byte> next(Input& in, std::byte*) override {
    if (!first_ && !in.refill()) return {};
    first_ = false;
    return {in.buf(), in.len};
  }

 private:
  bool first_ = true;  // the sniffed first chunk is already in the buffer
};

std::string isal_error(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported gzip method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC-32 or size in the gzip trailer does not match";
    default:
      return "isal_inflate error " + std::to_string(r);
  }
}

// gzip with ISA-L. crc_flag = ISAL_GZIP makes isal_inflate parse each member's header itself
// and check the CRC-32 and ISIZE of its trailer (ISAL_INCORRECT_CHECKSUM otherwise), so a
// corrupt member is an error, as with gzip -t. Members are concatenated (RFC 1952 2.2; pigz and
// some registries write several); NUL padding after the last member is tolerated, as GNU gzip
// does, and anything else after it is an error.
class GzipDecoder : public Decoder {
 public:
  explicit GzipDecoder(Input& in) {
    start_member();
    st_.next_in = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(in.buf()));
    st_.avail_in = static_cast<uint32_t>(in.len);
  }

  std::span<const std::byte> next(Input& in, std::byte* out) override {
    for (;;) {
      if (done_) return {};
      if (st_.block_state == ISAL_BLOCK_FINISH && !next_member(in)) {
        done_ = true;
        return {};
      }
      if (st_.avail_in == 0) {
        if (!in.refill()) throw Error("gzip: truncated stream (it ends inside a member)");
        set_input(in);
      }
      st_.next_out = reinterpret_cast<uint8_t*>(out);
      st_.avail_out = static_cast<uint32_t>(kOutChunk);
      int r = isal_inflate(&st_);
      if (r != ISAL_DECOMP_OK) {
        throw Error("gzip: member " + std::to_string(members_) + ": " + isal_error(r));
      }
      size_t n = kOutChunk - st_.avail_out;
      if (n > 0) return {out, n};
    }
  }

 private:
  void start_member() {
    isal_inflate_init(&st_);
    st_.crc_flag = ISAL_GZIP;
    ++members_;
  }
  void set_input(Input& in) {
    st_.next_in = const_cast<uint8_t*>(reinterpret_cast<const uint8_t*>(in.buf()));
    st_.avail_in = static_cast<uint32_t>(in.len);
  }
  // After a member ended: true if another one follows (and is started).
  bool next_member(Input& in) {
    for (;;) {
      while (st_.avail_in > 0 && *st_.next_in == 0) {
        ++st_.next_in;
        --st_.avail_in;
        padded_ = true;
      }
      if (st_.avail_in > 0) break;
      if (!in.refill()) return false;
      set_input(in);
    }
    if (padded_ || *st_.next_in != 0x1f) {
      throw Error("gzip: unexpected data after member " + std::to_string(members_) +
                  " (not a gzip member)");
    }
    uint8_t* next_in = st_.next_in;
    uint32_t avail_in = st_.avail_in;
    start_member();
    st_.next_in = next_in;
    st_.avail_in = avail_in;
    return true;
  }

  inflate_state st_;
  uint64_t members_ = 0;
  bool padded_ = false;
  bool done_ = false;
};

// zstd with libzstd's streaming API, which decodes consecutive frames (and skips skippable
// frames) by itself. The stream is complete only when the last call returned 0 (end of frame).
class ZstdDecoder : public Decoder {
 public:
  explicit ZstdDecoder(Input& in) : ds_(ZSTD_createDStream()) {
    CORONER_CHECK(ds_ != nullptr);
    in_ = {in.buf(), in.len, 0};
  }
  ~ZstdDecoder() override { ZSTD_freeDStream(ds_); }
  ZstdDecoder(const ZstdDecoder&) = delete;
  ZstdDecoder& operator=(const ZstdDecoder&) = delete;

  std::span<const std::byte> next(Input& in, std::byte* out_buf) override {
    for (;;) {
      if (in_.pos == in_.size && !flush_) {
        if (!in.refill()) {
          if (last_ != 0) throw Error("zstd: truncated stream (it ends inside a frame)");
          return {};
        }
        in_ = {in.buf(), in.len, 0};
      }
      ZSTD_outBuffer out{out_buf, kOutChunk, 0};
      size_t r = ZSTD_decompressStream(ds_, &out, &in_);
      if (ZSTD_isError(r)) throw Error(std::string("zstd: ") + ZSTD_getErrorName(r));
      last_ = r;
      // A full output buffer may leave decoded bytes inside zstd: call again before reading.
      flush_ = out.pos == out.size;
      if (out.pos > 0) return {out_buf, out.pos};
    }
  }

 private:
  ZSTD_DStream* ds_;
  ZSTD_inBuffer in_{};
  size_t last_ = 1;
  bool flush_ = false;
};

bool has_prefix(const Input& in, std::string_view magic) {
  return in.len >= magic.size() && std::memcmp(in.buf(), magic.data(), magic.size()) == 0;
}

}  // namespace

// gzip and zstd are decoded on a thread of their own, up to kRing - 1 chunks ahead of the reader,
// so that inflating overlaps with parsing and sniffing instead of adding to them: on a big
// image, inflating the bottom layer is the critical path of the whole scan. Plain tar needs no
// decoding and is read on the reader's thread.
struct LayerStream::State {
  explicit State(ByteStream& blob) : in(blob) {}
  ~State() {
    if (!decoder_thread.joinable()) return;
    {
      std::lock_guard<std::mutex> l(mu);
      stop = true;
    }
    freed_cv.notify_one();
    decoder_thread.join();  // before `pipe`, to which it pushes, and the buffers go away
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;

  void decode_ahead();
  std::span<const std::byte> take();

  Input in;
  std::unique_ptr<Decoder> decoder;
  image::Compression compression = image::Compression::kNone;
  std::optional<Sha256> blob_sha;
  std::optional<Sha256> diff_sha;  // gzip and zstd only: for plain tar the blob is the diff
  // Output buffers of gzip and zstd, reused round robin once the reader and the hasher are done
  // with them.
  std::unique_ptr<std::byte[]> ring[kRing];
  uint64_t ring_ticket[kRing] = {};  // the decoding thread's alone
  uint64_t uncompressed = 0;
  uint64_t max_uncompressed = 0;
  std::span<const std::byte> pending;  // the rest of a chunk that skip() stopped in
  std::string blob_hex, diff_hex;      // set once finished
  std::unique_ptr<HashPipe> pipe;      // its thread stops before the buffers it reads go away

  // Between the decoding thread and the reader, under `mu`.
  std::mutex mu;
  std::condition_variable filled_cv, freed_cv;
  std::span<const std::byte> chunks[kRing];  // chunk k is in slot k % kRing
  uint64_t produced = 0;  // chunks decoded; the last one is empty, at the end of the stream
  uint64_t taken = 0;     // chunks take() returned; the reader still holds chunk taken - 1
  bool failed = false;    // the decoder threw `error`
  bool stop = false;      // the reader is gone
  std::exception_ptr error;
  std::thread decoder_thread;  // last: started once everything it uses is built
};

void LayerStream::State::decode_ahead() {
  try {
    for (uint64_t k = 0;; ++k) {
      size_t slot = k % kRing;
      {
        // Slot k is free once the reader took chunk k - kRing + 1, and so let go of the one
        // before it, chunk k - kRing.
        std::unique_lock<std::mutex> l(mu);
        freed_cv.wait(l, [&] { return stop || k + 1 < taken + kRing; });
        if (stop) return;
      }
      if (diff_sha) pipe->wait(ring_ticket[slot]);  // the hasher may still read the old chunk
      std::span<const std::byte> chunk = decoder->next(in, ring[slot].get());
      if (diff_sha && !chunk.empty()) ring_ticket[slot] = pipe->push(*diff_sha, chunk);
      {
        std::lock_guard<std::mutex> l(mu);
        chunks[slot] = chunk;
        ++produced;
      }
      filled_cv.notify_one();
      if (chunk.empty()) return;
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> l(mu);
      error = std::current_exception();
      failed = true;
    }
    filled_cv.notify_one();
  }
}

std::span<const std::byte> LayerStream::State::take() {
  std::unique_lock<std::mutex> l(mu);
  filled_cv.wait(l, [&] { return produced > taken || failed; });
  if (produced == taken) std::rethrow_exception(error);
  std::span<const std::byte> chunk = chunks[taken % kRing];
  if (chunk.empty()) return chunk;  // the end, for this call and every later one
  ++taken;
  l.unlock();
  freed_cv.notify_one();
  return chunk;
}

LayerStream::LayerStream(ByteStream& blob, bool digest, uint64_t max_uncompressed)
    : s_(std::make_unique<State>(blob)) {
  s_->max_uncompressed = max_uncompressed;
  if (digest) {
    s_->pipe = std::make_unique<HashPipe>();
    s_->blob_sha.emplace();
    s_->in.sha = &*s_->blob_sha;
    s_->in.pipe = s_->pipe.get();
  }
  // Sniff: read until 6 bytes (the longest magic) or the end.
  while (s_->in.len < 6 && s_->in.append()) {
  }
  Input& in = s_->in;
  if (has_prefix(in, "\x1f\x8b")) {
    s_->compression = image::Compression::kGzip;
    s_->decoder = std::make_unique<GzipDecoder>(in);
  } else if (has_prefix(in, "\x28\xb5\x2f\xfd")) {
    s_->compression = image::Compression::kZstd;
    s_->decoder = std::make_unique<ZstdDecoder>(in);
  } else if (has_prefix(in, "BZh") || has_prefix(in, std::string_view("\xfd"
                                                                      "7zXZ\0",
                                                                      6))) {
    throw Error(std::string("unsupported compression ") +
                (in.buf()[0] == std::byte{'B'} ? "bzip2" : "xz") +
                ": layers must be gzip, zstd or plain tar (OCI image-spec)");
  } else {
    s_->decoder = std::make_unique<PlainDecoder>();
  }
  if (s_->compression != image::Compression::kNone) {
    for (auto& b : s_->ring) b.reset(new std::byte[kOutChunk]);
    if (digest) s_->diff_sha.emplace();
    s_->decoder_thread = std::thread([s = s_.get()] { s->decode_ahead(); });
  }
}

LayerStream::~LayerStream() = default;

image::Compression LayerStream::compression() const { return s_->compression; }
uint64_t LayerStream::compressed_bytes() const { return s_->in.bytes; }
uint64_t LayerStream::uncompressed_bytes() const { return s_->uncompressed; }

std::span<const std::byte> LayerStream::next() {
  if (!s_->pending.empty()) return std::exchange(s_->pending, {});
  State& s = *s_;
  std::span<const std::byte> chunk =
      s.decoder_thread.joinable() ? s.take() : s.decoder->next(s.in, nullptr);
  s.uncompressed += chunk.size();
  // The decoding thread is at most kRing chunks past this check, so a bomb stays bounded.
  if (s.uncompressed > s.max_uncompressed) {
    throw Error("uncompressed size passes the limit of " + std::to_string(s.max_uncompressed) +
                " bytes (a compression bomb?)");
  }
  return chunk;
}

bool LayerStream::at_end() {
  if (!s_->pending.empty()) return false;
  s_->pending = next();
  return s_->pending.empty();
}

bool LayerStream::skip(uint64_t n) {
  while (n > 0) {
    std::span<const std::byte> chunk = next();
    if (chunk.empty()) return false;
    if (chunk.size() > n) {
      s_->pending = chunk.subspan(n);
      return true;
    }
    n -= chunk.size();
  }
  return true;
}

void LayerStream::drain() {
  while (!next().empty()) {
  }
}

std::span<const std::byte> LayerStream::kept(const std::byte* at, uint64_t n) const {
  const State& s = *s_;
  if (s.compression != image::Compression::kNone || !s.in.map) return {};
  uintptr_t begin = reinterpret_cast<uintptr_t>(s.in.map->data());
  uintptr_t end = begin + s.in.map->size(), p = reinterpret_cast<uintptr_t>(at);
  if (p < begin || p > end || n > end - p) return {};
  return {at, static_cast<size_t>(n)};
}

bool LayerStream::can_read_direct() const {
  return s_->compression == image::Compression::kNone && s_->pending.empty();
}

size_t LayerStream::read_direct(std::span<std::byte> dst) {
  CORONER_CHECK(can_read_direct());
  State& s = *s_;
  size_t total = 0;
  while (total < dst.size()) {
    // Pieces of kChunk: the hasher starts on the first while the next ones are read.
    size_t n = s.in.read_into(dst.subspan(total, std::min(dst.size() - total, kChunk)));
    if (n == 0) break;
    s.uncompressed += n;
    total += n;
    if (s.uncompressed > s.max_uncompressed) {
      throw Error("uncompressed size passes the limit of " + std::to_string(s.max_uncompressed) +
                  " bytes (a compression bomb?)");
    }
  }
  return total;
}

void LayerStream::sync() {
  if (s_->pipe) s_->pipe->wait_all();
}

std::string LayerStream::blob_digest() {
  CORONER_CHECK(s_->blob_sha.has_value());
  s_->pipe->wait_all();
  if (s_->blob_hex.empty()) s_->blob_hex = s_->blob_sha->finish();
  return s_->blob_hex;
}

std::string LayerStream::diff_id() {
  if (s_->compression == image::Compression::kNone) return blob_digest();
  CORONER_CHECK(s_->diff_sha.has_value());
  s_->pipe->wait_all();
  if (s_->diff_hex.empty()) s_->diff_hex = s_->diff_sha->finish();
  return s_->diff_hex;
}

}  // namespace coroner::scan
