#include "base/stream.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"

namespace coroner {
namespace {

class FdStream : public ByteStream {
 public:
  FdStream(int fd, std::string name, uint64_t limit)
      : fd_(fd), name_(std::move(name)), left_(limit) {}
  ~FdStream() override {
    if (map_ != nullptr) ::munmap(map_, map_len_);
    if (fd_ >= 0) ::close(fd_);
  }
  FdStream(const FdStream&) = delete;
  FdStream& operator=(const FdStream&) = delete;

  size_t read(std::span<std::byte> buf) override {
    if (left_ == 0) return 0;
    size_t want = buf.size() < left_ ? buf.size() : static_cast<size_t>(left_);
    for (;;) {
      ssize_t n = ::read(fd_, buf.data(), want);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw Error(name_ + ": read: " + std::strerror(errno));
      if (n == 0 && left_ != UINT64_MAX) throw Error(name_ + ": unexpected end of file");
      if (left_ != UINT64_MAX) left_ -= static_cast<uint64_t>(n);
      return static_cast<size_t>(n);
    }
  }
  std::string name() const override { return name_; }

  std::optional<std::span<const std::byte>> map_rest() override {
    // Below this, mmap's setup and faults cost more than the copy they save.
    constexpr uint64_t kMinMap = 4 << 20;
    struct stat st;
    if (map_ != nullptr || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    off_t at = ::lseek(fd_, 0, SEEK_CUR);
    if (at < 0) return std::nullopt;
    uint64_t pos = static_cast<uint64_t>(at), size = static_cast<uint64_t>(st.st_size);
    if (pos > size) return std::nullopt;
    uint64_t rest = left_ == UINT64_MAX ? size - pos : left_;
    if (rest < kMinMap || rest > size - pos || rest > SIZE_MAX / 2) return std::nullopt;
    uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t start = pos / page * page;
    size_t len = static_cast<size_t>(pos + rest - start);
    void* m = ::mmap(nullptr, len, PROT_READ, MAP_PRIVATE, fd_, static_cast<off_t>(start));
    if (m == MAP_FAILED) return std::nullopt;
    map_ = m;
    map_len_ = len;
    left_ = 0;  // consumed: read() returns 0 from now on
    return std::span<const std::byte>(static_cast<const std::byte*>(m) + (pos - start),
                                      static_cast<size_t>(rest));
  }

 private:
  int fd_;
  std::string name_;
  uint64_t left_;
  void* map_ = nullptr;
  size_t map_len_ = 0;
};

class MemoryStream : public ByteStream {
 public:
  MemoryStream(std::span<const std::byte> data, std::string name)
      : data_(data), name_(std::move(name)) {}
  size_t read(std::span<std::byte> buf) override {
    size_t n = std::min(buf.size(), data_.size() - pos_);
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  std::string name() const override { return name_; }

 private:
  std::span<const std::byte> data_;
  size_t pos_ = 0;
  std::string name_;
};

int open_or_throw(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

const std::byte* drop_mapped_pages(const std::byte* begin, const std::byte* end) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  uintptr_t from = (reinterpret_cast<uintptr_t>(begin) + page - 1) / page * page;
  uintptr_t to = reinterpret_cast<uintptr_t>(end) / page * page;
  if (to <= from) return begin;
  ::madvise(reinterpret_cast<void*>(from), to - from, MADV_DONTNEED);
  return begin + (to - reinterpret_cast<uintptr_t>(begin));
}

std::unique_ptr<ByteStream> open_fd_stream(int fd, std::string name) {
  return std::make_unique<FdStream>(fd, std::move(name), UINT64_MAX);
}

std::unique_ptr<ByteStream> open_file_stream(const std::string& path) {
  return std::make_unique<FdStream>(open_or_throw(path), path, UINT64_MAX);
}

std::unique_ptr<ByteStream> open_file_range_stream(const std::string& path, uint64_t offset,
                                                   uint64_t length, std::string name) {
  int fd = open_or_throw(path);
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    int e = errno;
    ::close(fd);
    throw Error(name + ": seek: " + std::strerror(e));
  }
  return std::make_unique<FdStream>(fd, std::move(name), length);
}

std::string read_all(ByteStream& in, uint64_t max) {
  std::string out;
  std::byte buf[65536];
  while (size_t n = in.read(buf)) {
    if (out.size() + n > max) {
      throw Error(in.name() + ": over " + std::to_string(max) + " bytes, too big to be read whole");
    }
    out.append(reinterpret_cast<const char*>(buf), n);
  }
  return out;
}

std::optional<std::string> read_small_file(const std::string& path, uint64_t max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  FdStream in(fd, path, UINT64_MAX);
  return read_all(in, max);
}

std::unique_ptr<ByteStream> open_memory_stream(std::span<const std::byte> data, std::string name) {
  return std::make_unique<MemoryStream>(data, std::move(name));
}

}  // namespace coroner
