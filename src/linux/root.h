// RootView: the merged image root as the simulations (users, loader, exec) see it: the Tree for
// names and metadata, the LayerIndexes for content facts (ELF summaries, script first lines)
// and for the small files captured while the layers streamed (/etc/passwd, ld.so.cache, ...).
// It never reads a layer again: what a simulation needs must have been captured by the scan
// (see capture_paths()).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "fs/resolve.h"
#include "fs/tree.h"
#include "scan/layer_index.h"

namespace coroner::linux_ {

class RootView {
 public:
  // Requires: `layers` are the LayerIndexes `tree` was built from, and both outlive the view.
  RootView(const fs::Tree& tree, std::span<const scan::LayerIndex> layers)
      : tree_(tree), layers_(layers) {}

  const fs::Tree& tree() const { return tree_; }
  std::span<const scan::LayerIndex> layers() const { return layers_; }

  // Content facts of a node's inode (ELF info, first line), or nullptr when there are none.
  const scan::Facts* facts(fs::NodeId id) const;
  // The whole content of a regular file if the scan captured it, following symlinks inside the
  // root; nullopt when absent, not regular, or not captured.
  std::optional<std::string_view> content(std::string_view path) const;
  // The captured content of one node (no symlink following).
  std::optional<std::string_view> content(fs::NodeId id) const;
  // A file's content or nullopt, for config files: follows symlinks.
  fs::ResolveResult resolve(std::string_view path, const fs::ResolveOptions& options = {}) const {
    return fs::resolve(tree_, path, options);
  }

 private:
  const fs::Tree& tree_;
  std::span<const scan::LayerIndex> layers_;
};

// Whether the diagnosis needs the whole content of this file (for ScanOptions::capture):
// passwd/group/shadow, ld.so.cache and ld.so.conf(.d), ld-musl-*.path, os-release, the dpkg and
// apk databases, and the config files of well-known servers (nginx, postgres, redis). `path` is
// normalised as in scan::Entry (no leading "/").
bool capture_paths(std::string_view path, uint64_t size);

}  // namespace coroner::linux_
