#include "scan/rootfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <vector>

#include "base/error.h"
#include "base/text.h"
#include "scan/index_builder.h"

namespace coroner::scan {
namespace {

constexpr size_t kReadChunk = 256 * 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }

 private:
  int fd_;
};

std::string errno_text(int e) { return std::strerror(e); }

struct DirCloser {
  void operator()(DIR* d) const { closedir(d); }
};

// Names in a directory, sorted, without "." and "..".
std::vector<std::string> list_dir(int dirfd) {
  int fd = ::dup(dirfd);
  if (fd < 0) throw Error("dup: " + errno_text(errno));
  std::unique_ptr<DIR, DirCloser> d(::fdopendir(fd));
  if (!d) {
    int e = errno;
    ::close(fd);
    throw Error("opendir: " + errno_text(e));
  }
  std::vector<std::string> names;
  while (dirent* de = ::readdir(d.get())) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::pair<std::string, std::string>> read_xattrs(int fd) {
  std::vector<std::pair<std::string, std::string>> out;
  ssize_t n = ::flistxattr(fd, nullptr, 0);
  if (n <= 0) return out;
  std::string names(static_cast<size_t>(n), '\0');
  n = ::flistxattr(fd, names.data(), names.size());
  if (n <= 0) return out;
  names.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < names.size();) {
    std::string name = names.c_str() + i;
    i += name.size() + 1;
    ssize_t len = ::fgetxattr(fd, name.c_str(), nullptr, 0);
    if (len < 0) continue;
    std::string value(static_cast<size_t>(len), '\0');
    len = ::fgetxattr(fd, name.c_str(), value.data(), value.size());
    if (len < 0) continue;
    value.resize(static_cast<size_t>(len));
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

class FolderWalker {
 public:
  FolderWalker(IndexBuilder& b) : b_(b), buf_(new std::byte[kReadChunk]) {}

  void walk(int dirfd, const std::string& prefix) {
    for (const std::string& name : list_dir(dirfd)) {
      std::string path = prefix.empty() ? name : prefix + "/" + name;
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        b_.note(escape(path) + ": not scanned: " + errno_text(errno));
        continue;
      }
      visit(dirfd, name, path, st);
    }
  }

  void add_root(int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0) throw Error("stat: " + errno_text(errno));
    RawEntry raw = meta(".", st);
    raw.type = FileType::kDirectory;
    raw.xattrs = read_xattrs(fd);
    b_.add(raw);
  }

 private:
  static RawEntry meta(std::string_view path, const struct stat& st) {
    RawEntry raw;
    raw.name = path;
    raw.mode = st.st_mode & 07777;
    raw.uid = st.st_uid;
    raw.gid = st.st_gid;
    raw.mtime = st.st_mtim.tv_sec;
    return raw;
  }

  void visit(int dirfd, const std::string& name, const std::string& path, const struct stat& st) {
    RawEntry raw = meta(path, st);
    std::string target;
    if (S_ISDIR(st.st_mode)) {
      raw.type = FileType::kDirectory;
      Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.ok()) {
        b_.note(escape(path) + ": directory not read: " + errno_text(errno));
        b_.add(raw);
        return;
      }
      raw.xattrs = read_xattrs(fd.get());
      b_.add(raw);
      walk(fd.get(), path);
      return;
    }
    if (S_ISLNK(st.st_mode)) {
      raw.type = FileType::kSymlink;
      target.resize(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1);
      ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
      if (n < 0) throw Error(escape(path) + ": readlink: " + errno_text(errno));
      target.resize(static_cast<size_t>(n));
      raw.link = target;
      b_.add(raw);
      return;
    }
    if (S_ISREG(st.st_mode)) {
      regular(dirfd, name, path, st, raw);
      return;
    }
    raw.type = S_ISCHR(st.st_mode)    ? FileType::kCharDevice
               : S_ISBLK(st.st_mode)  ? FileType::kBlockDevice
               : S_ISFIFO(st.st_mode) ? FileType::kFifo
                                      : FileType::kSocket;
    raw.dev_major = major(st.st_rdev);
    raw.dev_minor = minor(st.st_rdev);
    b_.add(raw);
  }

  void regular(int dirfd, const std::string& name, const std::string& path, const struct stat& st,
               RawEntry& raw) {
    if (st.st_nlink > 1) {
      auto [it, first] = inodes_.try_emplace({st.st_dev, st.st_ino}, path);
      if (!first) {
        raw.type = FileType::kHardlink;
        raw.link = it->second;
        b_.add(raw);
        return;
      }
    }
    raw.size = static_cast<uint64_t>(st.st_size);
    Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.ok()) {
      b_.note(escape(path) + ": content not read: " + errno_text(errno));
      b_.add(raw);
      return;
    }
    raw.xattrs = read_xattrs(fd.get());
    int64_t i = b_.add(raw);
    b_.sniff(i, [&]() -> std::span<const std::byte> {
      for (;;) {
        ssize_t n = ::read(fd.get(), buf_.get(), kReadChunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(escape(path) + ": read: " + errno_text(errno));
        return {buf_.get(), static_cast<size_t>(n)};
      }
    });
  }

  IndexBuilder& b_;
  std::unique_ptr<std::byte[]> buf_;
  std::map<std::pair<dev_t, ino_t>, std::string> inodes_;
};

}  // namespace

LayerIndex scan_folder(const std::string& dir, const image::LayerDesc& desc, uint32_t index,
                       const ScanOptions& options) {
  LayerIndex out;
  out.index = index;
  out.desc = desc;
  with_context(layer_context(index, desc.digest) + ": " + escape(dir), [&] {
    Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.ok()) throw Error(errno_text(errno));
    IndexBuilder builder(out, options);
    FolderWalker walker(builder);
    walker.add_root(root.get());
    walker.walk(root.get(), "");
    builder.finish();
  });
  return out;
}

void read_folder_file(const std::string& dir, std::string_view path,
                      const std::function<void(std::span<const std::byte>)>& sink) {
  Fd cur(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cur.ok()) throw Error(escape(dir) + ": " + errno_text(errno));
  std::vector<std::string_view> parts = split(path, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string part(parts[i]);
    if (part.empty() || part == "." || part == "..") {
      throw Error(escape(path) + ": not a normalised path inside the folder");
    }
    bool last = i + 1 == parts.size();
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? 0 : O_DIRECTORY);
    Fd next(::openat(cur.get(), part.c_str(), flags));
    if (!next.ok()) throw Error(escape(path) + ": " + errno_text(errno));
    cur = std::move(next);
  }
  struct stat st;
  if (::fstat(cur.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw Error(escape(path) + ": not a regular file");
  }
  std::unique_ptr<std::byte[]> buf(new std::byte[kReadChunk]);
  for (;;) {
    ssize_t n = ::read(cur.get(), buf.get(), kReadChunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(escape(path) + ": read: " + errno_text(errno));
    if (n == 0) return;
    sink({buf.get(), static_cast<size_t>(n)});
  }
}

}  // namespace coroner::scan
