#include "pkg/digest_pass.h"

#include <openssl/evp.h>

#include <array>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

#include "base/text.h"

namespace coroner::pkg {
namespace {

constexpr std::string_view kEmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

// First component of `path` and the rest ("" when there is none).
std::pair<std::string_view, std::string_view> head_tail(std::string_view path) {
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

uint64_t hash_of(std::string_view path) { return std::hash<std::string_view>{}(path); }

class Md5Pass : public scan::ContentScanner {
 public:
  Md5Pass(std::unique_ptr<scan::ContentScanner> inner, std::shared_ptr<const ShadowBoard> shadows)
      : inner_(std::move(inner)), shadows_(std::move(shadows)) {}

  void set_layer(uint32_t index) override {
    layer_ = index;
    if (inner_) inner_->set_layer(index);
  }
  bool begin(std::string_view path, uint64_t size, scan::ContentKind kind) override {
    inner_on_ = inner_ && inner_->begin(path, size, kind);
    hashing_ = size > 0 && ctx_ && may_be_package_file(path) &&
               !(shadows_ && layer_ && shadows_->hidden_above(*layer_, path)) &&
               EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) == 1;
    return inner_on_ || hashing_;
  }
  void feed(std::span<const std::byte> block) override {
    if (inner_on_) inner_->feed(block);
    if (hashing_) EVP_DigestUpdate(ctx_.get(), block.data(), block.size());
  }
  void end(std::vector<scan::ContentMatch>& out) override {
    if (inner_on_) inner_->end(out);
    if (!hashing_) return;
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), md.data(), &n) != 1) return;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * n);
    for (unsigned int i = 0; i < n; ++i) {
      hex += kHex[md[i] >> 4];
      hex += kHex[md[i] & 15];
    }
    out.push_back({0, 0, kPassMd5Rule, std::move(hex)});
  }

 private:
  std::unique_ptr<scan::ContentScanner> inner_;
  std::shared_ptr<const ShadowBoard> shadows_;
  std::optional<uint32_t> layer_;  // unknown in a streamed scan: nothing is skipped
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_{EVP_MD_CTX_new(), EVP_MD_CTX_free};
  bool inner_on_ = false, hashing_ = false;
};

}  // namespace

bool may_be_package_file(std::string_view path) {
  auto [top, rest] = head_tail(path);
  if (top == "usr") return !starts_with(rest, "local/");
  if (top == "var") {
    std::string_view sub = head_tail(rest).first;
    return sub != "tmp" && sub != "log" && sub != "cache" && sub != "run";
  }
  return top == "bin" || top == "sbin" || top == "etc" || top == "boot" || top == "lib" ||
         top == "lib32" || top == "lib64" || top == "libx32";
}

std::unique_ptr<scan::ContentScanner> md5_pass(std::unique_ptr<scan::ContentScanner> inner,
                                               std::shared_ptr<const ShadowBoard> shadows) {
  return std::make_unique<Md5Pass>(std::move(inner), std::move(shadows));
}

void ShadowBoard::publish(const scan::LayerIndex& layer) {
  Layer l;
  for (const scan::Entry& e : layer.entries) {
    uint64_t h = hash_of(e.path);
    switch (e.whiteout) {
      case scan::Whiteout::kNone:
        l.written.insert(h);
        break;
      case scan::Whiteout::kFile:
        l.deleted.insert(h);
        break;
      case scan::Whiteout::kOpaque:
        l.opaque.insert(h);
        break;
    }
  }
  std::unique_lock lock(mu_);
  layers_[layer.index] = std::move(l);
}

bool ShadowBoard::hidden_above(uint32_t layer, std::string_view path) const {
  std::shared_lock lock(mu_);
  for (auto it = layers_.upper_bound(layer); it != layers_.end(); ++it) {
    const Layer& l = it->second;
    uint64_t h = hash_of(path);
    if (l.written.count(h) || l.deleted.count(h)) return true;
    // A deleted or opaque parent directory hides everything the lower layers had below it.
    for (size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      uint64_t p = hash_of(path.substr(0, slash));
      if (l.deleted.count(p) || l.opaque.count(p)) return true;
    }
  }
  return false;
}

PassDigests::PassDigests(std::span<const scan::LayerIndex> layers) {
  for (const scan::LayerIndex& l : layers) {
    for (const scan::ContentMatch& m : l.content_matches) {
      if (m.rule == kPassMd5Rule && m.entry < l.entries.size())
        md5_[&l.entries[m.entry]] = m.redacted;
    }
  }
}

KnownDigest PassDigests::known() const {
  return [this](const scan::Entry& e, size_t hex_len) -> std::optional<std::string> {
    if (hex_len != kEmptyMd5.size()) return std::nullopt;
    if (e.type == scan::FileType::kRegular && e.size == 0) return std::string(kEmptyMd5);
    auto it = md5_.find(&e);
    if (it == md5_.end()) return std::nullopt;
    return std::string(it->second);
  };
}

}  // namespace coroner::pkg
