// BlobStore: the named members of an image archive (a docker save tar, an OCI layout in a tar)
// or of a layout folder, read in place. A tar is indexed once with libarchive (member name ->
// offset and size in the file), so each member is then served as a byte range of the file:
// zero-copy, one file descriptor per stream, any number of streams in parallel. A tar that is
// compressed as a whole (docker save | gzip) cannot be read in place: it is decompressed once
// into an unlinked temporary file ($TMPDIR), which is then indexed the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"

namespace coroner::image {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Size of a member (after following symlinks and hardlinks in a tar), nullopt if missing.
  virtual std::optional<uint64_t> size(std::string_view name) const = 0;
  // A whole member; Error if it is missing or bigger than `max`.
  virtual std::string read(std::string_view name, uint64_t max) const = 0;
  // A stream over a member; Error if missing. Each call opens its own file descriptor.
  virtual std::unique_ptr<ByteStream> open(std::string_view name) const = 0;
  // What the store could not do directly (e.g. it decompressed the archive to a spool file).
  virtual std::vector<std::string> notes() const { return {}; }
};

// Members are files below `dir`. Requires: names are relative and have no ".." component
// (manifest.h validates member names and digests before they get here).
std::unique_ptr<BlobStore> open_dir_store(std::string dir);

// Indexes the tar at `path` (maybe compressed as a whole). Error naming the path when it is not
// a tar or is truncated.
std::unique_ptr<BlobStore> open_tar_store(std::string path);

// An unlinked temporary file in $TMPDIR (else /tmp), open for reading and writing; the caller
// owns the descriptor. Error when none can be created.
int make_spool_file();

// A stream over [offset, offset+length) of the file open at `fd`, read with pread(2) so streams
// sharing one file never disturb each other. Takes ownership of `fd`.
std::unique_ptr<ByteStream> open_pread_stream(int fd, uint64_t offset, uint64_t length,
                                              std::string name);

}  // namespace coroner::image
