// Test-only: an ImageSource over layer blobs held in memory (a fake, as ninja's
// VirtualFileSystem), and the small image the explore tests share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "explore/open_image.h"
#include "image/source.h"

namespace coroner::explore::testing {

class MemorySource : public image::ImageSource {
 public:
  // Each layer: (blob as stored, uncompressed tar); history as (created_by, empty_layer).
  MemorySource(std::vector<std::pair<std::string, std::string>> layers,
               std::vector<std::pair<std::string, bool>> history);
  const image::ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override;

 private:
  std::vector<std::string> blobs_;
  image::ImageInfo info_;
};

// Scans and merges a MemorySource.
std::unique_ptr<Image> open_memory_image(std::unique_ptr<MemorySource> source);

// Three layers: a base with accounts, setuid ping and a tmp dir; an app layer with a script, a
// config and a hardlink to it (gzip); a top layer deleting the config, adding a log, symlinks.
std::unique_ptr<Image> sample_image();

}  // namespace coroner::explore::testing
