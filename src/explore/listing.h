// ls and find over the merged Tree: the metadata of each file as stat(2) would show it inside a
// running container (hardlinks show their inode), owner names from the image's own accounts,
// and the layer that wrote the top version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "explore/filters.h"
#include "explore/open_image.h"
#include "fs/tree.h"

namespace coroner::explore {

struct FileInfo {
  fs::NodeId node = fs::kRootNode;
  std::string path;                                // absolute, "/" for the root
  std::string name;                                // basename ("/" for the root)
  scan::FileType type = scan::FileType::kRegular;  // of the inode: never kHardlink
  bool hardlink = false;  // the top layer wrote this path as a tar hardlink
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::optional<std::string> user, group;  // names in the image's /etc/passwd, /etc/group
  uint64_t size = 0;
  uint32_t dev_major = 0, dev_minor = 0;  // character and block devices
  int64_t mtime = 0;
  std::string link;  // symlink target as written; hardlink: "/" + the path it links to
  uint32_t layer = 0;
  std::string layer_digest;

  FileView view() const;
};

FileInfo file_info(const Image& image, fs::NodeId id);

// What ls shows for one directory (or one non-directory operand).
struct Listing {
  std::string dir;  // canonical absolute path of the operand
  bool is_dir = true;
  std::vector<FileInfo> entries;  // by name
};

// `path` is resolved following symlinks inside the image; a directory lists its children (and,
// with `recursive`, every directory below, in preorder like ls -R); anything else lists itself.
// Error (exit 2) naming the path when it does not resolve.
std::vector<Listing> list(const Image& image, std::string_view path, bool recursive);

// find's query before the image is known: names of users and groups and a possibly negative
// layer are resolved against the image by find().
struct FindQuery {
  FindFilter filter;
  std::optional<std::string> user, group;  // NAME or numeric id
  std::optional<int64_t> layer;            // negative: from the top (-1 is the top layer)
};

// Every file at or below `start` (resolved following symlinks) that matches, sorted by path.
// Error for an unknown user/group name, a layer out of range, or an unresolvable start.
std::vector<FileInfo> find(const Image& image, std::string_view start, const FindQuery& query);

// Resolves `path` (following symlinks when `follow_last`), or Error naming the path, what went
// wrong and where.
fs::NodeId resolve_or_throw(const Image& image, std::string_view path, bool follow_last);

// Resolves a layer number given by the user (negative counts from the top); Error if outside.
uint32_t resolve_layer(const Image& image, int64_t n);

}  // namespace coroner::explore
