// The directory ExportWriter. Every file is created with the *at() calls relative to a
// descriptor of its parent, which is opened from the export root one component at a time with
// O_NOFOLLOW|O_DIRECTORY: a symlink in the way, whoever created it, makes the open fail instead
// of leading out of the root. Files are created with O_EXCL, so nothing that already exists is
// written through. Directory modes and times are applied last, deepest first, so that a 0555
// directory can still be filled and its mtime is not changed by its children.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
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

std::pair<std::string_view, std::string> split_parent(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {"", std::string(path)};
  return {path.substr(0, slash), std::string(path.substr(slash + 1))};
}

class DirWriter : public ExportWriter {
 public:
  DirWriter(const std::string& dir, bool privileged) : dir_(dir), privileged_(privileged) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      throw Error("cannot create " + escape(dir) + ": " + std::strerror(errno));
    }
    root_ = open_dir(dir);
    if (!is_empty(root_.get())) {
      throw Error(escape(dir) + ": not empty; export --dir needs a new or empty directory");
    }
  }

  void add(const ExportItem& item, ByteStream* content) override {
    if (item.path == "." || item.path.empty()) {
      dirs_.push_back(item);
      return;
    }
    auto [parent_path, name] = split_parent(item.path);
    UniqueFd parent = open_dir_beneath(root_.get(), parent_path);
    if (!parent || name == "." || name == "..") {
      skip(item, "its parent is not a directory of the export (a symlink or a file is in the way)");
      return;
    }
    switch (item.type) {
      case FileType::kDirectory:
        make_dir(parent.get(), name, item);
        break;
      case FileType::kRegular:
        make_file(parent.get(), name, item, content);
        break;
      case FileType::kSymlink:
        make_symlink(parent.get(), name, item);
        break;
      case FileType::kHardlink:
        make_hardlink(parent.get(), name, item);
        break;
      case FileType::kCharDevice:
      case FileType::kBlockDevice:
      case FileType::kFifo:
        make_node(parent.get(), name, item);
        break;
      case FileType::kSocket:
        skip(item, "a socket cannot be created by an export");
        break;
    }
  }

  void finish() override {
    // Deepest first, so a read-only parent is still writable while its children get theirs.
    std::sort(dirs_.begin(), dirs_.end(), [](const ExportItem& a, const ExportItem& b) {
      return std::count(a.path.begin(), a.path.end(), '/') >
             std::count(b.path.begin(), b.path.end(), '/');
    });
    for (const ExportItem& d : dirs_) {
      UniqueFd fd = open_dir_beneath(root_.get(), d.path);
      if (!fd) continue;
      set_metadata(fd.get(), d);
    }
  }

  std::vector<std::string> notes() const override { return notes_; }

 private:
  static bool is_empty(int fd) {
    UniqueFd dup(::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    DIR* d = ::fdopendir(dup.release());
    if (!d) return false;
    bool empty = true;
    while (dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) empty = false;
    }
    ::closedir(d);
    return empty;
  }

  void skip(const ExportItem& item, std::string_view why) {
    notes_.push_back("/" + escape(item.path) + ": not written: " + std::string(why));
  }
  void fail(const ExportItem& item, std::string_view what) {
    throw Error(escape(dir_) + "/" + escape(item.path) + ": " + std::string(what) + ": " +
                std::strerror(errno));
  }

  void make_dir(int parent, const std::string& name, const ExportItem& item) {
    if (::mkdirat(parent, name.c_str(), 0700) != 0) {
      if (errno != EEXIST) fail(item, "mkdir");
      struct stat st;
      if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
        skip(item, "a non-directory of the same path was written before");
        return;
      }
    }
    dirs_.push_back(item);
  }

  void make_file(int parent, const std::string& name, const ExportItem& item, ByteStream* content) {
    UniqueFd fd(
        ::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) fail(item, "create");
    if (content) {
      std::array<std::byte, 128 * 1024> buf;
      while (size_t n = content->read(buf)) {
        if (item.sparse) {
          write_sparse(fd.get(), std::span(buf).first(n), item);
        } else {
          write_all(fd.get(), std::span(buf).first(n), item);
        }
      }
      // A trailing hole: the size comes from the file's end, not from a write.
      if (item.sparse && ::ftruncate(fd.get(), static_cast<off_t>(item.size)) != 0) {
        fail(item, "truncate");
      }
    }
    set_metadata(fd.get(), item);
  }

  // Writes `data` 4 KiB at a time, seeking over the pieces that are all zeros (holes).
  void write_sparse(int fd, std::span<const std::byte> data, const ExportItem& item) {
    constexpr size_t kPiece = 4096;
    while (!data.empty()) {
      std::span<const std::byte> piece = data.first(std::min(kPiece, data.size()));
      bool zero = piece[0] == std::byte{0} &&
                  std::memcmp(piece.data(), piece.data() + 1, piece.size() - 1) == 0;
      if (zero) {
        if (::lseek(fd, static_cast<off_t>(piece.size()), SEEK_CUR) < 0) fail(item, "seek");
      } else {
        write_all(fd, piece, item);
      }
      data = data.subspan(piece.size());
    }
  }

  void write_all(int fd, std::span<const std::byte> data, const ExportItem& item) {
    while (!data.empty()) {
      ssize_t n = ::write(fd, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail(item, "write");
      data = data.subspan(static_cast<size_t>(n));
    }
  }

  void make_symlink(int parent, const std::string& name, const ExportItem& item) {
    if (::symlinkat(item.link.c_str(), parent, name.c_str()) != 0) fail(item, "symlink");
    if (privileged_ &&
        ::fchownat(parent, name.c_str(), item.uid, item.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      fail(item, "chown");
    }
    timespec times[2] = {{item.mtime, 0}, {item.mtime, 0}};
    ::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }

  void make_hardlink(int parent, const std::string& name, const ExportItem& item) {
    auto [target_dir, target_name] = split_parent(item.link);
    UniqueFd tdir = open_dir_beneath(root_.get(), target_dir);
    // linkat without AT_SYMLINK_FOLLOW links the target itself, never what it points to.
    if (!tdir || ::linkat(tdir.get(), target_name.c_str(), parent, name.c_str(), 0) != 0) {
      skip(item, "its hardlink target /" + escape(item.link) + " was not written");
    }
  }

  void make_node(int parent, const std::string& name, const ExportItem& item) {
    bool fifo = item.type == FileType::kFifo;
    if (!fifo && !privileged_) {
      skip(item, "creating a device needs root");
      return;
    }
    mode_t type = fifo ? S_IFIFO : item.type == FileType::kCharDevice ? S_IFCHR : S_IFBLK;
    dev_t dev = fifo ? 0 : makedev(item.dev_major, item.dev_minor);
    if (::mknodat(parent, name.c_str(), type | 0600, dev) != 0) fail(item, "mknod");
    // A fifo cannot be opened without blocking: set its metadata through its parent.
    if (privileged_ &&
        ::fchownat(parent, name.c_str(), item.uid, item.gid, AT_SYMLINK_NOFOLLOW) != 0) {
      fail(item, "chown");
    }
    if (::fchmodat(parent, name.c_str(), mode_bits(item), 0) != 0) fail(item, "chmod");
    timespec times[2] = {{item.mtime, 0}, {item.mtime, 0}};
    ::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
  }

  uint32_t mode_bits(const ExportItem& item) const {
    // Without root the files belong to us, not to their owner: setuid/setgid would grant our
    // identity, so they are dropped (as tar --no-same-permissions does).
    return privileged_ ? item.mode & 07777 : item.mode & 01777;
  }

  // On an open file or directory: owner first (chown clears setuid), then mode, xattrs, times.
  void set_metadata(int fd, const ExportItem& item) {
    if (privileged_ && ::fchown(fd, item.uid, item.gid) != 0) fail(item, "chown");
    if (::fchmod(fd, mode_bits(item)) != 0) fail(item, "chmod");
    set_xattrs(fd, item);
    timespec times[2] = {{item.mtime, 0}, {item.mtime, 0}};
    ::futimens(fd, times);
  }

  void set_xattrs(int fd, const ExportItem& item) {
    if (item.xattrs.empty()) return;
    if (!privileged_) {
      notes_.push_back("/" + escape(item.path) + ": xattrs not set (needs root)");
      return;
    }
    for (const auto& [key, value] : item.xattrs) {
      if (::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) == 0) continue;
      notes_.push_back("/" + escape(item.path) + ": xattr " + escape(key) +
                       " not set: " + std::strerror(errno));
    }
  }

  std::string dir_;
  bool privileged_;
  UniqueFd root_;
  std::vector<ExportItem> dirs_;
  std::vector<std::string> notes_;
};

}  // namespace

std::unique_ptr<ExportWriter> make_dir_writer(const std::string& dir, bool privileged) {
  return std::make_unique<DirWriter>(dir, privileged);
}

}  // namespace coroner::explore
