// The exploration pipeline in one place: parse the reference, open the source, scan every layer
// (capturing /etc/passwd and /etc/group), merge into an fs::Tree. The explore commands (ls,
// find, cat, grep, layers, export) and later diagnose start from an Image.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fs/tree.h"
#include "image/source.h"
#include "scan/layer_index.h"

#include "explore/users.h"

namespace coroner::explore {

struct ImageRequest {
  std::string ref;
  std::string platform;  // "os/arch[/variant]"; empty: the host's
  std::string via;       // docker-daemon: "save" (default) or "export" (image::OpenOptions::via)
  // The command reads each layer once (image::OpenOptions::single_pass): docker-daemon: then
  // keeps no temporary copy of the save stream.
  bool single_pass = false;
  bool insecure = false;  // docker://: image::OpenOptions::insecure_registry (--insecure)
  // Check each layer against its digest and diff_id (scan::ScanOptions::verify); false: the
  // layers carry no digest of their own (--no-digest-check). A streamed docker-daemon: save
  // checks anyway: it tells its layers apart by their diff_ids.
  bool check_digests = true;
  // Files to capture besides the accounts files (diagnose: linux_::capture_paths), and scripts
  // up to this size (scan::ScanOptions::capture_scripts_up_to).
  std::function<bool(std::string_view path, uint64_t size)> capture;
  uint64_t capture_scripts_up_to = 0;
  // Content scanning in the same single pass (scan::ScanOptions::content_scanner; audit: secrets).
  std::function<std::unique_ptr<scan::ContentScanner>()> content_scanner;
  // Each layer's index as soon as it is done (scan::ScanOptions::layer_scanned).
  std::function<void(const scan::LayerIndex&)> layer_scanned;
  // Scan progress (scan::ScanOptions::progress), with the layer descriptors (count, blob sizes).
  // Called from the scanning threads.
  std::function<void(uint32_t layer, uint64_t bytes, std::span<const image::LayerDesc> layers)>
      progress;
};

// An opened, scanned and merged image. Not movable: the Tree points into `layers`.
class Image {
 public:
  // Requires: layers[i].index == i.
  Image(std::unique_ptr<image::ImageSource> source, std::vector<scan::LayerIndex> layers);
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  const image::ImageSource& source() const { return *source_; }
  const image::ImageInfo& info() const { return source_->info(); }
  std::span<const scan::LayerIndex> layers() const { return layers_; }
  const fs::Tree& tree() const { return tree_; }
  const Accounts& accounts() const { return accounts_; }

  // "sha256:…" of layer `i` (the blob digest, else the diff_id), and its first 12 hex digits
  // ("-" when the layer has no digest, as a rootfs:DIR folder).
  std::string layer_digest(uint32_t i) const;
  std::string short_digest(uint32_t i) const;
  // The history step that created layer `i` ("" when the image has no history for it).
  std::string created_by(uint32_t i) const;
  // The Facts of an entry of layer `i`, or nullptr.
  const scan::Facts* facts(uint32_t i, const scan::Entry& e) const;

 private:
  std::unique_ptr<image::ImageSource> source_;
  std::vector<scan::LayerIndex> layers_;
  fs::Tree tree_;
  Accounts accounts_;
  std::vector<std::string> created_by_;
};

// The files the explore commands need captured during the scan.
bool capture_for_explore(std::string_view path, uint64_t size);

// The scan of a streamed source (ImageSource::streamed(), docker-daemon: over
// GET /images/{id}/get): each layer is scanned as it arrives, one after the other, and placed by
// the sha256 of its uncompressed bytes (the lowest layer with that diff_id not yet filled). A
// member that is not a layer of the config, or a layer missing from the stream, is an Error
// naming it; a layer the image lists twice but the stream holds once is read again
// (open_layer).
std::vector<scan::LayerIndex> scan_streamed(const image::ImageSource& source,
                                            scan::ScanOptions options);

// parse_ref -> open the source -> scan_image (scan_streamed) -> Tree::build.
std::unique_ptr<Image> open_image(const ImageRequest& request);

// Which history entry (index into config.history) made each layer: the non-empty entries in
// order. A layer without one maps to nullopt.
std::vector<std::optional<size_t>> history_of_layers(const image::ImageInfo& info);

}  // namespace coroner::explore
