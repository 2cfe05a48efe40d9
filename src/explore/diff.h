// diff: what changed between the merged roots of two images (or of an image and a container
// built from it), path by path, as `docker diff` names it (A added, C changed, D deleted), with
// what changed (type, mode, owner, size, content, link target, device, xattrs, mtime) and the
// layer of the second image that did it. Content is compared by the sha256 of each regular
// file, computed while the layers stream (content_digests()), never by a second read.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "explore/listing.h"
#include "explore/open_image.h"
#include "scan/layer_index.h"

namespace coroner::explore {

struct DiffOptions {
  std::string path = "/";  // the subtree to compare (resolved in each image, symlinks followed)
  bool content = true;     // compare content digests (needs images opened with content_digests)
  bool mtime = false;      // report mtime-only changes too
};

struct DiffEntry {
  char kind = 'C';                   // 'A' only in b, 'D' only in a, 'C' in both but different
  std::string path;                  // absolute
  std::vector<std::string> changes;  // C: "type", "mode", "owner", "size", "content", "link",
                                     // "device", "xattrs", "mtime" (in that order)
  std::optional<FileInfo> a, b;      // the file in each image (absent on its missing side)
  // The layer of b that added, changed or deleted the path (for D: the layer whose whiteout
  // removed it, when b's history has one); nullopt when unknown.
  std::optional<uint32_t> layer;
};

// A ContentScanner factory for ImageRequest::content_scanner: the sha256 of every regular file,
// kept as a ContentMatch with rule kDigestRule and `redacted` = "sha256:<hex>".
inline constexpr uint16_t kDigestRule = 0xffff;
std::unique_ptr<scan::ContentScanner> content_digests();

// Sorted by path (bytewise). A path that is a directory in one image and not in the other is
// one C entry ("type") plus an A or D entry per path below it.
std::vector<DiffEntry> diff(const Image& a, const Image& b, const DiffOptions& options);

}  // namespace coroner::explore
