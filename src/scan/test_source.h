// Test-only fakes for scan/ tests: an ImageSource over in-memory blobs or folders.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "image/source.h"

namespace coroner::scan {

class FakeSource : public image::ImageSource {
 public:
  // A layer blob with its descriptor.
  void add_blob(std::string blob, image::LayerDesc desc = {}) {
    blobs_.push_back(std::move(blob));
    dirs_.emplace_back();
    info_.layers.push_back(std::move(desc));
  }
  // A layer that is a folder (rootfs:DIR).
  void add_dir(std::string dir) {
    blobs_.emplace_back();
    dirs_.push_back(std::move(dir));
    info_.layers.emplace_back();
  }
  const image::ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t i) const override {
    return open_memory_stream(as_bytes(blobs_.at(i)), "blob " + std::to_string(i));
  }
  std::optional<std::string> layer_dir(size_t i) const override { return dirs_.at(i); }

 private:
  image::ImageInfo info_;
  std::vector<std::string> blobs_;
  std::vector<std::optional<std::string>> dirs_;
};

}  // namespace coroner::scan
