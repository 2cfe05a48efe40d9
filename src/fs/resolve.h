// Path resolution inside the image root, as the kernel does it under chroot or openat2's
// RESOLVE_IN_ROOT: an absolute symlink target restarts at the image root, ".." never climbs
// above "/", more than kMaxSymlinkHops symlinks is ELOOP, a non-directory in the middle is
// ENOTDIR, a missing component ENOENT. It records each symlink hop for evidence messages and
// lets the caller check every directory searched (search permission for a uid/gid). Absence
// is a result, never an exception.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/tree.h"

namespace coroner::fs {

// Linux MAXSYMLINKS (include/linux/namei.h): the 41st symlink is ELOOP.
inline constexpr int kMaxSymlinkHops = 40;

enum class ResolveError : uint8_t {
  kOk,
  kNoEnt,   // ENOENT: a component is missing, or a symlink target is empty
  kNotDir,  // ENOTDIR: a non-directory is used as a directory
  kLoop,    // ELOOP: more than kMaxSymlinkHops symlinks
  kAccess,  // EACCES: ResolveOptions::check_dir refused a directory
};

// One symlink traversed: "/usr/bin/python3" -> "python3.11".
struct Hop {
  NodeId link = kRootNode;
  std::string path;         // absolute path of the symlink
  std::string_view target;  // its target as written (points into a LayerIndex arena)
};

struct ResolveResult {
  std::optional<NodeId> node;  // set iff error == kOk
  ResolveError error = ResolveError::kOk;
  // Canonical absolute path: of the node when kOk; else the prefix that failed: the missing
  // path (kNoEnt), the non-directory (kNotDir), the symlink that was one too many (kLoop), the
  // refused directory (kAccess).
  std::string path;
  std::vector<Hop> hops;  // symlinks followed, in order
  // kNoEnt: the directory in which the missing name was looked up (its canonical path is the
  // parent of `path`). Lets callers create or report the missing component.
  std::optional<NodeId> missing_in;

  bool ok() const { return error == ResolveError::kOk; }
};

struct ResolveOptions {
  bool follow_last = true;  // false: like lstat/O_NOFOLLOW, the last component is not followed
                            // (a trailing "/" still forces following, as in the kernel)
  NodeId cwd = kRootNode;   // start of relative paths (the image WORKDIR)
  // Called for every directory searched (each directory in which a name is looked up, the
  // root included, and again after each symlink hop). Returning false stops with kAccess.
  std::function<bool(NodeId dir)> check_dir;
};

// The strerror(3) text of the errno a failure stands for ("no such file or directory"); "" for kOk.
std::string_view error_text(ResolveError error);

// Resolves `path` in `tree`. Requires: options.cwd is a present directory. An empty path is
// kNoEnt (as in the kernel).
ResolveResult resolve(const Tree& tree, std::string_view path, const ResolveOptions& options = {});

// "/usr/bin/python3 → python3.11 → /usr/bin/python3.11" style text of a result's hops, ending
// with the final path when ok.
std::string describe_hops(const ResolveResult& result);

}  // namespace coroner::fs
