#include "image/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "base/bytes.h"
#include "base/error.h"
#include "base/text.h"
#include "image/libarchive_util.h"
#include "image/unique_fd.h"

namespace coroner::image {
namespace {

constexpr int kMaxLinkHops = 8;  // symlinks between members (docker save links shared layers)

using detail::UniqueFd;

[[noreturn]] void fail_errno(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

class PreadStream : public ByteStream {
 public:
  PreadStream(int fd, uint64_t offset, uint64_t length, std::string name)
      : fd_(fd), pos_(offset), end_(checked_add(offset, length)), name_(std::move(name)) {}
  size_t read(std::span<std::byte> buf) override {
    if (pos_ >= end_) return 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), end_ - pos_));
    for (;;) {
      ssize_t n = ::pread(fd_.get(), buf.data(), want, static_cast<off_t>(pos_));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno(name_ + ": read");
      if (n == 0) throw Error(name_ + ": unexpected end of file");
      pos_ += static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
  }
  std::string name() const override { return name_; }

 private:
  UniqueFd fd_;
  uint64_t pos_, end_;
  std::string name_;
};

std::string read_exact(ByteStream& s, uint64_t size) {
  std::string out(size, '\0');
  size_t got = 0;
  while (got < out.size()) {
    size_t n = s.read(
        std::span<std::byte>(reinterpret_cast<std::byte*>(out.data()) + got, out.size() - got));
    if (n == 0) throw Error(s.name() + ": unexpected end of file");
    got += n;
  }
  return out;
}

void check_max(std::string_view name, uint64_t size, uint64_t max) {
  if (size > max) {
    throw Error(std::string(name) + ": " + std::to_string(size) + " bytes, more than the " +
                std::to_string(max) + " accepted");
  }
}

class DirStore : public BlobStore {
 public:
  explicit DirStore(std::string dir) : dir_(std::move(dir)) {}

  std::optional<uint64_t> size(std::string_view name) const override {
    struct stat st;
    if (::stat(full(name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return static_cast<uint64_t>(st.st_size);
  }
  std::string read(std::string_view name, uint64_t max) const override {
    auto sz = size(name);
    if (!sz) throw Error(std::string(name) + ": missing");
    check_max(name, *sz, max);
    auto s = open(name);
    return read_exact(*s, *sz);
  }
  std::unique_ptr<ByteStream> open(std::string_view name) const override {
    int fd = ::open(full(name).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_errno(std::string(name));
    return open_fd_stream(fd, std::string(name));
  }

 private:
  std::string full(std::string_view name) const { return dir_ + "/" + std::string(name); }
  std::string dir_;
};

struct Member {
  uint64_t offset = 0;
  uint64_t size = 0;
  std::string link;  // target member of a hardlink or symlink (already made absolute)
};

// "a/b/layer.tar" + "../c/layer.tar" -> "a/c/layer.tar"; nullopt when it climbs out.
std::optional<std::string> resolve_relative(std::string_view from, std::string_view target) {
  std::vector<std::string_view> parts;
  if (!starts_with(target, "/")) {
    parts = split(from, '/');
    parts.pop_back();
  }
  for (std::string_view p : split(target, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (std::string_view p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}

class TarStore : public BlobStore {
 public:
  explicit TarStore(std::string path) : path_(std::move(path)) {
    if (is_compressed()) spool();
    index();
  }

  std::optional<uint64_t> size(std::string_view name) const override {
    const Member* m = find(name);
    if (m == nullptr) return std::nullopt;
    return m->size;
  }
  std::string read(std::string_view name, uint64_t max) const override {
    const Member& m = require(name);
    check_max(name, m.size, max);
    auto s = open(name);
    return read_exact(*s, m.size);
  }
  std::unique_ptr<ByteStream> open(std::string_view name) const override {
    const Member& m = require(name);
    if (spool_.get() < 0) return open_file_range_stream(path_, m.offset, m.size, std::string(name));
    int fd = ::dup(spool_.get());
    if (fd < 0) fail_errno(std::string(name) + ": dup");
    return open_pread_stream(fd, m.offset, m.size, std::string(name));
  }
  std::vector<std::string> notes() const override { return notes_; }

 private:
  bool is_compressed() {
    detail::ArchiveReader a = detail::new_tar_reader();
    if (archive_read_open_filename(a.get(), path_.c_str(), 64 * 1024) != ARCHIVE_OK) {
      // EILSEQ is libarchive's ARCHIVE_ERRNO_FILE_FORMAT: no reader recognised the bytes.
      bool format = archive_errno(a.get()) == EILSEQ;
      throw Error((format ? "not a tar archive: " : "") + detail::archive_error(a.get()));
    }
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r < ARCHIVE_WARN) throw Error("not a tar archive: " + detail::archive_error(a.get()));
    return archive_filter_count(a.get()) > 1;
  }

  // Decompresses the whole archive into an unlinked temporary file: a compressed stream has no
  // random access, and layers must be readable again and in parallel.
  void spool() {
    ArchiveReaderRaw a;
    if (archive_read_open_filename(a.get(), path_.c_str(), 64 * 1024) != ARCHIVE_OK) {
      throw Error(detail::archive_error(a.get()));
    }
    archive_entry* e = nullptr;
    if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK) {
      throw Error(detail::archive_error(a.get()));
    }
    std::string filter = archive_filter_name(a.get(), 0);
    spool_ = UniqueFd(make_spool_file());
    std::vector<char> buf(256 * 1024);
    uint64_t total = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
      if (n < 0) throw Error(filter + ": " + detail::archive_error(a.get()));
      if (n == 0) break;
      write_all(buf.data(), static_cast<size_t>(n));
      total += static_cast<uint64_t>(n);
    }
    notes_.push_back(path_ + ": the archive is compressed as a whole (" + filter +
                     "), so it was decompressed once to a temporary file (" +
                     std::to_string(total) + " bytes)");
  }

  void write_all(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(spool_.get(), p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) fail_errno("temporary file for " + path_);
      p += w;
      n -= static_cast<size_t>(w);
    }
  }

  // Records each member's name, offset and size. After archive_read_next_header, the position
  // of the (uncompressed) stream is the first byte of the member's data: libarchive has
  // consumed the header blocks (ustar, pax 'x', GNU 'L') and not yet the data.
  void index() {
    detail::ArchiveReader a = detail::new_tar_reader();
    int r;
    if (spool_.get() >= 0) {
      if (::lseek(spool_.get(), 0, SEEK_SET) < 0) fail_errno("temporary file for " + path_);
      r = archive_read_open_fd(a.get(), spool_.get(), 64 * 1024);
    } else {
      r = archive_read_open_filename(a.get(), path_.c_str(), 64 * 1024);
    }
    if (r != ARCHIVE_OK) throw Error(detail::archive_error(a.get()));
    for (;;) {
      archive_entry* e = nullptr;
      r = archive_read_next_header(a.get(), &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN) throw Error("tar: " + detail::archive_error(a.get()));
      add_member(a.get(), e);
    }
    // libarchive does not check that the last member's data is all there; the size does.
    uint64_t file_size = spool_.get() >= 0 ? file_size_of(spool_.get()) : stat_size();
    for (const auto& [name, m] : members_) {
      if (m.link.empty() && checked_add(m.offset, m.size) > file_size) {
        throw Error("tar: " + escape(name) + ": truncated (the archive ends at " +
                    std::to_string(file_size) + ", the member at " +
                    std::to_string(m.offset + m.size) + ")");
      }
    }
  }

  void add_member(archive* a, archive_entry* e) {
    const char* raw = archive_entry_pathname(e);
    std::string name = detail::normalize_member_name(raw != nullptr ? raw : "");
    Member m;
    if (const char* hl = archive_entry_hardlink(e); hl != nullptr) {
      m.link = detail::normalize_member_name(hl);
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      m.link = resolve_relative(name, target != nullptr ? target : "").value_or("");
      if (m.link.empty()) return;  // a link out of the archive is no member
    } else if (archive_entry_filetype(e) != AE_IFREG) {
      return;
    } else {
      m.offset = static_cast<uint64_t>(archive_filter_bytes(a, 0));
      m.size = static_cast<uint64_t>(archive_entry_size(e));
    }
    members_[name] = std::move(m);
  }

  uint64_t stat_size() const {
    struct stat st;
    if (::stat(path_.c_str(), &st) != 0) fail_errno(path_);
    return static_cast<uint64_t>(st.st_size);
  }
  static uint64_t file_size_of(int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0) fail_errno("temporary file");
    return static_cast<uint64_t>(st.st_size);
  }

  const Member* find(std::string_view name) const {
    std::string key = detail::normalize_member_name(name);
    for (int hop = 0; hop <= kMaxLinkHops; ++hop) {
      auto it = members_.find(key);
      if (it == members_.end()) return nullptr;
      if (it->second.link.empty()) return &it->second;
      key = it->second.link;
    }
    return nullptr;
  }
  const Member& require(std::string_view name) const {
    const Member* m = find(name);
    if (m == nullptr) throw Error(std::string(name) + ": missing");
    return *m;
  }

  // A reader for the decompressed bytes of the whole file (libarchive's "raw" format).
  struct ArchiveReaderRaw {
    ArchiveReaderRaw() : a(archive_read_new()) {
      if (!a) throw Error("libarchive: out of memory");
      archive_read_support_filter_all(a.get());
      archive_read_support_format_raw(a.get());
    }
    archive* get() const { return a.get(); }
    detail::ArchiveReader a;
  };

  std::string path_;
  UniqueFd spool_;
  std::map<std::string, Member, std::less<>> members_;
  std::vector<std::string> notes_;
};

}  // namespace

int make_spool_file() {
  const char* env = std::getenv("TMPDIR");
  std::string dir = env != nullptr && *env != '\0' ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string tmpl = dir + "/coroner-spool-XXXXXX";
  fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) fail_errno("temporary file in " + dir);
  ::unlink(tmpl.c_str());
  return fd;
}

std::unique_ptr<ByteStream> open_pread_stream(int fd, uint64_t offset, uint64_t length,
                                              std::string name) {
  return std::make_unique<PreadStream>(fd, offset, length, std::move(name));
}

std::unique_ptr<BlobStore> open_dir_store(std::string dir) {
  return std::make_unique<DirStore>(std::move(dir));
}

std::unique_ptr<BlobStore> open_tar_store(std::string path) {
  return std::make_unique<TarStore>(std::move(path));
}

}  // namespace coroner::image
