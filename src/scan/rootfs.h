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
LayerIndex scan_folder(const std::string& dir, const image::LayerDesc& desc, uint32_t index,
                       const ScanOptions& options);

// Streams the regular file `path` (normalised, relative) of the folder `dir` to `sink`, opening
// each component with O_NOFOLLOW. Throws Error when a component is a symlink or missing.
void read_folder_file(const std::string& dir, std::string_view path,
                      const std::function<void(std::span<const std::byte>)>& sink);

}  // namespace coroner::scan
