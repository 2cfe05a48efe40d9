// The docker:// source: an image read from a registry with registry::Client.
#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/text.h"
#include "image/engine.h"
#include "image/manifest.h"
#include "image/registry.h"

namespace coroner::image {
namespace {

class RegistrySource : public ImageSource {
 public:
  RegistrySource(std::unique_ptr<registry::Client> client, ImageInfo info)
      : client_(std::move(client)), info_(std::move(info)) {}
  const ImageInfo& info() const override { return info_; }
  std::unique_ptr<ByteStream> open_layer(size_t index) const override {
    CORONER_CHECK(index < info_.layers.size());
    const std::string& digest = info_.layers[index].digest;
    return client_->open_blob(digest, "docker://" + client_->name().str() + ": blob " + digest);
  }

 private:
  std::unique_ptr<registry::Client> client_;
  ImageInfo info_;
};

// A manifest named by a descriptor (an index entry): its size and digest checked.
std::string fetch_manifest(registry::Client& client, const Descriptor& d) {
  std::string what = "manifest " + d.digest;
  registry::Client::Manifest m = client.manifest(d.digest);
  verify_blob(m.body, d, what, "the index");
  return m.body;
}

ImageInfo read_image(registry::Client& client, const Ref& ref, const OpenOptions& options) {
  const registry::Name& name = client.name();
  ImageInfo info;
  info.ref = ref.text;
  registry::Client::Manifest top = client.manifest(name.reference());
  std::string what = "manifest " + name.reference();
  if (!name.digest.empty()) verify_digest(top.body, name.digest, what);
  std::string type = registry::media_type_of(top.body, top.media_type, what);
  if (starts_with(type, registry::kSchema1)) {
    throw Error(what + ": a Docker schema 1 manifest (" + escape(type, 80) +
                "), deprecated since 2017 and not read by coroner; push the image again with a "
                "current docker, buildah or skopeo");
  }
  std::string body = std::move(top.body);
  info.digest = sha256_digest(as_bytes(body));
  Descriptor chosen;
  switch (document_kind(type)) {
    case DocumentKind::kIndex: {
      ImageIndex index = parse_index(body, what);
      registry::Client* c = &client;
      BlobFetcher fetch = [c](const Descriptor& d) { return fetch_manifest(*c, d); };
      chosen = select_platform(index, options.platform, fetch, what);
      what = "manifest " + chosen.digest;
      body = fetch_manifest(client, chosen);
      info.digest = chosen.digest;
      break;
    }
    case DocumentKind::kImageManifest:
      break;
    case DocumentKind::kOther:
      throw Error(what + ": media type \"" + escape(type, 80) +
                  "\" is neither an image manifest nor an index");
  }
  ImageManifest m = parse_image_manifest(body, what);
  require_runnable(m, what);
  std::string config = client.blob(m.config.digest, kMaxJsonSize);
  std::string config_what = "config " + m.config.digest;
  verify_blob(config, m.config, config_what, "the manifest");
  info.config = parse_image_config(config, config_what);
  info.has_config = true;
  check_layer_count(info.config, m.layers.size(), info.notes);
  for (size_t i = 0; i < m.layers.size(); ++i) {
    const Descriptor& l = m.layers[i];
    info.layers.push_back(LayerDesc{l.digest, info.config.diff_ids[i], l.media_type, l.size});
  }
  info.platform = config_platform(info.config);
  if (info.platform.empty() && chosen.platform) info.platform = chosen.platform->str();
  return info;
}

}  // namespace

std::unique_ptr<ImageSource> open_registry_source(const Ref& ref, const OpenOptions& options) {
  registry::Name name = registry::parse_name(ref.name);
  return with_context("docker://" + name.str(), [&]() -> std::unique_ptr<ImageSource> {
    registry::ClientOptions co;
    co.insecure = options.insecure_registry;
    co.config_dir = engine::endpoint_inputs_from_env().config_dir;
    auto client = std::make_unique<registry::Client>(name, co);
    ImageInfo info = read_image(*client, ref, options);
    return std::make_unique<RegistrySource>(std::move(client), std::move(info));
  });
}

}  // namespace coroner::image
