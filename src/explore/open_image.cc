#include "explore/open_image.h"

#include <algorithm>

#include "base/error.h"
#include "base/text.h"
#include "fs/resolve.h"
#include "image/manifest.h"
#include "image/ref.h"

namespace coroner::explore {
namespace {

// The content of `path` as the merged image shows it (symlinks followed inside the root), from
// the captured copy in the layer that holds it; nullopt when absent or not captured.
std::optional<std::string_view> captured_file(const fs::Tree& tree,
                                              std::span<const scan::LayerIndex> layers,
                                              std::string_view path) {
  fs::ResolveResult r = fs::resolve(tree, path);
  if (!r.ok()) return std::nullopt;
  const fs::Node& n = tree.node(*r.node);
  if (!n.is_regular()) return std::nullopt;
  const scan::LayerIndex& layer = layers[n.inode_layer];
  auto it = layer.captured.find(n.inode->path);
  if (it == layer.captured.end()) return std::nullopt;
  return it->second;
}

}  // namespace

std::vector<scan::LayerIndex> scan_streamed(const image::ImageSource& source,
                                            scan::ScanOptions options) {
  options.verify = true;  // the diff_id identifies the layer, also with --no-digest-check
  const std::vector<image::LayerDesc>& descs = source.info().layers;
  std::vector<scan::LayerIndex> out(descs.size());
  std::vector<bool> filled(descs.size(), false);
  uint32_t arrival = 0;
  while (std::optional<image::StreamedLayer> l = source.next_streamed_layer()) {
    std::string what = "save stream member " + escape(l->member);
    scan::LayerIndex index = with_context(
        what, [&] { return scan::scan_layer(*l->blob, image::LayerDesc{}, arrival, options); });
    size_t i = 0;
    while (i < descs.size() && (filled[i] || descs[i].diff_id != index.diff_id)) ++i;
    if (i == descs.size()) {
      bool listed = std::any_of(descs.begin(), descs.end(), [&](const image::LayerDesc& d) {
        return d.diff_id == index.diff_id;
      });
      throw Error(what + ": its diff_id " + index.diff_id +
                  (listed ? " comes more often than the image lists it"
                          : " is not a layer of the image (rootfs.diff_ids)"));
    }
    source.streamed_layer_is(l->member, i);
    index.index = static_cast<uint32_t>(i);
    index.desc = descs[i];
    out[i] = std::move(index);
    filled[i] = true;
    ++arrival;
  }
  for (size_t i = 0; i < descs.size(); ++i) {
    if (filled[i]) continue;
    bool twice = false;
    for (size_t j = 0; j < descs.size(); ++j)
      twice |= filled[j] && descs[j].diff_id == descs[i].diff_id;
    if (!twice) {
      throw Error(scan::layer_context(static_cast<uint32_t>(i), descs[i].diff_id) +
                  ": missing from the save stream (no member has its diff_id)");
    }
    std::unique_ptr<ByteStream> blob = source.open_layer(i);
    out[i] = scan::scan_layer(*blob, descs[i], static_cast<uint32_t>(i), options);
  }
  return out;
}

bool capture_for_explore(std::string_view path, uint64_t size) {
  return size <= (1u << 20) && (path == "etc/passwd" || path == "etc/group");
}

std::vector<std::optional<size_t>> history_of_layers(const image::ImageInfo& info) {
  std::vector<std::optional<size_t>> out(info.layers.size());
  size_t layer = 0;
  const auto& history = info.config.history;
  for (size_t h = 0; h < history.size() && layer < out.size(); ++h) {
    if (history[h].empty_layer) continue;
    out[layer++] = h;
  }
  return out;
}

Image::Image(std::unique_ptr<image::ImageSource> source, std::vector<scan::LayerIndex> layers)
    : source_(std::move(source)), layers_(std::move(layers)), tree_(fs::Tree::build(layers_)) {
  if (auto passwd = captured_file(tree_, layers_, "/etc/passwd")) {
    accounts_.users = IdNames::parse(*passwd);
    accounts_.has_passwd = true;
  }
  if (auto group = captured_file(tree_, layers_, "/etc/group")) {
    accounts_.groups = IdNames::parse(*group);
    accounts_.has_group = true;
  }
  auto hist = history_of_layers(info());
  for (size_t i = 0; i < layers_.size(); ++i) {
    bool known = i < hist.size() && hist[i];
    created_by_.push_back(known ? info().config.history[*hist[i]].created_by : "");
  }
}

std::string Image::layer_digest(uint32_t i) const {
  const scan::LayerIndex& l = layers_[i];
  if (!l.desc.digest.empty()) return l.desc.digest;
  if (!l.desc.diff_id.empty()) return l.desc.diff_id;
  return l.diff_id;
}

std::string Image::short_digest(uint32_t i) const {
  std::string d = layer_digest(i);
  if (d.empty()) return "-";  // a folder (rootfs:DIR) has no digest
  size_t colon = d.find(':');
  if (colon != std::string::npos) d = d.substr(colon + 1);
  return d.substr(0, 12);
}

std::string Image::created_by(uint32_t i) const {
  return i < created_by_.size() ? created_by_[i] : "";
}

const scan::Facts* Image::facts(uint32_t i, const scan::Entry& e) const {
  if (e.facts == scan::Entry::kNoFacts || i >= layers_.size()) return nullptr;
  const auto& f = layers_[i].facts;
  return e.facts < f.size() ? &f[e.facts] : nullptr;
}

std::unique_ptr<Image> open_image(const ImageRequest& request) {
  // Parse the reference (the transport, or sniff a bare path).
  image::Ref ref = image::parse_ref(request.ref);
  // Open the source: manifest, config, layer descriptors.
  image::OpenOptions open;
  open.platform = request.platform;
  open.via = request.via;
  open.single_pass = request.single_pass;
  open.insecure_registry = request.insecure;
  std::unique_ptr<image::ImageSource> source = image::open_source(ref, open);
  // Scan every layer once, in parallel, keeping the accounts files.
  scan::ScanOptions options;
  options.capture = capture_for_explore;
  if (request.capture) {
    options.capture = [&request](std::string_view path, uint64_t size) {
      return capture_for_explore(path, size) || request.capture(path, size);
    };
  }
  options.verify = request.check_digests;
  options.capture_scripts_up_to = request.capture_scripts_up_to;
  options.content_scanner = request.content_scanner;
  options.layer_scanned = request.layer_scanned;
  if (request.progress) {
    options.progress = [&request, &source](uint32_t layer, uint64_t bytes) {
      request.progress(layer, bytes, source->info().layers);
    };
  }
  std::vector<scan::LayerIndex> layers =
      source->streamed() ? scan_streamed(*source, options) : scan::scan_image(*source, options);
  // Merge.
  return std::make_unique<Image>(std::move(source), std::move(layers));
}

}  // namespace coroner::explore
