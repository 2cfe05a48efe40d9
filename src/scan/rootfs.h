// The folder form of a layer (rootfs:DIR): walks an extracted root file system without following
// symlinks, with openat() relative to each directory's descriptor so that no path ever leaves
// the folder, and produces the same entries and facts as a tar of it would.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "scan/layer_index.h"

namespace coroner::scan {

// Hardlinks (regular files with the same device and inode) become kHardlink entries pointing at
// the first path in walk order (names sorted bytewise), as tar writes them. data_offset is 0.
// An overlayfs upper dir (a container's diff, a containerd snapshot) reads as the tar Docker's
// overlay2 driver would make of it: a 0/0 character device (or a zero-size file with the
// overlay.whiteout xattr in a directory whose overlay.opaque is "x") is a Whiteout::kFile of
// its name; a directory whose trusted.overlay.opaque (user.overlay.opaque on userxattr mounts)
// is "y" is its directory entry followed by a Whiteout::kOpaque of it. Overlay xattrs are not
// file xattrs and are not kept. AUFS-style ".wh.NAME" / ".wh..wh..opq" files act as in a tar;
// AUFS' metadata at the root (".wh..wh.aufs", ".wh..wh.plnk", ...) is skipped with a note.
LayerIndex scan_folder(const std::string& dir, const image::LayerDesc& desc, uint32_t index,
                       const ScanOptions& options);

// Streams the regular file `path` (normalised, relative) of the folder `dir` to `sink`, opening
// each component with O_NOFOLLOW. Throws Error when a component is a symlink or missing.
void read_folder_file(const std::string& dir, std::string_view path,
                      const std::function<void(std::span<const std::byte>)>& sink);

}  // namespace coroner::scan
