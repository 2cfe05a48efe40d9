// ImageBuilder and friends: test-only, write images the way docker save (legacy and Docker 25+
// layouts), OCI image layouts and oci-archives hold them, from layer tars and a config built in
// code (after go-containerregistry's random.Image and layout.Write). Digests, diff_ids, sizes
// and manifests are computed; tests then corrupt what they need (members are plain data).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "image/source.h"

namespace coroner::testing {

// Archive members in order: name -> content. A content starting with "->" makes a symlink to
// the rest ("->../abc/layer.tar").
using Files = std::vector<std::pair<std::string, std::string>>;

// A tar (pax) of `files`, compressed as a whole with `c` (libarchive write filters).
std::string make_tar(const Files& files, image::Compression c = image::Compression::kNone);
// `bytes` compressed as one gzip member or zstd frame (libarchive's raw format + a filter).
std::string compress(std::string_view bytes, image::Compression c);
// Writes `files` below `dir` (creating folders); symlink members become symlinks.
void write_files(const std::string& dir, const Files& files);
void write_file(const std::string& path, std::string_view bytes);
// A fresh folder under $CORONER_TEST_TMP (else $TMPDIR or /tmp).
std::string make_temp_dir();

std::string sha256_of(std::string_view bytes);

struct BuiltLayer {
  std::string blob;        // as stored (maybe compressed)
  std::string digest;      // sha256 of blob
  std::string diff_id;     // sha256 of the uncompressed tar
  std::string media_type;  // OCI or Docker media type matching the compression
};

class ImageBuilder {
 public:
  // A layer from its uncompressed tar, stored compressed with `c`.
  ImageBuilder& layer(std::string tar, image::Compression c = image::Compression::kNone);
  // The config JSON; "rootfs" is filled from the layers unless set, os/architecture default to
  // linux/amd64.
  ImageBuilder& config(nlohmann::json config);
  ImageBuilder& platform(std::string_view platform);  // "linux/arm/v7"
  ImageBuilder& tag(std::string repo_tag);            // RepoTags of docker save
  ImageBuilder& docker_media_types();                 // Docker v2 instead of OCI media types

  const std::vector<BuiltLayer>& layers() const { return layers_; }
  const std::vector<std::string>& tags() const { return tags_; }
  nlohmann::json config_json() const;
  std::string config_bytes() const;
  std::string config_digest() const;
  std::string manifest_bytes() const;
  // The manifest's descriptor, with "platform" from the config.
  nlohmann::json descriptor() const;

 private:
  std::vector<BuiltLayer> layers_;
  nlohmann::json config_ = nlohmann::json::object();
  std::vector<std::string> tags_;
  bool docker_types_ = false;
};

// docker save before Docker 25: <id>/layer.tar, <config hex>.json, manifest.json, repositories.
// Layers are stored as given (docker save writes them uncompressed).
Files docker_archive_legacy(const std::vector<ImageBuilder>& images);
// docker save of Docker 25+: an OCI layout (blobs/sha256, index.json, oci-layout) plus
// manifest.json pointing into blobs/.
Files docker_archive_oci(const std::vector<ImageBuilder>& images);

// An OCI image layout, entry by entry.
class OciLayout {
 public:
  // Adds the image's blobs and an index.json entry (ref name annotation unless empty).
  OciLayout& image(const ImageBuilder& img, std::string ref_name = "");
  // Adds the image's blobs only and returns the manifest descriptor, for hand-made indexes.
  nlohmann::json add_image_blobs(const ImageBuilder& img);
  // Adds a blob, returns its digest.
  std::string add_blob(std::string bytes);
  // Adds an index blob listing `descriptors`; returns its descriptor.
  nlohmann::json add_index(const std::vector<nlohmann::json>& descriptors);
  // Adds a descriptor to index.json as given.
  OciLayout& entry(nlohmann::json descriptor);
  Files files() const;

 private:
  Files blobs_;
  std::vector<nlohmann::json> entries_;
};

}  // namespace coroner::testing
