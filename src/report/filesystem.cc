#include "report/filesystem.h"

#include <algorithm>

#include "explore/layers.h"

namespace coroner::report {
namespace {

struct Sums {
  std::vector<uint64_t> bytes, files;
};

// One pass in reverse preorder: children come after their parent in preorder, so each node's
// totals are final before they are added to its parent.
Sums subtree_sums(const fs::Tree& tree) {
  std::vector<fs::NodeId> order;
  tree.walk([&](fs::NodeId id) {
    order.push_back(id);
    return true;
  });
  Sums s{std::vector<uint64_t>(tree.node_count()), std::vector<uint64_t>(tree.node_count())};
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const fs::Node& n = tree.node(*it);
    if (!n.is_dir()) {
      s.files[*it] += 1;
      bool link = n.entry && n.entry->type == scan::FileType::kHardlink;
      if (n.is_regular() && !link) s.bytes[*it] += n.inode->size;
    }
    if (*it == fs::kRootNode) continue;
    s.bytes[n.parent] += s.bytes[*it];
    s.files[n.parent] += s.files[*it];
  }
  return s;
}

class Folder {
 public:
  Folder(const fs::Tree& tree, const FilesystemLimits& limits)
      : tree_(tree), limits_(limits), sums_(subtree_sums(tree)) {
    min_bytes_ = static_cast<uint64_t>(static_cast<double>(sums_.bytes[fs::kRootNode]) *
                                       limits.min_fraction);
  }

  DirSize build(fs::NodeId id, uint32_t depth) const {
    const fs::Node& n = tree_.node(id);
    DirSize d;
    d.name = std::string(n.name);
    d.bytes = sums_.bytes[id];
    d.files = sums_.files[id];
    d.layer = n.layer;
    d.dir = n.is_dir();
    if (!d.dir) return d;
    if (depth >= limits_.max_depth) {
      d.folded = !tree_.children(id).empty();
      return d;
    }
    std::vector<fs::NodeId> kids(tree_.children(id).begin(), tree_.children(id).end());
    std::stable_sort(kids.begin(), kids.end(),
                     [&](fs::NodeId a, fs::NodeId b) { return sums_.bytes[a] > sums_.bytes[b]; });
    DirSize other;
    other.name = "other";
    other.folded = true;
    uint64_t folded = 0;
    for (fs::NodeId k : kids) {
      bool keep = d.children.size() < limits_.max_children && sums_.bytes[k] >= min_bytes_ &&
                  sums_.bytes[k] > 0;
      if (keep) {
        d.children.push_back(build(k, depth + 1));
        continue;
      }
      other.bytes += sums_.bytes[k];
      other.files += sums_.files[k];
      ++folded;
    }
    if (folded > 0) {
      other.name = std::to_string(folded) + (folded == 1 ? " other entry" : " other entries");
      d.children.push_back(std::move(other));
    }
    return d;
  }

 private:
  const fs::Tree& tree_;
  const FilesystemLimits& limits_;
  Sums sums_;
  uint64_t min_bytes_ = 0;
};

}  // namespace

Filesystem summarize_filesystem(const fs::Tree& tree, const FilesystemLimits& limits) {
  if (tree.node_count() == 0) return {};
  return {Folder(tree, limits).build(fs::kRootNode, 0)};
}

std::vector<LayerRow> layer_rows(const explore::Image& image) {
  std::vector<LayerRow> rows;
  for (const explore::HistoryRow& h : explore::history_rows(image)) {
    if (!h.layer) continue;
    LayerRow r;
    r.index = *h.layer;
    r.digest = h.digest;
    r.created_by = h.created_by;
    r.size = h.size;
    r.compressed_size = h.compressed_size;
    r.added = h.added;
    r.modified = h.modified;
    r.deleted = h.deleted;
    r.wasted_bytes = h.wasted_bytes;
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace coroner::report
