#include "testing/tree_builder.h"

#include <algorithm>
#include <utility>

namespace coroner::testing {

using scan::ContentKind;
using scan::Entry;
using scan::FileType;

TreeBuilder::TreeBuilder() { layer(); }

TreeBuilder& TreeBuilder::layer() {
  layers_.emplace_back();
  layers_.back().index = static_cast<uint32_t>(layers_.size() - 1);
  return *this;
}

std::string_view TreeBuilder::keep(std::string_view s) {
  strings_.emplace_back(s);
  return strings_.back();
}

Entry& TreeBuilder::add(std::string_view path, FileType type, uint32_t mode) {
  Entry e;
  e.path = keep(path);
  e.type = type;
  e.mode = mode;
  e.mtime = 1700000000;
  layers_.back().entries.push_back(e);
  return layers_.back().entries.back();
}

TreeBuilder& TreeBuilder::file(std::string_view path, uint64_t size, uint32_t mode, uint32_t uid,
                               uint32_t gid) {
  Entry& e = add(path, FileType::kRegular, mode);
  e.size = size;
  e.uid = uid;
  e.gid = gid;
  e.kind = size == 0 ? ContentKind::kEmpty : ContentKind::kBinary;
  return *this;
}

TreeBuilder& TreeBuilder::dir(std::string_view path, uint32_t mode, uint32_t uid, uint32_t gid) {
  Entry& e = add(path, FileType::kDirectory, mode);
  e.uid = uid;
  e.gid = gid;
  return *this;
}

TreeBuilder& TreeBuilder::symlink(std::string_view path, std::string_view target) {
  Entry& e = add(path, FileType::kSymlink, 0777);
  e.link = keep(target);
  return *this;
}

TreeBuilder& TreeBuilder::hardlink(std::string_view path, std::string_view target) {
  Entry& e = add(path, FileType::kHardlink, 0644);
  e.link = keep(target);
  return *this;
}

TreeBuilder& TreeBuilder::char_device(std::string_view path, uint32_t major, uint32_t minor,
                                      uint32_t mode) {
  add(path, FileType::kCharDevice, mode);
  scan::Facts& f = facts_of_last();
  f.dev_major = major;
  f.dev_minor = minor;
  return *this;
}

TreeBuilder& TreeBuilder::fifo(std::string_view path, uint32_t mode) {
  add(path, FileType::kFifo, mode);
  return *this;
}

TreeBuilder& TreeBuilder::whiteout(std::string_view path) {
  Entry& e = add(path, FileType::kRegular, 0);
  e.whiteout = scan::Whiteout::kFile;
  return *this;
}

TreeBuilder& TreeBuilder::opaque(std::string_view dir) {
  Entry& e = add(dir.empty() ? std::string_view(".") : dir, FileType::kRegular, 0);
  e.whiteout = scan::Whiteout::kOpaque;
  return *this;
}

TreeBuilder& TreeBuilder::owner(uint32_t uid, uint32_t gid) {
  layers_.back().entries.back().uid = uid;
  layers_.back().entries.back().gid = gid;
  return *this;
}

TreeBuilder& TreeBuilder::mode(uint32_t mode) {
  layers_.back().entries.back().mode = mode;
  return *this;
}

TreeBuilder& TreeBuilder::size(uint64_t size) {
  layers_.back().entries.back().size = size;
  return *this;
}

TreeBuilder& TreeBuilder::kind(ContentKind kind) {
  layers_.back().entries.back().kind = kind;
  return *this;
}

TreeBuilder& TreeBuilder::content(std::string_view bytes) {
  Entry& e = layers_.back().entries.back();
  e.size = bytes.size();
  if (bytes.empty()) {
    e.kind = ContentKind::kEmpty;
  } else if (bytes.starts_with("\x7f"
                               "ELF")) {
    e.kind = ContentKind::kElf;
  } else if (bytes.starts_with("#!")) {
    first_line(bytes.substr(0, std::min(bytes.find('\n'), size_t{256})));
  } else if (bytes.find('\0') == std::string_view::npos) {
    e.kind = ContentKind::kText;
  } else {
    e.kind = ContentKind::kBinary;
  }
  layers_.back().captured[std::string(e.path)] = std::string(bytes);
  return *this;
}

TreeBuilder& TreeBuilder::first_line(std::string_view line) {
  facts_of_last().first_line = std::string(line);
  layers_.back().entries.back().kind = ContentKind::kScript;
  return *this;
}

TreeBuilder& TreeBuilder::elf(elf::ElfInfo info) {
  facts_of_last().elf = std::move(info);
  layers_.back().entries.back().kind = ContentKind::kElf;
  return *this;
}

TreeBuilder& TreeBuilder::xattr(std::string_view name, std::string_view value) {
  facts_of_last().xattrs.emplace_back(std::string(name), std::string(value));
  return *this;
}

scan::Facts& TreeBuilder::facts_of_last() {
  scan::LayerIndex& l = layers_.back();
  Entry& e = l.entries.back();
  if (e.facts == Entry::kNoFacts) {
    e.facts = static_cast<uint32_t>(l.facts.size());
    l.facts.emplace_back();
  }
  return l.facts[e.facts];
}

fs::Tree TreeBuilder::build() const { return fs::Tree::build(layers_); }

std::vector<std::string> check_invariants(const fs::Tree& tree) {
  std::vector<std::string> bad;
  auto fail = [&](fs::NodeId id, std::string what) {
    bad.push_back(tree.path_of(id) + ": " + what);
  };
  size_t layers = tree.layer_count();
  if (!tree.node(fs::kRootNode).present || !tree.node(fs::kRootNode).is_dir()) {
    bad.push_back("/: root is not a present directory");
  }
  size_t present = 0;
  for (fs::NodeId id = 0; id < tree.node_count(); ++id) {
    const fs::Node& n = tree.node(id);
    if (n.last_version != fs::kNoVersion && tree.versions()[n.last_version].node != id) {
      fail(id, "last_version belongs to another node");
    }
    if (!n.present) continue;
    ++present;
    if (n.name.starts_with(".wh.")) fail(id, "whiteout name in the merged view");
    if (n.name == "." || n.name == ".." || n.name.find('/') != std::string_view::npos) {
      fail(id, "bad name");
    }
    if (!n.entry || !n.inode) {
      fail(id, "no entry");
      continue;
    }
    if (n.inode->type == FileType::kHardlink) fail(id, "inode is a hardlink entry");
    if (n.entry->whiteout != scan::Whiteout::kNone) fail(id, "whiteout entry in the view");
    if (id != fs::kRootNode || !n.implicit) {
      if (n.layer >= layers) fail(id, "layer out of range");
      if (n.inode_layer > n.layer) fail(id, "inode from a layer above the node's");
    }
    if (id == fs::kRootNode) continue;
    const fs::Node& p = tree.node(n.parent);
    if (!p.present || !p.is_dir()) fail(id, "parent not a present directory");
    if (tree.lookup(tree.path_of(id)) != id) fail(id, "lookup(path_of(id)) differs");
  }
  // Children: every present node listed once under its parent, sorted and unique.
  size_t listed = 1;
  for (fs::NodeId id = 0; id < tree.node_count(); ++id) {
    std::span<const fs::NodeId> kids = tree.children(id);
    if (!kids.empty() && (!tree.node(id).present || !tree.node(id).is_dir())) {
      fail(id, "children under a non-directory");
    }
    for (size_t i = 0; i < kids.size(); ++i) {
      ++listed;
      if (tree.node(kids[i]).parent != id) fail(kids[i], "listed under the wrong parent");
      if (i > 0 && !(tree.node(kids[i - 1]).name < tree.node(kids[i]).name)) {
        fail(kids[i], "children not sorted or not unique");
      }
    }
  }
  if (listed != present) bad.push_back("children lists do not cover the present nodes");
  for (const fs::Version& v : tree.versions()) {
    if (v.layer >= layers || v.node >= tree.node_count()) {
      bad.push_back("version with a bad layer or node");
      continue;
    }
    if ((v.change == fs::Change::kDeleted) != (v.entry == nullptr)) {
      fail(v.node, "deleted version with an entry, or a write without one");
    }
  }
  for (const auto& group : tree.hardlink_groups()) {
    for (fs::NodeId id : group) {
      if (!tree.node(id).present) fail(id, "hardlink group member not present");
      if (tree.node(id).inode != tree.node(group[0]).inode) fail(id, "hardlink group mixed");
    }
  }
  return bad;
}

std::string vfs_cap(uint32_t magic, std::vector<uint32_t> words) {
  words.insert(words.begin(), magic);
  std::string s;
  for (uint32_t w : words) {
    for (int i = 0; i < 4; ++i) s += static_cast<char>((w >> (8 * i)) & 0xff);
  }
  return s;
}

}  // namespace coroner::testing
