// The tar ExportWriter: pax (restricted: a pax header only where ustar cannot hold a field, as
// Docker writes layers) with uid/gid, uname/gname, the full mode, mtime, xattrs, devices, fifos,
// symlinks and hardlinks.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/text.h"
#include "explore/fd.h"
#include "explore/writer.h"

namespace coroner::explore {
namespace {

using scan::FileType;

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

mode_t file_type_bits(FileType t) {
  switch (t) {
    case FileType::kRegular:
    case FileType::kHardlink:
      return AE_IFREG;
    case FileType::kDirectory:
      return AE_IFDIR;
    case FileType::kSymlink:
      return AE_IFLNK;
    case FileType::kCharDevice:
      return AE_IFCHR;
    case FileType::kBlockDevice:
      return AE_IFBLK;
    case FileType::kFifo:
      return AE_IFIFO;
    case FileType::kSocket:
      return AE_IFSOCK;
  }
  return AE_IFREG;
}

class TarWriter : public ExportWriter {
 public:
  explicit TarWriter(const std::string& path) : a_(archive_write_new()), name_(path) {
    CORONER_CHECK(a_ != nullptr);
    archive_write_set_format_pax_restricted(a_.get());
    // SCHILY.xattr records only, as Docker and Go's archive/tar write and read them.
    archive_write_set_format_option(a_.get(), "pax", "xattrheader", "SCHILY");
    archive_write_set_bytes_in_last_block(a_.get(), 1);
    if (path == "-") {
      check(archive_write_open_fd(a_.get(), STDOUT_FILENO));
      return;
    }
    fd_ = UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd_) throw Error("cannot create " + escape(path) + ": " + std::strerror(errno));
    check(archive_write_open_fd(a_.get(), fd_.get()));
  }

  void add(const ExportItem& item, ByteStream* content) override {
    if (item.path == "." || item.path.empty()) return;  // docker export has no "./" entry
    if (item.type == FileType::kSocket) {
      notes_.push_back("/" + escape(item.path) + ": socket left out (tar cannot hold one)");
      return;
    }
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    std::string name = item.path + (item.type == FileType::kDirectory ? "/" : "");
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), file_type_bits(item.type));
    archive_entry_set_perm(e.get(), item.mode & 07777);
    archive_entry_set_uid(e.get(), item.uid);
    archive_entry_set_gid(e.get(), item.gid);
    if (!item.uname.empty()) archive_entry_copy_uname(e.get(), item.uname.c_str());
    if (!item.gname.empty()) archive_entry_copy_gname(e.get(), item.gname.c_str());
    archive_entry_set_mtime(e.get(), item.mtime, 0);
    for (const auto& [key, value] : item.xattrs) {
      archive_entry_xattr_add_entry(e.get(), key.c_str(), value.data(), value.size());
    }
    switch (item.type) {
      case FileType::kRegular:
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(item.size));
        break;
      case FileType::kSymlink:
        archive_entry_copy_symlink(e.get(), item.link.c_str());
        break;
      case FileType::kHardlink:
        archive_entry_copy_hardlink(e.get(), item.link.c_str());
        archive_entry_set_size(e.get(), 0);
        break;
      case FileType::kCharDevice:
      case FileType::kBlockDevice:
        archive_entry_set_rdevmajor(e.get(), item.dev_major);
        archive_entry_set_rdevminor(e.get(), item.dev_minor);
        break;
      default:
        break;
    }
    check(archive_write_header(a_.get(), e.get()));
    if (item.type == FileType::kRegular && content) copy(*content, item);
  }

  void finish() override {
    check(archive_write_close(a_.get()));
    if (fd_ && ::close(fd_.release()) != 0) {
      throw Error("cannot write " + escape(name_) + ": " + std::strerror(errno));
    }
  }

  std::vector<std::string> notes() const override { return notes_; }

 private:
  void copy(ByteStream& content, const ExportItem& item) {
    std::array<std::byte, 128 * 1024> buf;
    uint64_t written = 0;
    while (size_t n = content.read(buf)) {
      if (archive_write_data(a_.get(), buf.data(), n) < 0) check(ARCHIVE_FATAL);
      written += n;
    }
    CORONER_CHECK(written == item.size);
  }
  void check(int r) {
    if (r >= ARCHIVE_WARN) return;
    const char* msg = archive_error_string(a_.get());
    throw Error("writing " + escape(name_) + ": " + (msg ? msg : "libarchive error"));
  }

  std::unique_ptr<archive, WriteFree> a_;
  UniqueFd fd_;
  std::string name_;
  std::vector<std::string> notes_;
};

}  // namespace

std::unique_ptr<ExportWriter> make_tar_writer(const std::string& path) {
  return std::make_unique<TarWriter>(path);
}

}  // namespace coroner::explore
