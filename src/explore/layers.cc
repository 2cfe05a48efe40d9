#include "explore/layers.h"

#include <algorithm>

namespace coroner::explore {
namespace {

HistoryRow layer_row(const Image& image, uint32_t i) {
  HistoryRow r;
  r.layer = i;
  r.digest = image.layer_digest(i);
  const scan::LayerIndex& l = image.layers()[i];
  r.size = l.uncompressed_bytes;
  r.compressed_size = l.compressed_bytes;
  fs::LayerChanges c = image.tree().layer_changes(i);
  r.added = c.added.size();
  r.modified = c.modified.size();
  r.deleted = c.deleted.size();
  r.wasted_bytes = c.wasted_bytes;
  return r;
}

}  // namespace

std::vector<HistoryRow> history_rows(const Image& image) {
  const auto& history = image.info().config.history;
  std::vector<HistoryRow> rows;
  uint32_t next = 0;
  auto layer_count = static_cast<uint32_t>(image.layers().size());
  for (const image::HistoryEntry& h : history) {
    HistoryRow r;
    if (!h.empty_layer && next < layer_count) r = layer_row(image, next++);
    r.created = h.created;
    r.created_by = h.created_by;
    r.comment = h.comment;
    rows.push_back(std::move(r));
  }
  while (next < layer_count) rows.push_back(layer_row(image, next++));
  return rows;
}

std::vector<LayerChange> layer_change_list(const Image& image, uint32_t layer) {
  const fs::Tree& tree = image.tree();
  fs::LayerChanges c = tree.layer_changes(layer);
  std::vector<LayerChange> out;
  auto add = [&](const std::vector<fs::NodeId>& ids, char kind) {
    for (fs::NodeId id : ids) {
      LayerChange ch{kind, tree.path_of(id), 0, false, false};
      // The version this layer wrote (the node may have been changed again above).
      for (const fs::Version& v : tree.history(id)) {
        if (v.layer != layer || !v.inode) continue;
        ch.is_dir = v.inode->type == scan::FileType::kDirectory;
        ch.regular = v.inode->type == scan::FileType::kRegular;
        if (ch.regular) ch.size = v.inode->size;
      }
      out.push_back(std::move(ch));
    }
  };
  add(c.added, 'A');
  add(c.modified, 'M');
  add(c.deleted, 'D');
  std::sort(out.begin(), out.end(),
            [](const LayerChange& a, const LayerChange& b) { return a.path < b.path; });
  return out;
}

}  // namespace coroner::explore
