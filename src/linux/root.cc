#include "linux/root.h"

#include "base/text.h"

namespace coroner::linux_ {

const scan::Facts* RootView::facts(fs::NodeId id) const {
  const fs::Node& n = tree_.node(id);
  if (!n.present || !n.inode || n.inode->facts == scan::Entry::kNoFacts) return nullptr;
  const scan::LayerIndex& layer = layers_[n.inode_layer];
  if (n.inode->facts >= layer.facts.size()) return nullptr;
  return &layer.facts[n.inode->facts];
}

std::optional<std::string_view> RootView::content(fs::NodeId id) const {
  const fs::Node& n = tree_.node(id);
  if (!n.present || !n.is_regular()) return std::nullopt;
  const scan::LayerIndex& layer = layers_[n.inode_layer];
  auto it = layer.captured.find(n.inode->path);
  if (it == layer.captured.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> RootView::content(std::string_view path) const {
  auto r = fs::resolve(tree_, path);
  if (!r.ok()) return std::nullopt;
  return content(*r.node);
}

bool capture_paths(std::string_view p, uint64_t size) {
  if (size > (16u << 20)) return false;
  static constexpr std::string_view kExact[] = {
      "etc/passwd",           "etc/group",
      "etc/shadow",           "etc/ld.so.cache",
      "etc/ld.so.conf",       "etc/os-release",
      "usr/lib/os-release",   "var/lib/dpkg/status",
      "lib/apk/db/installed", "etc/nginx/nginx.conf",
      "etc/redis/redis.conf", "etc/redis.conf",
      "etc/nsswitch.conf",    "etc/alpine-release",
      "etc/debian_version",
  };
  for (auto e : kExact) {
    if (p == e) return true;
  }
  if (starts_with(p, "etc/ld.so.conf.d/")) return true;
  if (starts_with(p, "etc/ld-musl-") && ends_with(p, ".path")) return true;
  if (starts_with(p, "var/lib/dpkg/status.d/")) return true;
  if (starts_with(p, "etc/nginx/") && ends_with(p, ".conf")) return true;
  if (starts_with(p, "etc/postgresql/") && ends_with(p, ".conf")) return true;
  return false;
}

}  // namespace coroner::linux_
