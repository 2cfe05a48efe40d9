// Writers of a merged root: a tar (libarchive's write API, pax) and a directory. They take one
// file at a time, metadata plus content; export.cc decides the order (parents first, files
// streamed per layer, hardlinks after their target). The directory writer never writes outside
// its root: every path is created relative to directory descriptors opened component by
// component with O_NOFOLLOW, so a symlink, even one the export itself created ("a -> /" and then
// "a/x"), is never followed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/stream.h"
#include "scan/layer_index.h"

namespace coroner::explore {

// One file of the merged root.
struct ExportItem {
  std::string path;  // relative and normalised ("etc/passwd"); "." is the root
  scan::FileType type = scan::FileType::kRegular;
  uint32_t mode = 0;  // 07777
  uint32_t uid = 0, gid = 0;
  std::string uname, gname;
  int64_t mtime = 0;
  uint64_t size = 0;  // regular files
  std::string link;   // symlink: target as written; hardlink: path of the first file
  uint32_t dev_major = 0, dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
  // A sparse tar entry (scan::Entry::sparse): the directory writer leaves its runs of zeros as
  // holes, as GNU tar extracts such entries, instead of writing them out.
  bool sparse = false;
};

class ExportWriter {
 public:
  virtual ~ExportWriter() = default;
  // Requires: the parent directory was added before (except for the root's children); a
  // hardlink's target was added before. `content` is set for regular files only.
  virtual void add(const ExportItem& item, ByteStream* content) = 0;
  // Flushes; the directory writer applies directory modes and times here.
  virtual void finish() = 0;
  // What could not be reproduced (a device without root, a path under a symlink...), for the
  // user.
  virtual std::vector<std::string> notes() const = 0;
};

// A pax tar at `path` ("-": standard output).
std::unique_ptr<ExportWriter> make_tar_writer(const std::string& path);

// Files under `dir`, which must be missing or empty. Owners, special bits, devices and xattrs are
// set when `privileged` (running as root); otherwise they are left out with a note.
std::unique_ptr<ExportWriter> make_dir_writer(const std::string& dir, bool privileged);

}  // namespace coroner::explore
