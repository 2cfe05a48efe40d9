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

// What the overlayfs xattrs of an upper dir say about one object ("trusted.overlay.*", or
// "user.overlay.*" on userxattr mounts; Documentation/filesystems/overlayfs.rst). They are
// overlayfs' bookkeeping, not the file's: they are taken out of the xattrs a tar would carry.
struct OverlayAttrs {
  bool opaque = false;      // opaque = "y": hides the lower directory of the same name
  bool xwhiteouts = false;  // opaque = "x": not opaque, holds "overlay.whiteout" files
  bool whiteout = false;    // overlay.whiteout: a zero-size regular file is a whiteout
  bool metacopy = false;    // overlay.metacopy: the data is in a lower layer
  std::string redirect;     // overlay.redirect: a renamed directory's lower path
};

OverlayAttrs take_overlay_xattrs(std::vector<std::pair<std::string, std::string>>& xattrs) {
  OverlayAttrs o;
  std::erase_if(xattrs, [&](const std::pair<std::string, std::string>& x) {
    std::string_view name = x.first;
    for (std::string_view prefix : {"trusted.overlay.", "user.overlay."}) {
      if (name.substr(0, prefix.size()) != prefix) continue;
      std::string_view key = name.substr(prefix.size());
      if (key == "opaque") {
        o.opaque = o.opaque || x.second == "y";
        o.xwhiteouts = o.xwhiteouts || x.second == "x";
      } else if (key == "whiteout") {
        o.whiteout = true;
      } else if (key == "metacopy") {
        o.metacopy = true;
      } else if (key == "redirect") {
        o.redirect = x.second;
      }
      return true;
    }
    return false;
  });
  return o;
}

class FolderWalker {
 public:
  FolderWalker(IndexBuilder& b) : b_(b), buf_(new std::byte[kReadChunk]) {}

  // `xwhiteouts`: the directory is marked opaque = "x" (its zero-size regular files with the
  // overlay.whiteout xattr are whiteouts).
  void walk(int dirfd, const std::string& prefix, bool xwhiteouts) {
    for (const std::string& name : list_dir(dirfd)) {
      std::string path = prefix.empty() ? name : prefix + "/" + name;
      if (prefix.empty() && is_aufs_metadata(name)) {
        // AUFS' own bookkeeping at the branch root (".wh..wh.aufs", ".wh..wh.plnk",
        // ".wh..wh.orph"): Docker's aufs driver leaves it out of the layer tar.
        b_.note(escape(path) + ": AUFS metadata skipped");
        continue;
      }
      struct stat st;
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        b_.note(escape(path) + ": not scanned: " + errno_text(errno));
        continue;
      }
      visit(dirfd, name, path, st, xwhiteouts);
    }
  }

  // Adds the root directory; returns whether its children may be overlay.whiteout files.
  bool add_root(int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0) throw Error("stat: " + errno_text(errno));
    RawEntry raw = meta(".", st);
    raw.type = FileType::kDirectory;
    raw.xattrs = read_xattrs(fd);
    return add_dir(raw, "", st);
  }

 private:
  static bool is_aufs_metadata(std::string_view name) {
    constexpr std::string_view kMeta = ".wh..wh.";
    return name.substr(0, kMeta.size()) == kMeta && name != ".wh..wh..opq";
  }

  static RawEntry meta(std::string_view path, const struct stat& st) {
    RawEntry raw;
    raw.name = path;
    raw.mode = st.st_mode & 07777;
    raw.uid = st.st_uid;
    raw.gid = st.st_gid;
    raw.mtime = st.st_mtim.tv_sec;
    return raw;
  }

  // The directory entry (overlay xattrs taken out), then the opaque marker that Docker's
  // overlay2 driver writes for an opaque directory ("DIR/.wh..wh..opq", a regular file with
  // the directory's owner and permissions). Returns opaque = "x".
  bool add_dir(RawEntry& raw, const std::string& path, const struct stat& st) {
    OverlayAttrs o = take_overlay_xattrs(raw.xattrs);
    if (!o.redirect.empty()) {
      b_.note(escape(raw.name) + ": overlayfs redirect to " + escape(o.redirect) +
              ": the lower directory's contents it shows are not in this folder");
    }
    b_.add(raw);
    if (o.opaque) {
      std::string marker = path.empty() ? ".wh..wh..opq" : path + "/.wh..wh..opq";
      RawEntry wh = meta(marker, st);
      wh.mode &= 0777;
      b_.add(wh);
    }
    return o.xwhiteouts;
  }

  // A deletion: the entry ".wh.NAME" that Docker's overlay2 driver writes for an overlayfs
  // whiteout (a regular empty file, mode 0600, the whiteout's owner and mtime).
  void add_whiteout(const std::string& path, const std::string& name, const struct stat& st) {
    std::string marker = path.substr(0, path.size() - name.size()) + ".wh." + name;
    RawEntry raw = meta(marker, st);
    raw.type = FileType::kRegular;
    raw.mode = 0600;
    b_.add(raw);
  }

  void visit(int dirfd, const std::string& name, const std::string& path, const struct stat& st,
             bool xwhiteouts) {
    RawEntry raw = meta(path, st);
    std::string target;
    if (name.substr(0, 4) == ".wh.") {
      // An AUFS-style marker (Docker's aufs and vfs diff folders) acts as in a tar: an empty
      // regular file whose name IndexBuilder turns into a whiteout. Its content and what a
      // directory of that name holds mean nothing.
      if (!S_ISREG(st.st_mode)) b_.note(escape(path) + ": whiteout marker is not a regular file");
      raw.type = FileType::kRegular;
      b_.add(raw);
      return;
    }
    if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
      add_whiteout(path, name, st);
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      raw.type = FileType::kDirectory;
      Fd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!fd.ok()) {
        b_.note(escape(path) + ": directory not read: " + errno_text(errno));
        b_.add(raw);
        return;
      }
      raw.xattrs = read_xattrs(fd.get());
      bool x = add_dir(raw, path, st);
      walk(fd.get(), path, x);
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
      regular(dirfd, name, path, st, raw, xwhiteouts);
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
               RawEntry& raw, bool xwhiteouts) {
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
    OverlayAttrs o = take_overlay_xattrs(raw.xattrs);
    if (o.whiteout && xwhiteouts && st.st_size == 0) {
      // The kernel's other whiteout form (overlayfs.rst: a zero-size regular file with the
      // overlay.whiteout xattr, in a directory marked opaque = "x").
      add_whiteout(path, name, st);
      return;
    }
    if (o.metacopy) {
      b_.note(escape(path) + ": overlayfs metacopy: the content is in a lower layer, this " +
              "file holds none");
    }
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
    bool xwhiteouts = walker.add_root(root.get());
    walker.walk(root.get(), "", xwhiteouts);
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
