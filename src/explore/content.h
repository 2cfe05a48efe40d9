// The content of one file of the merged view (cat): the path is resolved following symlinks
// inside the image, a hardlink reads its target's content, and the bytes are streamed again from
// the layer that holds them.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "explore/open_image.h"
#include "fs/tree.h"

namespace coroner::explore {

struct ContentTarget {
  fs::NodeId node = fs::kRootNode;
  std::string path;  // canonical absolute path after symlinks
  const scan::Entry* inode = nullptr;
  uint32_t layer = 0;  // the layer whose stream holds the bytes (Node::inode_layer)
};

// Error (exit 2) naming the path and what was found when it is missing or not a regular file.
ContentTarget resolve_content(const Image& image, std::string_view path);

void read_content(const Image& image, const ContentTarget& target,
                  const std::function<void(std::span<const std::byte>)>& sink);

}  // namespace coroner::explore
