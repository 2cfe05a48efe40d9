// Sources without manifest or config: a flat root file system tar (tar:PATH, or "-" on stdin)
// and an extracted folder (rootfs:DIR). Each is one layer.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "base/error.h"
#include "base/text.h"
#include "image/archive_source.h"
#include "image/unique_fd.h"

namespace coroner::image {
namespace {

constexpr std::string_view kNoConfigNote =
    "no image config: entrypoint, cmd, user, workdir and env come only from the command line";

ImageInfo flat_info(const Ref& ref, uint64_t size) {
  ImageInfo info;
  info.ref = ref.text;
  info.has_config = false;
  info.layers.push_back(LayerDesc{"", "", "", size});
  info.notes.emplace_back(kNoConfigNote);
  return info;
}

struct stat stat_or_throw(const Ref& ref) {
  struct stat st;
  if (::stat(ref.path.c_str(), &st) != 0) {
    throw Error(std::string(transport_name(ref.transport)) + ": " + escape(ref.path) + ": " +
                std::strerror(errno));
  }
  return st;
}

class FlatTarSource : public ImageSource {
 public:
  FlatTarSource(const Ref& ref, uint64_t size) : path_(ref.path), info_(flat_info(ref, size)) {}
  const ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    CORONER_CHECK(index == 0);
    return open_file_stream(path_);
  }

 private:
  std::string path_;
  ImageInfo info_;
};

// stdin can be read once: whatever any stream reads from it is appended to a spool file, and
// every stream reads the spool, pulling more from stdin when it reaches the spooled end.
class StdinSpool {
 public:
  explicit StdinSpool(int in_fd) : in_fd_(in_fd), spool_(make_spool_file()) {}

  size_t read_at(uint64_t pos, std::span<std::byte> buf) {
    std::lock_guard<std::mutex> lock(mu_);
    while (pos >= spooled_ && !eof_) pull();
    if (pos >= spooled_ || buf.empty()) return 0;
    size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), spooled_ - pos));
    for (;;) {
      ssize_t n = ::pread(spool_.get(), buf.data(), want, static_cast<off_t>(pos));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Error(std::string("stdin: spool file: ") + std::strerror(errno));
      return static_cast<size_t>(n);
    }
  }

  void drain() {
    std::lock_guard<std::mutex> lock(mu_);
    while (!eof_) pull();
  }

 private:
  // Requires: mu_ held.
  void pull() {
    char buf[256 * 1024];
    ssize_t n = ::read(in_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) return;
    if (n < 0) throw Error(std::string("stdin: read: ") + std::strerror(errno));
    if (n == 0) {
      eof_ = true;
      return;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::pwrite(spool_.get(), buf + done, static_cast<size_t>(n - done),
                           static_cast<off_t>(spooled_));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) throw Error(std::string("stdin: spool file: ") + std::strerror(errno));
      done += w;
      spooled_ += static_cast<uint64_t>(w);
    }
  }

  std::mutex mu_;
  int in_fd_;  // not owned
  detail::UniqueFd spool_;
  uint64_t spooled_ = 0;
  bool eof_ = false;
};

class SpoolStream : public ByteStream {
 public:
  explicit SpoolStream(StdinSpool& spool) : spool_(spool) {}
  size_t read(std::span<std::byte> buf) override {
    size_t n = spool_.read_at(pos_, buf);
    pos_ += n;
    return n;
  }
  std::string name() const override { return "stdin"; }

 private:
  StdinSpool& spool_;
  uint64_t pos_ = 0;
};

class StdinSource : public ImageSource {
 public:
  StdinSource(const Ref& ref, int fd) : spool_(fd), info_(flat_info(ref, 0)) {
    info_.notes.emplace_back("stdin: read once and kept in a temporary file for later reads");
  }
  const ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    CORONER_CHECK(index == 0);
    // The first stream tees stdin into the spool as it is read; a later one first finishes
    // reading stdin so that it reads a complete spool.
    if (opened_.exchange(true)) spool_.drain();
    return std::make_unique<SpoolStream>(spool_);
  }

 private:
  mutable StdinSpool spool_;
  mutable std::atomic<bool> opened_{false};
  ImageInfo info_;
};

class RootfsSource : public ImageSource {
 public:
  explicit RootfsSource(const Ref& ref) : path_(ref.path), info_(flat_info(ref, 0)) {}
  const ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t /*index*/) const override {
    throw Error("rootfs: a folder has no layer stream");
  }
  std::optional<std::string> layer_dir(size_t index) const override {
    CORONER_CHECK(index == 0);
    return path_;
  }

 private:
  std::string path_;
  ImageInfo info_;
};

}  // namespace

std::unique_ptr<ImageSource> open_flat_tar(const Ref& ref) {
  struct stat st = stat_or_throw(ref);
  if (S_ISDIR(st.st_mode)) {
    throw Error("tar: " + escape(ref.path) + ": a folder, not a tar file (use rootfs:DIR)");
  }
  return std::make_unique<FlatTarSource>(ref, static_cast<uint64_t>(st.st_size));
}

std::unique_ptr<ImageSource> open_stdin_tar(const Ref& ref, int fd) {
  return std::make_unique<StdinSource>(ref, fd);
}

std::unique_ptr<ImageSource> open_rootfs(const Ref& ref) {
  struct stat st = stat_or_throw(ref);
  if (!S_ISDIR(st.st_mode)) throw Error("rootfs: " + escape(ref.path) + ": not a folder");
  return std::make_unique<RootfsSource>(ref);
}

}  // namespace coroner::image
