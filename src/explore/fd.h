// File descriptors owned by RAII, and opening paths beneath a directory descriptor one component
// at a time with O_NOFOLLOW, so a symlink (in the image, or planted by a hostile layer in an
// export) is never followed out of the directory.
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace coroner::explore {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset(int fd = -1);
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// Opens the directory `path` (absolute or relative to the working directory) with
// O_DIRECTORY|O_NOFOLLOW; Error naming the path when it fails.
UniqueFd open_dir(const std::string& path);

// Opens the directory `rel` ("a/b", "" or "." for `dirfd` itself) beneath `dirfd`, every
// component with O_NOFOLLOW|O_DIRECTORY. -1 (errno set) when a component is missing, is not a
// directory or is a symlink.
UniqueFd open_dir_beneath(int dirfd, std::string_view rel);

// Opens the regular file `rel` beneath `dirfd` for reading, never following a symlink.
UniqueFd open_file_beneath(int dirfd, std::string_view rel);

}  // namespace coroner::explore
