// LayerStream: a layer blob as a stream of uncompressed chunks. The compression is sniffed from
// the first bytes (1f 8b gzip, 28 b5 2f fd zstd, else plain tar), never from a name or a media
// type. gzip goes through ISA-L's isal_inflate and zstd through ZSTD_decompressStream, both in
// process and streaming, on a thread of their own that decodes a few chunks ahead of the reader.
// While streaming, the blob digest (compressed bytes) and the diff_id (uncompressed bytes) are
// computed in the same pass on another thread, and the uncompressed size is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/stream.h"
#include "image/source.h"

namespace coroner::scan {

class LayerStream {
 public:
  static constexpr size_t kChunk = 1 << 20;       // blob reads: big, to keep syscalls few
  static constexpr size_t kOutChunk = 256 << 10;  // decoded chunks: big, but L2-resident

  // Requires: `blob` outlives this object. Reads the first bytes to sniff the compression.
  LayerStream(ByteStream& blob, bool digest, uint64_t max_uncompressed);
  ~LayerStream();
  LayerStream(const LayerStream&) = delete;
  LayerStream& operator=(const LayerStream&) = delete;

  image::Compression compression() const;

  // The next chunk of uncompressed bytes, valid until the next call; empty only at the end of
  // the stream. Throws Error on a corrupt or truncated stream and when the uncompressed size
  // passes max_uncompressed.
  std::span<const std::byte> next();
  // True when the uncompressed stream has no bytes left (reads ahead one chunk if needed).
  bool at_end();
  // Skips `n` uncompressed bytes (still digested); false if the stream ends first.
  bool skip(uint64_t n);
  // Reads to the end (digesting and checking what is left, e.g. tar padding after the
  // end-of-archive marker).
  void drain();

  // Direct reads, for big contents the scan keeps whole (ELF files): the bytes go from the blob
  // straight into the caller's buffer, without the copy out of a chunk. Only for uncompressed
  // streams, and only once the last chunk next() returned is used up (nothing pending).
  bool can_read_direct() const;
  // Reads up to dst.size() bytes into `dst` (digested and counted like next()); 0 at the end.
  // Requires: can_read_direct(); `dst` stays unchanged until sync() returns.
  size_t read_direct(std::span<std::byte> dst);
  // Waits until the digests have seen every byte read so far.
  void sync();

  // The `n` bytes at `at`, when they are bytes of a chunk next() returned from a mapped plain
  // blob (ByteStream::map_rest) and the blob holds all `n` of them: they stay readable at the same
  // address until this object is destroyed, not only until the next call. Empty otherwise.
  std::span<const std::byte> kept(const std::byte* at, uint64_t n) const;

  uint64_t compressed_bytes() const;
  uint64_t uncompressed_bytes() const;
  // "sha256:…" of the blob and of the uncompressed stream. Requires: the stream was read to the
  // end and was built with digest = true.
  std::string blob_digest();
  std::string diff_id();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace coroner::scan
