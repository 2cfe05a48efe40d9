// Decoders for the JSON documents of an image: docker save's manifest.json, OCI indexes and
// Docker manifest lists, OCI and Docker v2 image manifests, and the image config. Pure
// functions over text (nlohmann::json inside), throwing Error "config JSON: <where>: <detail>"
// on malformed input; every digest is checked with is_valid_sha256_digest before anyone can use
// it as a file name. Also platform selection over indexes. Sources (archive_source.cc) fetch
// the bytes; nothing here touches files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/source.h"

namespace coroner::image {

// Media types (OCI image-spec media-types.md, Docker image manifest v2 schema 2).
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";

// Documents bigger than this are refused before parsing (a config with a long history is a few
// hundred KiB).
inline constexpr uint64_t kMaxJsonSize = 16 * 1024 * 1024;

struct Platform {
  std::string os, architecture, variant;
  // "os/arch" or "os/arch/variant".
  std::string str() const;
};

// "linux/arm64", "linux/arm/v7"; Error for anything else.
Platform parse_platform(std::string_view text);
// The platform this process runs on, in GOOS/GOARCH names ("linux/amd64", "linux/arm/v7").
std::string host_platform();
// containerd's normalisation: arm64's v8 and amd64's v1 are dropped, arm without variant is v7,
// aarch64 is arm64, x86_64 is amd64. Then os, arch and variant must be equal, except that an
// empty wanted variant matches any.
bool platform_matches(const Platform& wanted, const Platform& have);

struct Descriptor {
  std::string media_type;
  std::string digest;  // validated "sha256:<64 hex>"
  uint64_t size = 0;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
  std::optional<Platform> platform;
};

enum class DocumentKind { kIndex, kImageManifest, kOther };
// Index for OCI index and Docker manifest list; image manifest for OCI and Docker v2.
DocumentKind document_kind(std::string_view media_type);

struct ImageIndex {
  std::string media_type;  // may be empty (optional in OCI)
  std::vector<Descriptor> manifests;
};

struct ImageManifest {
  std::string media_type;  // may be empty (optional in OCI)
  Descriptor config;
  std::vector<Descriptor> layers;
};

// One image of docker save's manifest.json.
struct DockerSaveImage {
  std::string config;                  // member name: "<hex>.json" or "blobs/sha256/<hex>"
  std::vector<std::string> repo_tags;  // may be empty (saved by id)
  std::vector<std::string> layers;     // member names, bottom first
  std::map<std::string, Descriptor> layer_sources;  // diff_id -> foreign layer descriptor
};

// Each throws Error "config JSON: <what>: <detail>", `what` naming the document, e.g.
// "config JSON: index.json: manifests[2].digest: not a sha256 digest".
std::vector<DockerSaveImage> parse_docker_save_manifest(std::string_view json,
                                                        std::string_view what = "manifest.json");
ImageIndex parse_index(std::string_view json, std::string_view what = "index");
ImageManifest parse_image_manifest(std::string_view json, std::string_view what = "manifest");
ImageConfig parse_image_config(std::string_view json, std::string_view what = "config");
// The imageLayoutVersion of an oci-layout file ("1.0.0").
std::string parse_oci_layout(std::string_view json, std::string_view what = "oci-layout");
// The "mediaType" field of a manifest or index, or "" when absent (Error if not an object).
std::string peek_media_type(std::string_view json, std::string_view what);

// True for an attestation manifest (BuildKit's provenance/SBOM entries), which indexes list
// beside the images: platform unknown/unknown or vnd.docker.reference.type=attestation-manifest.
bool is_attestation(const Descriptor& d);

// Returns the bytes of a blob named by a descriptor, verified against its digest.
using BlobFetcher = std::function<std::string(const Descriptor&)>;

// Picks the image manifest for `platform` (empty: the host's) from an index, descending into
// nested indexes through `fetch`. Skips attestations. A single candidate is taken when it has
// no platform, or when `platform` is empty (the host's is only a preference). Error naming `what`
// and listing the platforms available when nothing matches.
Descriptor select_platform(const ImageIndex& index, std::string_view platform,
                           const BlobFetcher& fetch, std::string_view what);

// Throws Error when the manifest's config is not an image config (an artifact: a Helm chart,
// a signature, an SBOM), since such a manifest is not a runnable image.
void require_runnable(const ImageManifest& m, std::string_view what);

// Error unless `bytes` hash to `digest`: "<what>: digest mismatch: expected X, got Y".
void verify_digest(std::string_view bytes, std::string_view digest, std::string_view what);

// Error unless the config's rootfs.diff_ids count the manifest's `layers`; a history whose
// non-empty steps do not count them is a note (layers cannot be matched to build steps).
void check_layer_count(const ImageConfig& c, size_t layers, std::vector<std::string>& notes);

// Error unless `bytes` are the blob `d` names: its size ("<what>: N bytes, but <named_by> says
// M"), then its digest (verify_digest).
void verify_blob(std::string_view bytes, const Descriptor& d, std::string_view what,
                 std::string_view named_by);

// "os/arch[/variant]" of a config, "" when it has no os.
std::string config_platform(const ImageConfig& c);

}  // namespace coroner::image
