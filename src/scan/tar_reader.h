// TarReader: an RAII wrapper over libarchive's tar reader, fed from a LayerStream through a read
// callback (no libarchive filters: the stream is already decompressed). Maps libarchive's status
// ladder to C++: ARCHIVE_WARN becomes a note, FAILED and FATAL an Error, and an Error thrown by
// the stream inside the callback crosses libarchive's C frames as a stored exception.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "scan/layer_stream.h"

struct archive;
struct archive_entry;

namespace coroner::scan {

class TarReader {
 public:
  // Requires: `in` outlives this object.
  explicit TarReader(LayerStream& in);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next header, or nullptr at the end-of-archive marker. The entry is owned by libarchive
  // and valid until the next call. Throws Error on a corrupt or truncated archive.
  archive_entry* next();
  // The next block of the current entry's content, pointing into the stream's buffer (no copy);
  // empty at the end of the entry.
  std::span<const std::byte> read_block();
  // Offset of the current entry's content in the uncompressed stream (after next()).
  uint64_t data_offset() const { return data_offset_; }
  // Offset of the current header (for messages).
  uint64_t header_offset() const { return header_offset_; }
  // Warnings libarchive reported for the current header (ARCHIVE_WARN), already de-duplicated
  // per entry; cleared by next().
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  static long read_callback(archive* a, void* self, const void** buf);
  [[noreturn]] void fail(const char* what);

  struct Free {
    void operator()(archive* a) const;
  };

  LayerStream& in_;
  std::unique_ptr<archive, Free> owner_;  // owns a_ from its creation, also if open fails
  archive* a_;
  std::exception_ptr stream_error_;
  uint64_t data_offset_ = 0;
  uint64_t header_offset_ = 0;
  std::vector<std::string> warnings_;
};

}  // namespace coroner::scan
