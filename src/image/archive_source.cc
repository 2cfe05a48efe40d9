#include "image/archive_source.h"

#include <set>

#include "base/digest.h"
#include "base/error.h"
#include "base/text.h"
#include "image/libarchive_util.h"
#include "image/manifest.h"

namespace coroner::image {
namespace {

constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
constexpr std::string_view kContainerdNameAnnotation = "io.containerd.image.name";
constexpr std::string_view kLegacyLayerMediaType = "application/vnd.docker.image.rootfs.diff.tar";

// A source whose layers are members of a BlobStore.
class StoreSource : public ImageSource {
 public:
  StoreSource(std::unique_ptr<BlobStore> store, ImageInfo info, std::vector<std::string> members)
      : store_(std::move(store)), info_(std::move(info)), members_(std::move(members)) {
    for (std::string& n : store_->notes()) info_.notes.push_back(std::move(n));
  }
  const ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    CORONER_CHECK(index < members_.size());
    return store_->open(members_[index]);
  }

 private:
  std::unique_ptr<BlobStore> store_;
  ImageInfo info_;
  std::vector<std::string> members_;
};

std::string blob_member(std::string_view digest) {
  CORONER_CHECK(is_valid_sha256_digest(digest));
  return "blobs/sha256/" + std::string(digest.substr(7));
}

// "blobs/sha256/<hex>" or "<hex>.json" -> "sha256:<hex>", else "".
std::string digest_of_member(std::string_view name) {
  std::string_view hex = name;
  if (starts_with(hex, "blobs/sha256/")) {
    hex.remove_prefix(13);
  } else if (ends_with(hex, ".json")) {
    hex.remove_suffix(5);
  } else {
    return {};
  }
  return detail::is_hex64(hex) ? "sha256:" + std::string(hex) : std::string();
}

// Reads a small blob named by a descriptor and checks its size and digest.
std::string fetch_blob(const BlobStore& store, const Descriptor& d, std::string_view named_by) {
  std::string member = blob_member(d.digest);
  if (!store.size(member)) {
    throw Error(member + ": missing (named by " + std::string(named_by) + ")");
  }
  std::string bytes = store.read(member, kMaxJsonSize);
  verify_blob(bytes, d, member, named_by);
  return bytes;
}

// --- OCI layout ----------------------------------------------------------------------------

void check_oci_layout(const BlobStore& store) {
  if (!store.size("oci-layout")) throw Error("oci-layout: missing (not an OCI image layout)");
  std::string version = parse_oci_layout(store.read("oci-layout", 4096), "oci-layout");
  if (!starts_with(version, "1.")) {
    throw Error("oci-layout: imageLayoutVersion \"" + escape(version, 40) +
                "\" is not supported (expected 1.0.0)");
  }
}

std::string ref_name(const Descriptor& d) {
  auto it = d.annotations.find(std::string(kRefNameAnnotation));
  return it == d.annotations.end() ? std::string() : it->second;
}

bool names_ref(const Descriptor& d, std::string_view wanted) {
  if (ref_name(d) == wanted) return true;
  auto it = d.annotations.find(std::string(kContainerdNameAnnotation));
  return it != d.annotations.end() && it->second == wanted;
}

// index.json may hold several images told apart by ref name (oci:DIR:REF), the platforms of
// one image, or both. Narrows to the entries of the wanted ref, then selects the platform.
ImageIndex narrow_by_ref(const ImageIndex& index, std::string_view selector) {
  ImageIndex out{index.media_type, {}};
  std::set<std::string> refs;
  for (const Descriptor& d : index.manifests) {
    if (is_attestation(d)) continue;
    if (!ref_name(d).empty()) refs.insert(escape(ref_name(d), 80));
    if (selector.empty() || names_ref(d, selector)) out.manifests.push_back(d);
  }
  std::string listed;
  for (const std::string& r : refs) listed += (listed.empty() ? "" : ", ") + r;
  if (!selector.empty() && out.manifests.empty()) {
    throw Error("index.json: no image named \"" + escape(selector, 80) +
                "\"; names: " + (listed.empty() ? "(none)" : listed));
  }
  if (selector.empty() && refs.size() > 1) {
    throw Error("index.json: holds several images; choose one with :REF (" + listed + ")");
  }
  return out;
}

ImageInfo read_oci_image(const BlobStore& store, const Ref& ref, const OpenOptions& options,
                         std::vector<std::string>& members) {
  check_oci_layout(store);
  if (!store.size("index.json")) throw Error("index.json: missing");
  ImageIndex index = parse_index(store.read("index.json", kMaxJsonSize), "index.json");
  ImageIndex narrowed = narrow_by_ref(index, ref.selector);
  BlobFetcher fetch = [&](const Descriptor& d) { return fetch_blob(store, d, "an index"); };
  Descriptor chosen = select_platform(narrowed, options.platform, fetch, "index.json");

  ImageInfo info;
  info.ref = ref.text;
  info.digest = chosen.digest;
  std::string manifest_name = blob_member(chosen.digest);
  ImageManifest m = parse_image_manifest(fetch_blob(store, chosen, "index.json"), manifest_name);
  require_runnable(m, manifest_name);
  info.config =
      parse_image_config(fetch_blob(store, m.config, "the manifest"), blob_member(m.config.digest));
  info.has_config = true;
  check_layer_count(info.config, m.layers.size(), info.notes);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Descriptor& l = m.layers[i];
    std::string member = blob_member(l.digest);
    auto size = store.size(member);
    if (!size) {
      throw Error(member + ": missing (named by the manifest as layer " + std::to_string(i) + ")");
    }
    if (*size != l.size) {
      throw Error(member + ": " + std::to_string(*size) + " bytes, but the manifest says " +
                  std::to_string(l.size) + " (layer " + std::to_string(i) + ")");
    }
    info.layers.push_back(LayerDesc{l.digest, info.config.diff_ids[i], l.media_type, l.size});
    members.push_back(member);
  }
  info.platform = config_platform(info.config);
  if (info.platform.empty() && chosen.platform) info.platform = chosen.platform->str();
  return info;
}

// --- docker save ---------------------------------------------------------------------------

// "busybox" -> "busybox:latest"; "docker.io/library/busybox:1" -> "busybox:1".
std::string normalize_tag(std::string_view s) {
  if (starts_with(s, "docker.io/")) s.remove_prefix(10);
  if (starts_with(s, "library/")) s.remove_prefix(8);
  std::string out(s);
  auto slash = out.rfind('/');
  auto colon = out.rfind(':');
  bool has_tag = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!has_tag && out.find('@') == std::string::npos) out += ":latest";
  return out;
}

std::string describe_images(const std::vector<DockerSaveImage>& images) {
  std::string out;
  for (size_t i = 0; i < images.size(); ++i) {
    if (!out.empty()) out += ", ";
    out += "@" + std::to_string(i);
    for (const std::string& t : images[i].repo_tags) out += " " + escape(t, 80);
  }
  return out;
}

size_t choose_image(const std::vector<DockerSaveImage>& images, std::string_view selector) {
  if (images.empty()) throw Error("manifest.json: lists no image");
  if (starts_with(selector, "@")) {
    size_t n = 0;
    for (char c : selector.substr(1)) {
      if (c < '0' || c > '9' || n > images.size())
        throw Error("manifest.json: bad index " + escape(selector, 20));
      n = n * 10 + static_cast<size_t>(c - '0');
    }
    if (n >= images.size()) {
      throw Error("manifest.json: no image " + std::string(selector) +
                  "; images: " + describe_images(images));
    }
    return n;
  }
  if (selector.empty()) {
    if (images.size() == 1) return 0;
    throw Error("manifest.json: holds " + std::to_string(images.size()) +
                " images; choose one with docker-archive:PATH:NAME:TAG or :@N (" +
                describe_images(images) + ")");
  }
  std::string wanted = normalize_tag(selector);
  for (size_t i = 0; i < images.size(); ++i) {
    for (const std::string& t : images[i].repo_tags) {
      if (normalize_tag(t) == wanted) return i;
    }
  }
  throw Error("manifest.json: no image tagged " + escape(selector, 80) +
              "; images: " + describe_images(images));
}

// Docker 25+ writes an OCI layout beside manifest.json; its index names the manifest of each
// image, which gives the manifest digest and the layer media types. Absent in the legacy
// layout: nullopt.
std::optional<std::pair<Descriptor, ImageManifest>> find_oci_manifest(
    const BlobStore& store, std::string_view config_digest) {
  if (config_digest.empty() || !store.size("index.json")) return std::nullopt;
  ImageIndex index = parse_index(store.read("index.json", kMaxJsonSize), "index.json");
  for (const Descriptor& d : index.manifests) {
    if (document_kind(d.media_type) != DocumentKind::kImageManifest) continue;
    if (!store.size(blob_member(d.digest))) continue;
    ImageManifest m =
        parse_image_manifest(fetch_blob(store, d, "index.json"), blob_member(d.digest));
    if (m.config.digest == config_digest) return std::make_pair(d, std::move(m));
  }
  return std::nullopt;
}

ImageInfo read_docker_archive(const BlobStore& store, const Ref& ref,
                              std::vector<std::string>& members) {
  if (!store.size("manifest.json")) {
    std::string hint = store.size("oci-layout") ? " (an OCI layout: use oci-archive:)" : "";
    throw Error("manifest.json: missing" + hint);
  }
  auto images = parse_docker_save_manifest(store.read("manifest.json", kMaxJsonSize));
  const DockerSaveImage& img = images[choose_image(images, ref.selector)];

  ImageInfo info;
  info.ref = ref.text;
  if (!store.size(img.config)) throw Error(img.config + ": missing (named by manifest.json)");
  std::string config_bytes = store.read(img.config, kMaxJsonSize);
  std::string config_digest = digest_of_member(img.config);
  if (config_digest.empty()) {
    info.notes.push_back(img.config + ": not named by its digest, so not verified");
  } else {
    verify_digest(config_bytes, config_digest, img.config);
  }
  info.config = parse_image_config(config_bytes, img.config);
  info.has_config = true;
  check_layer_count(info.config, img.layers.size(), info.notes);

  auto oci = find_oci_manifest(store, config_digest);
  if (oci) info.digest = oci->first.digest;
  for (size_t i = 0; i < img.layers.size(); ++i) {
    const std::string& member = img.layers[i];
    auto size = store.size(member);
    if (!size) {
      throw Error(member + ": missing (named by manifest.json as layer " + std::to_string(i) + ")");
    }
    LayerDesc l;
    // Legacy <id>/layer.tar names no blob digest; its diff_id verifies it.
    l.digest = starts_with(member, "blobs/") ? digest_of_member(member) : std::string();
    l.diff_id = info.config.diff_ids[i];
    l.media_type = std::string(kLegacyLayerMediaType);
    if (oci && i < oci->second.layers.size()) l.media_type = oci->second.layers[i].media_type;
    l.size = *size;
    info.layers.push_back(std::move(l));
    members.push_back(member);
  }
  info.platform = config_platform(info.config);
  return info;
}

template <typename F>
std::unique_ptr<ImageSource> build(std::unique_ptr<BlobStore> store, const std::string& what,
                                   F&& read) {
  return with_context(what, [&]() -> std::unique_ptr<ImageSource> {
    std::vector<std::string> members;
    ImageInfo info = read(*store, members);
    return std::make_unique<StoreSource>(std::move(store), std::move(info), std::move(members));
  });
}

std::string what_of(const Ref& ref) {
  return std::string(transport_name(ref.transport)) + ": " + escape(ref.path);
}

}  // namespace

std::unique_ptr<ImageSource> open_oci_store(std::unique_ptr<BlobStore> store, const Ref& ref,
                                            const OpenOptions& options, std::string what) {
  return build(std::move(store), what, [&](const BlobStore& s, std::vector<std::string>& m) {
    return read_oci_image(s, ref, options, m);
  });
}

std::unique_ptr<ImageSource> open_docker_archive_store(std::unique_ptr<BlobStore> store,
                                                       const Ref& ref, std::string what) {
  return build(std::move(store), what, [&](const BlobStore& s, std::vector<std::string>& m) {
    return read_docker_archive(s, ref, m);
  });
}

std::unique_ptr<ImageSource> open_oci_layout(const Ref& ref, const OpenOptions& options) {
  std::string what = what_of(ref);
  std::unique_ptr<BlobStore> store = with_context(what, [&] {
    return ref.transport == Transport::kOci ? open_dir_store(ref.path) : open_tar_store(ref.path);
  });
  return open_oci_store(std::move(store), ref, options, what);
}

std::unique_ptr<ImageSource> open_docker_archive(const Ref& ref, const OpenOptions& /*options*/) {
  std::string what = what_of(ref);
  auto store = with_context(what, [&] { return open_tar_store(ref.path); });
  return open_docker_archive_store(std::move(store), ref, what);
}

}  // namespace coroner::image
