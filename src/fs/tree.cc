#include "fs/tree.h"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "fs/resolve.h"

namespace coroner::fs {
namespace {

using scan::Entry;
using scan::FileType;

constexpr uint32_t kEmptySlot = UINT32_MAX;
constexpr NodeId kNoNode = UINT32_MAX;
// Bound on implicit directories created for one entry's parent path (each retry of the
// resolution creates one); a normalised path has far fewer components.
constexpr int kMaxParentSteps = 4096;

const Entry& make_implicit_dir() {
  static const Entry e = [] {
    Entry d;
    d.type = FileType::kDirectory;
    d.mode = 0755;
    return d;
  }();
  return e;
}

size_t hash_key(NodeId parent, std::string_view name) {
  return std::hash<std::string_view>{}(name) ^ (uint64_t{parent} * 0x9E3779B97F4A7C15ull);
}

std::pair<std::string_view, std::string_view> split_last(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return {std::string_view{}, path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

bool is_regular(const Entry* e) { return e && e->type == FileType::kRegular; }

// A component starting with ".wh." is an OCI whiteout marker: never a name in the view.
bool is_marker(std::string_view name) { return name.starts_with(".wh."); }

bool has_marker_component(std::string_view path) {
  for (size_t pos = path.find(".wh."); pos != std::string_view::npos;
       pos = path.find(".wh.", pos + 1)) {
    if (pos == 0 || path[pos - 1] == '/') return true;
  }
  return false;
}

}  // namespace

const scan::Entry& implicit_dir_entry() { return make_implicit_dir(); }

// Builds a Tree layer by layer; holds the state that only the merge needs (sibling lists, the
// per-layer bookkeeping of touched nodes) and drops it when done.
class TreeMerger {
 public:
  explicit TreeMerger(std::span<const scan::LayerIndex> layers) : layers_(layers) {}

  Tree run() {
    t_.layer_count_ = layers_.size();
    t_.slots_.assign(1024, kEmptySlot);
    NodeId root = new_node(kRootNode, {});
    Node& r = t_.nodes_[root];
    r.present = true;
    r.implicit = true;
    r.entry = r.inode = &make_implicit_dir();
    for (layer_ = 0; layer_ < layers_.size(); ++layer_) {
      t_.layer_begin_.push_back(static_cast<uint32_t>(t_.versions_.size()));
      apply_deletions(layers_[layer_]);
      apply_additions(layers_[layer_]);
      record_versions();
    }
    t_.layer_begin_.push_back(static_cast<uint32_t>(t_.versions_.size()));
    finalize();
    return std::move(t_);
  }

 private:
  // --- nodes and the (parent, name) index ---------------------------------------------------

  NodeId find_any(NodeId parent, std::string_view name) const {
    size_t mask = t_.slots_.size() - 1;
    for (size_t i = hash_key(parent, name) & mask;; i = (i + 1) & mask) {
      uint32_t id = t_.slots_[i];
      if (id == kEmptySlot) return kNoNode;
      const Node& n = t_.nodes_[id];
      if (n.parent == parent && n.name == name && id != kRootNode) return id;
    }
  }

  void insert_slot(NodeId id) {
    size_t mask = t_.slots_.size() - 1;
    const Node& n = t_.nodes_[id];
    size_t i = hash_key(n.parent, n.name) & mask;
    while (t_.slots_[i] != kEmptySlot) i = (i + 1) & mask;
    t_.slots_[i] = id;
  }

  NodeId new_node(NodeId parent, std::string_view name) {
    auto id = static_cast<NodeId>(t_.nodes_.size());
    Node n;
    n.name = name;
    n.parent = parent;
    t_.nodes_.push_back(n);
    first_child_.push_back(kNoNode);
    next_sibling_.push_back(kNoNode);
    touched_epoch_.push_back(0);
    was_present_.push_back(0);
    cause_.push_back(Cause::kNone);
    if (id != kRootNode) {
      next_sibling_[id] = first_child_[parent];
      first_child_[parent] = id;
    }
    if ((t_.nodes_.size() + 1) * 2 > t_.slots_.size()) {
      t_.slots_.assign(t_.slots_.size() * 2, kEmptySlot);
      for (NodeId i = 0; i < t_.nodes_.size(); ++i) insert_slot(i);
    } else {
      insert_slot(id);
    }
    return id;
  }

  bool present_dir(NodeId id) const {
    const Node& n = t_.nodes_[id];
    return n.present && n.is_dir();
  }

  // --- per-layer bookkeeping ------------------------------------------------------------------

  void touch(NodeId id) {
    if (touched_epoch_[id] == layer_ + 1) return;
    touched_epoch_[id] = layer_ + 1;
    was_present_[id] = t_.nodes_[id].present;
    cause_[id] = Cause::kNone;
    touched_.push_back(id);
  }

  // Marks `id` and everything below it deleted.
  void remove_subtree(NodeId id, Cause cause) {
    parent_cache_valid_ = false;
    std::vector<NodeId> stack{id};
    while (!stack.empty()) {
      NodeId n = stack.back();
      stack.pop_back();
      Node& node = t_.nodes_[n];
      if (!node.present) continue;
      touch(n);
      forget_same_layer_write(node);
      node.present = false;
      cause_[n] = cause;
      for (NodeId c = first_child_[n]; c != kNoNode; c = next_sibling_[c]) {
        if (t_.nodes_[c].present) stack.push_back(c);
      }
    }
  }

  void remove_children(NodeId dir, Cause cause) {
    for (NodeId c = first_child_[dir]; c != kNoNode; c = next_sibling_[c]) {
      if (t_.nodes_[c].present) remove_subtree(c, cause);
    }
  }

  // A regular file written earlier in this layer and now overwritten or removed: its bytes are
  // in the layer but will have no Version, so keep it for the wasted-bytes count.
  void forget_same_layer_write(const Node& node) {
    if (node.present && node.layer == layer_ && !node.implicit && is_regular(node.entry)) {
      overwritten_.emplace_back(layer_, node.entry);
    }
  }

  void set_version(NodeId id, const Entry* entry, const Entry* inode, uint32_t inode_layer,
                   bool implicit) {
    touch(id);
    Node& node = t_.nodes_[id];
    if (node.entry != entry) forget_same_layer_write(node);
    node.present = true;
    node.entry = entry;
    node.inode = inode;
    node.layer = layer_;
    node.inode_layer = inode_layer;
    node.implicit = implicit;
  }

  void note(std::string_view path, std::string message) {
    t_.notes_.push_back(Note{layer_, std::string(path), std::move(message)});
  }

  // --- path resolution during the merge -------------------------------------------------------

  // The directory `dir_path` as an entry below it sees it: parents followed through symlinks
  // (containerd fs.RootPath), missing components created as implicit dirs when `create`.
  // nullopt (with a Note when `create`) if it cannot be a directory.
  std::optional<NodeId> parent_dir(std::string_view dir_path, bool create,
                                   std::string_view entry_path) {
    if (dir_path.empty() || dir_path == ".") return kRootNode;
    if (create && parent_cache_valid_ && dir_path == cached_parent_path_) return cached_parent_;
    std::optional<NodeId> fast = walk_plain(dir_path, create);
    if (!fast) fast = walk_following(dir_path, create, entry_path);
    if (fast && create) {
      parent_cache_valid_ = true;
      cached_parent_path_ = dir_path;
      cached_parent_ = *fast;
    }
    return fast;
  }

  // Fast path: every component is a plain directory (or missing and created). nullopt when a
  // symlink, a non-directory or a "." / ".." component needs the full resolution.
  std::optional<NodeId> walk_plain(std::string_view path, bool create) {
    NodeId cur = kRootNode;
    while (!path.empty()) {
      size_t slash = path.find('/');
      std::string_view comp = path.substr(0, slash);
      path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
      if (comp.empty() || comp == "." || comp == "..") return std::nullopt;
      NodeId c = find_any(cur, comp);
      if (c != kNoNode && present_dir(c)) {
        cur = c;
        continue;
      }
      if (c != kNoNode && t_.nodes_[c].present) return std::nullopt;  // symlink or non-dir
      if (!create) return std::nullopt;
      cur = add_implicit_dir(cur, comp, c);
    }
    return cur;
  }

  NodeId add_implicit_dir(NodeId parent, std::string_view name, NodeId existing) {
    NodeId id = existing != kNoNode ? existing : new_node(parent, name);
    set_version(id, &make_implicit_dir(), &make_implicit_dir(), layer_, true);
    return id;
  }

  std::optional<NodeId> walk_following(std::string_view path, bool create,
                                       std::string_view entry_path) {
    for (int step = 0; step < kMaxParentSteps; ++step) {
      ResolveResult r = resolve(t_, path);
      if (r.ok() && present_dir(*r.node)) {
        note_hops(r, entry_path);
        return r.node;
      }
      if (r.error == ResolveError::kNoEnt && create && r.missing_in) {
        std::string_view name = split_last(r.path).second;
        if (name.empty() || is_marker(name)) break;
        // The name must outlive the merge: take it from the entry path or a symlink target.
        name = stable_name(name, entry_path, r);
        if (name.empty()) break;
        add_implicit_dir(*r.missing_in, name, find_any(*r.missing_in, name));
        continue;
      }
      if (!create) return std::nullopt;
      const char* why = r.error == ResolveError::kLoop    ? "too many levels of symbolic links"
                        : r.error == ResolveError::kNoEnt ? "parent directory not found"
                                                          : "parent is not a directory";
      note(entry_path, std::string("entry skipped: ") + why + " (" + r.path + ")");
      return std::nullopt;
    }
    note(entry_path, "entry skipped: parent path cannot be created");
    return std::nullopt;
  }

  // `name` comes from a temporary string; find the same bytes in storage that outlives the
  // Tree (the entry path or a symlink target of the hops), else "".
  static std::string_view stable_name(std::string_view name, std::string_view entry_path,
                                      const ResolveResult& r) {
    auto find_in = [&](std::string_view hay) -> std::string_view {
      for (size_t pos = hay.find(name); pos != std::string_view::npos;
           pos = hay.find(name, pos + 1)) {
        bool start = pos == 0 || hay[pos - 1] == '/';
        bool end = pos + name.size() == hay.size() || hay[pos + name.size()] == '/';
        if (start && end) return hay.substr(pos, name.size());
      }
      return {};
    };
    for (auto it = r.hops.rbegin(); it != r.hops.rend(); ++it) {
      if (auto s = find_in(it->target); !s.empty()) return s;
    }
    return find_in(entry_path);
  }

  void note_hops(const ResolveResult& r, std::string_view entry_path) {
    for (const Hop& h : r.hops) {
      if (!noted_links_.insert({layer_, h.link}).second) continue;
      note(entry_path, "parent " + h.path + " is a symlink to " + std::string(h.target) +
                           ": followed, as containerd applies layers (Docker's overlay2 would "
                           "make it a directory)");
    }
  }

  // The node at normalised `path` as a path of the merged view (parents followed, the last
  // component not), or kNoNode.
  NodeId find_path(std::string_view path, std::string_view entry_path) {
    if (path.empty() || path == ".") return kRootNode;
    auto [dir, base] = split_last(path);
    std::optional<NodeId> parent = parent_dir(dir, false, entry_path);
    if (!parent || base.empty() || base == "." || base == "..") return kNoNode;
    NodeId id = find_any(*parent, base);
    return id != kNoNode && t_.nodes_[id].present ? id : kNoNode;
  }

  // --- the two steps of a layer ---------------------------------------------------------------

  void apply_deletions(const scan::LayerIndex& layer) {
    for (const Entry& e : layer.entries) {
      if (e.whiteout == scan::Whiteout::kNone) continue;
      NodeId id = find_path(e.path, e.path);
      if (id == kNoNode) continue;  // deletes nothing (lowest layer, or absent below)
      if (e.whiteout == scan::Whiteout::kFile) {
        if (id == kRootNode) {
          note(e.path, "whiteout of the root directory ignored");
          continue;
        }
        remove_subtree(id, Cause::kWhiteout);
      } else if (present_dir(id)) {
        remove_children(id, Cause::kOpaque);
      }
    }
  }

  void apply_additions(const scan::LayerIndex& layer) {
    parent_cache_valid_ = false;
    for (const Entry& e : layer.entries) {
      if (e.whiteout != scan::Whiteout::kNone) continue;
      if (e.path.empty() || e.path == ".") {
        add_root(e);
        continue;
      }
      auto [dir, base] = split_last(e.path);
      if (base.empty() || base == "." || base == "..") {
        note(e.path, "entry skipped: path does not name a file");
        continue;
      }
      if (has_marker_component(e.path)) {
        note(e.path, "entry skipped: a whiteout marker name that scan/ did not convert");
        continue;
      }
      const Entry* inode = &e;
      uint32_t inode_layer = layer_;
      if (e.type == FileType::kHardlink && !link_target(e, inode, inode_layer)) continue;
      std::optional<NodeId> parent = parent_dir(dir, true, e.path);
      if (!parent) continue;
      NodeId id = find_any(*parent, base);
      if (id == kNoNode) {
        id = new_node(*parent, base);
      } else if (t_.nodes_[id].present) {
        replace(id, *inode);
      }
      set_version(id, &e, inode, inode_layer, false);
    }
  }

  void add_root(const Entry& e) {
    if (e.type != FileType::kDirectory) {
      note(".", "entry skipped: the root can only be a directory");
      return;
    }
    set_version(kRootNode, &e, &e, layer_, false);
  }

  // Before `id` takes `inode`: a directory over a directory merges; anything else drops the
  // lower subtree.
  void replace(NodeId id, const Entry& inode) {
    const Node& old = t_.nodes_[id];
    bool old_dir = old.is_dir();
    if (old_dir && inode.type == FileType::kDirectory) return;
    parent_cache_valid_ = false;
    if (old_dir) remove_children(id, Cause::kParentReplaced);
  }

  bool link_target(const Entry& e, const Entry*& inode, uint32_t& inode_layer) {
    NodeId target = find_path(e.link, e.path);
    if (target == kNoNode) {
      note(e.path, "hardlink target " + std::string(e.link) +
                       " not found: entry skipped (Docker and containerd fail to apply it)");
      return false;
    }
    const Node& t = t_.nodes_[target];
    if (t.is_dir()) {
      note(e.path, "hardlink target " + std::string(e.link) + " is a directory: entry skipped");
      return false;
    }
    if (t.layer != layer_) {
      note(e.path, "hardlink to " + std::string(e.link) + " of a lower layer (layer " +
                       std::to_string(t.inode_layer) + ")");
    }
    inode = t.inode;
    inode_layer = t.inode_layer;
    return true;
  }

  // Turns the nodes touched by this layer into at most one Version each.
  void record_versions() {
    for (NodeId id : touched_) {
      Node& node = t_.nodes_[id];
      bool before = was_present_[id] != 0;
      Version v;
      v.layer = layer_;
      v.node = id;
      v.prev = node.last_version;
      if (node.present) {
        v.change = before ? Change::kModified : Change::kAdded;
        v.entry = node.entry;
        v.inode = node.inode;
        v.inode_layer = node.inode_layer;
        v.implicit = node.implicit;
      } else if (before) {
        v.change = Change::kDeleted;
        v.cause = cause_[id];
      } else {
        continue;  // written and removed within this layer
      }
      node.last_version = static_cast<uint32_t>(t_.versions_.size());
      t_.versions_.push_back(v);
    }
    touched_.clear();
  }

  // --- after the last layer -------------------------------------------------------------------

  void finalize() {
    t_.nodes_.shrink_to_fit();
    t_.versions_.shrink_to_fit();
    build_children();
    std::unordered_set<const Entry*> live;
    for (const Node& n : t_.nodes_) {
      if (!n.present) continue;
      if (n.is_dir()) {
        ++t_.stats_.dirs;
        continue;
      }
      ++t_.stats_.files;
      if (n.is_regular() && live.insert(n.inode).second) t_.stats_.bytes += n.inode->size;
    }
    t_.stats_.versions = t_.versions_.size();
    t_.layer_wasted_.assign(layers_.size(), 0);
    t_.layer_added_.assign(layers_.size(), 0);
    auto count = [&](uint32_t layer, const Entry* e) {
      t_.layer_added_[layer] += e->size;
      if (!live.count(e)) t_.layer_wasted_[layer] += e->size;
    };
    for (const Version& v : t_.versions_) {
      if (v.change != Change::kDeleted && v.entry == v.inode && !v.implicit &&
          is_regular(v.entry)) {
        count(v.layer, v.entry);
      }
    }
    for (auto [layer, e] : overwritten_) count(layer, e);
    build_hardlink_groups();
  }

  void build_children() {
    size_t n = t_.nodes_.size();
    t_.child_begin_.assign(n + 1, 0);
    for (NodeId id = 1; id < n; ++id) {
      if (t_.nodes_[id].present) ++t_.child_begin_[t_.nodes_[id].parent + 1];
    }
    for (size_t i = 0; i < n; ++i) t_.child_begin_[i + 1] += t_.child_begin_[i];
    t_.child_ids_.resize(t_.child_begin_[n]);
    std::vector<uint32_t> fill(t_.child_begin_.begin(), t_.child_begin_.end() - 1);
    for (NodeId id = 1; id < n; ++id) {
      if (t_.nodes_[id].present) t_.child_ids_[fill[t_.nodes_[id].parent]++] = id;
    }
    for (size_t i = 0; i < n; ++i) {
      auto b = t_.child_ids_.begin() + t_.child_begin_[i];
      auto e = t_.child_ids_.begin() + t_.child_begin_[i + 1];
      if (e - b > 1) {
        std::sort(b, e, [&](NodeId x, NodeId y) { return t_.nodes_[x].name < t_.nodes_[y].name; });
      }
    }
  }

  void build_hardlink_groups() {
    std::unordered_map<const Entry*, std::vector<NodeId>> groups;
    for (const Node& n : t_.nodes_) {
      if (n.present && n.entry && n.entry->type == FileType::kHardlink) groups[n.inode];
    }
    if (groups.empty()) return;
    t_.walk([&](NodeId id) {
      const Node& n = t_.nodes_[id];
      if (!n.is_dir()) {
        auto it = groups.find(n.inode);
        if (it != groups.end()) it->second.push_back(id);
      }
      return true;
    });
    for (auto& [inode, ids] : groups) {
      if (ids.size() >= 2) t_.hardlink_groups_.push_back(std::move(ids));
    }
    // Preorder gives path order within a group; order the groups by their first path.
    std::vector<uint32_t> rank(t_.nodes_.size(), 0);
    uint32_t r = 0;
    t_.walk([&](NodeId id) {
      rank[id] = r++;
      return true;
    });
    std::sort(t_.hardlink_groups_.begin(), t_.hardlink_groups_.end(),
              [&](const auto& a, const auto& b) { return rank[a[0]] < rank[b[0]]; });
  }

  Tree t_;
  std::span<const scan::LayerIndex> layers_;
  uint32_t layer_ = 0;
  std::vector<NodeId> first_child_, next_sibling_;
  std::vector<uint32_t> touched_epoch_;
  std::vector<uint8_t> was_present_;
  std::vector<Cause> cause_;
  std::vector<NodeId> touched_;
  std::vector<std::pair<uint32_t, const Entry*>> overwritten_;
  std::set<std::pair<uint32_t, NodeId>> noted_links_;
  bool parent_cache_valid_ = false;
  std::string_view cached_parent_path_;
  NodeId cached_parent_ = kRootNode;
};

Tree Tree::build(std::span<const scan::LayerIndex> layers) { return TreeMerger(layers).run(); }

std::optional<NodeId> Tree::child(NodeId dir, std::string_view name) const {
  if (dir >= nodes_.size() || !nodes_[dir].present || !nodes_[dir].is_dir()) return std::nullopt;
  size_t mask = slots_.size() - 1;
  for (size_t i = hash_key(dir, name) & mask;; i = (i + 1) & mask) {
    uint32_t id = slots_[i];
    if (id == kEmptySlot) return std::nullopt;
    const Node& n = nodes_[id];
    if (n.parent == dir && n.name == name && id != kRootNode) {
      if (!n.present) return std::nullopt;
      return id;
    }
  }
}

std::optional<NodeId> Tree::lookup(std::string_view path) const {
  NodeId cur = kRootNode;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view comp = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (comp.empty() || comp == ".") continue;
    if (!nodes_[cur].is_dir()) return std::nullopt;
    if (comp == "..") {
      cur = nodes_[cur].parent;
      continue;
    }
    std::optional<NodeId> c = child(cur, comp);
    if (!c) return std::nullopt;
    cur = *c;
  }
  return cur;
}

std::string Tree::path_of(NodeId id) const {
  if (id == kRootNode) return "/";
  std::vector<std::string_view> parts;
  size_t len = 0;
  for (NodeId cur = id; cur != kRootNode; cur = nodes_[cur].parent) {
    parts.push_back(nodes_[cur].name);
    len += nodes_[cur].name.size() + 1;
  }
  std::string out;
  out.reserve(len);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    out += '/';
    out += *it;
  }
  return out;
}

std::span<const NodeId> Tree::children(NodeId dir) const {
  if (dir + 1 >= child_begin_.size()) return {};
  return std::span<const NodeId>(child_ids_)
      .subspan(child_begin_[dir], child_begin_[dir + 1] - child_begin_[dir]);
}

void Tree::walk(const std::function<bool(NodeId)>& visit, NodeId from) const {
  if (from >= nodes_.size() || !nodes_[from].present) return;
  std::vector<NodeId> stack{from};
  while (!stack.empty()) {
    NodeId id = stack.back();
    stack.pop_back();
    if (!visit(id)) continue;
    std::span<const NodeId> kids = children(id);
    for (auto it = kids.rbegin(); it != kids.rend(); ++it) stack.push_back(*it);
  }
}

std::span<const Version> Tree::layer_versions(uint32_t layer) const {
  if (layer + 1 >= layer_begin_.size()) return {};
  return std::span<const Version>(versions_).subspan(layer_begin_[layer],
                                                     layer_begin_[layer + 1] - layer_begin_[layer]);
}

std::vector<Version> Tree::history(NodeId id) const {
  std::vector<Version> out;
  for (uint32_t v = nodes_[id].last_version; v != kNoVersion; v = versions_[v].prev) {
    out.push_back(versions_[v]);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

LayerChanges Tree::layer_changes(uint32_t layer) const {
  LayerChanges out;
  if (layer >= layer_count_) return out;
  std::vector<std::pair<std::string, const Version*>> sorted;
  for (const Version& v : layer_versions(layer)) sorted.emplace_back(path_of(v.node), &v);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [path, v] : sorted) {
    switch (v->change) {
      case Change::kAdded:
        out.added.push_back(v->node);
        break;
      case Change::kModified:
        out.modified.push_back(v->node);
        break;
      case Change::kDeleted:
        out.deleted.push_back(v->node);
        break;
    }
  }
  out.added_bytes = layer_added_[layer];
  out.wasted_bytes = layer_wasted_[layer];
  return out;
}

size_t Tree::memory_bytes() const {
  size_t b = nodes_.capacity() * sizeof(Node) + versions_.capacity() * sizeof(Version) +
             (layer_begin_.capacity() + slots_.capacity() + child_begin_.capacity() +
              child_ids_.capacity()) *
                 sizeof(uint32_t) +
             (layer_wasted_.capacity() + layer_added_.capacity()) * sizeof(uint64_t);
  for (const auto& g : hardlink_groups_) b += g.capacity() * sizeof(NodeId);
  for (const auto& n : notes_) b += sizeof(Note) + n.path.capacity() + n.message.capacity();
  return b;
}

}  // namespace coroner::fs
