#include "explore/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.h"
#include "base/text.h"

namespace coroner::explore {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

UniqueFd open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw Error("cannot open directory " + escape(path) + ": " + std::strerror(errno));
  return fd;
}

UniqueFd open_dir_beneath(int dirfd, std::string_view rel) {
  UniqueFd cur(::fcntl(dirfd, F_DUPFD_CLOEXEC, 0));
  for (std::string_view part : split(rel, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      errno = EPERM;
      return UniqueFd();
    }
    std::string name(part);
    UniqueFd next(
        ::openat(cur.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return UniqueFd();
    cur = std::move(next);
  }
  return cur;
}

UniqueFd open_file_beneath(int dirfd, std::string_view rel) {
  size_t slash = rel.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? "" : rel.substr(0, slash);
  std::string name(slash == std::string_view::npos ? rel : rel.substr(slash + 1));
  UniqueFd parent = open_dir_beneath(dirfd, dir);
  if (!parent) return UniqueFd();
  if (name.empty() || name == "..") {
    errno = EPERM;
    return UniqueFd();
  }
  return UniqueFd(::openat(parent.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
}

}  // namespace coroner::explore
