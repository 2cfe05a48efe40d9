// ByteStream: a forward-only source of bytes (a blob in an archive, a file, stdin, an HTTP body).
// Sources hand these out; scan/ consumes them once. Implementations throw Error on I/O failure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace coroner {

class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to buf.size() bytes; returns 0 only at the end of the stream.
  virtual size_t read(std::span<std::byte> buf) = 0;
  // A name for messages ("blobs/sha256/1a2b…", "stdin").
  virtual std::string name() const = 0;
  // The rest of the stream as one read-only view, valid while the stream lives, and consumed
  // (read() returns 0 after it): a layer scan then reads a file from the page cache without the
  // copy of read(2). nullopt when the stream cannot (not a regular file, a small rest, a file
  // shorter than the stream says: read() reports that). The caller may madvise(MADV_DONTNEED)
  // the whole pages it is done with: the page cache keeps them, and the view stays readable. A
  // file truncated while it is mapped ends the process with SIGBUS, as it does for ripgrep or
  // git: evidence at rest is expected.
  virtual std::optional<std::span<const std::byte>> map_rest() { return std::nullopt; }
};

// Gives back the whole pages inside [begin, end), a part of a view map_rest() returned
// (madvise MADV_DONTNEED: the page cache keeps them, and the view stays readable). Returns the
// end of the last page given back, or `begin` when no page lies wholly inside.
const std::byte* drop_mapped_pages(const std::byte* begin, const std::byte* end);

// A stream over a file descriptor that the stream owns (closed on destruction).
std::unique_ptr<ByteStream> open_fd_stream(int fd, std::string name);
// A stream over a file path, or Error naming the path.
std::unique_ptr<ByteStream> open_file_stream(const std::string& path);
// A stream over a byte range [offset, offset+length) of a file; Error if the file is shorter.
std::unique_ptr<ByteStream> open_file_range_stream(const std::string& path, uint64_t offset,
                                                   uint64_t length, std::string name);
// The rest of `in`, read whole; Error "<name>: over <max> bytes, ..." when it is longer.
std::string read_all(ByteStream& in, uint64_t max);
// The whole file at `path` (a config file, a CA bundle, /proc/cpuinfo), or nullopt when it cannot
// be opened; Error naming the path when it is over `max` bytes or a read fails.
std::optional<std::string> read_small_file(const std::string& path, uint64_t max);
// A stream over bytes the stream does not own (tests, small blobs).
std::unique_ptr<ByteStream> open_memory_stream(std::span<const std::byte> data, std::string name);

}  // namespace coroner
