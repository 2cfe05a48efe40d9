#include "explore/export.h"

#include <algorithm>
#include <map>

#include "base/text.h"
#include "explore/layer_reader.h"
#include "fs/tree.h"

namespace coroner::explore {
namespace {

ExportItem make_item(const Image& image, fs::NodeId id) {
  const fs::Tree& tree = image.tree();
  const fs::Node& n = tree.node(id);
  const scan::Entry& inode = *n.inode;
  ExportItem it;
  std::string path = tree.path_of(id);
  it.path = id == fs::kRootNode ? "." : path.substr(1);
  it.type = inode.type;
  it.mode = inode.mode & 07777;
  it.uid = inode.uid;
  it.gid = inode.gid;
  it.uname = inode.uname;
  it.gname = inode.gname;
  it.mtime = inode.mtime;
  it.size = inode.type == scan::FileType::kRegular ? inode.size : 0;
  it.sparse = inode.type == scan::FileType::kRegular && inode.sparse;
  if (inode.type == scan::FileType::kSymlink) it.link = inode.link;
  if (const scan::Facts* f = image.facts(n.inode_layer, inode)) {
    it.xattrs = f->xattrs;
    it.dev_major = f->dev_major;
    it.dev_minor = f->dev_minor;
  }
  return it;
}

// The plan: which node goes in which phase.
struct Plan {
  std::vector<fs::NodeId> dirs, specials;
  std::map<uint32_t, std::vector<fs::NodeId>> files_by_layer;  // by Node::inode_layer
  std::vector<std::pair<fs::NodeId, fs::NodeId>> hardlinks;    // (path, first path of group)
};

Plan make_plan(const fs::Tree& tree) {
  std::map<fs::NodeId, fs::NodeId> link_to;  // non-first members of a group -> first
  for (const auto& group : tree.hardlink_groups()) {
    for (size_t i = 1; i < group.size(); ++i) link_to[group[i]] = group[0];
  }
  Plan p;
  tree.walk([&](fs::NodeId id) {
    const fs::Node& n = tree.node(id);
    if (n.is_dir()) {
      p.dirs.push_back(id);
    } else if (!n.is_regular()) {
      p.specials.push_back(id);
    } else if (auto it = link_to.find(id); it != link_to.end()) {
      p.hardlinks.emplace_back(id, it->second);
    } else {
      p.files_by_layer[n.inode_layer].push_back(id);
    }
    return true;
  });
  return p;
}

}  // namespace

ExportStats export_root(const Image& image, ExportWriter& writer) {
  const fs::Tree& tree = image.tree();
  Plan plan = make_plan(tree);
  ExportStats stats;
  // Directories first, parents before children (preorder).
  for (fs::NodeId id : plan.dirs) writer.add(make_item(image, id), nullptr);
  // Symlinks, devices, fifos: their parents exist now.
  for (fs::NodeId id : plan.specials) writer.add(make_item(image, id), nullptr);
  // Regular files, each layer streamed once in data order.
  for (const auto& [layer, ids] : plan.files_by_layer) {
    std::map<const scan::Entry*, std::vector<fs::NodeId>> by_inode;
    std::vector<const scan::Entry*> wanted;
    for (fs::NodeId id : ids) {
      auto& v = by_inode[tree.node(id).inode];
      if (v.empty()) wanted.push_back(tree.node(id).inode);
      v.push_back(id);
    }
    read_entries(image.source(), image.layers()[layer], wanted,
                 [&](const scan::Entry& e, ByteStream& content) {
                   // Every other path sharing this inode is in its hardlink group.
                   const auto& nodes = by_inode.at(&e);
                   writer.add(make_item(image, nodes[0]), &content);
                   stats.files++;
                   stats.bytes += e.size;
                 });
  }
  // Hardlinks, after the file they link to.
  for (const auto& [id, first] : plan.hardlinks) {
    ExportItem it = make_item(image, id);
    it.type = scan::FileType::kHardlink;
    it.link = tree.path_of(first).substr(1);
    writer.add(it, nullptr);
    stats.hardlinks++;
  }
  writer.finish();
  stats.entries = plan.dirs.size() - 1 + plan.specials.size() + stats.files + stats.hardlinks;
  stats.notes = writer.notes();
  return stats;
}

void write_layer_map(const Image& image, std::ostream& out) {
  const fs::Tree& tree = image.tree();
  std::vector<std::pair<std::string, uint32_t>> rows;
  tree.walk([&](fs::NodeId id) {
    if (id != fs::kRootNode) rows.emplace_back(tree.path_of(id), tree.node(id).layer);
    return true;
  });
  std::sort(rows.begin(), rows.end());
  for (const auto& [path, layer] : rows) {
    out << escape(path, SIZE_MAX) << '\t' << layer << '\t' << image.layer_digest(layer) << '\t'
        << escape(image.created_by(layer), SIZE_MAX) << '\n';
  }
}

}  // namespace coroner::explore
