// Tree: the merged filesystem of an image, built from its LayerIndexes (bottom first) the way
// containerd applies layers on overlayfs: whiteouts and opaque dirs hide lower layers only,
// a non-directory replaces a whole lower subtree, hardlinks resolve to the entry they share
// content with. The Tree keeps every version of every path (added, modified, deleted, with the
// layer), per-layer change lists and wasted bytes. It does not read content (scan/ does) and
// does not follow symlinks in lookup() (resolve.h does).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scan/layer_index.h"

namespace coroner::fs {

using NodeId = uint32_t;
inline constexpr NodeId kRootNode = 0;
inline constexpr uint32_t kNoVersion = UINT32_MAX;

enum class Change : uint8_t {
  kAdded,     // the path did not exist below this layer
  kModified,  // the layer replaced (or, for a dir over a dir, re-stated) the lower version
  kDeleted,   // the layer removed the path (see Cause)
};

enum class Cause : uint8_t {
  kNone,            // not a deletion
  kWhiteout,        // ".wh.NAME" of this path or of an ancestor
  kOpaque,          // ".wh..wh..opq" in an ancestor
  kParentReplaced,  // an ancestor was replaced by a non-directory (or by a fresh dir after a
                    // whiteout of it in the same layer)
};

// One version of a path: what a layer did to it. At most one Version per (node, layer): the net
// effect of that layer (a duplicate entry or a whiteout-then-recreate in one layer is one
// version).
struct Version {
  const scan::Entry* entry = nullptr;  // what the layer wrote (nullptr for kDeleted)
  const scan::Entry* inode = nullptr;  // the entry holding metadata and content (differs from
                                       // `entry` for hardlinks; nullptr for kDeleted)
  uint32_t layer = 0;
  uint32_t inode_layer = 0;    // layer of `inode` (a hardlink may point to a lower layer)
  uint32_t prev = kNoVersion;  // previous version of the same node, or kNoVersion
  NodeId node = kRootNode;
  Change change = Change::kAdded;
  Cause cause = Cause::kNone;
  bool implicit = false;  // a directory synthesized because the layer had entries below it
};

// A path of the merged view, or a path that existed in some layer and was deleted later
// (present == false; such nodes are never returned by lookup() or children() and keep their
// last state only for history and messages).
struct Node {
  std::string_view name;  // "" for the root; points into a LayerIndex arena
  NodeId parent = kRootNode;
  uint32_t layer = 0;        // layer of the top version
  uint32_t inode_layer = 0;  // layer of `inode`
  // What the top layer wrote at this path: a kHardlink entry for hardlinks; for an implicit
  // directory a shared synthesized entry (kDirectory, 0755, root:root, empty path).
  const scan::Entry* entry = nullptr;
  // Metadata and content as stat(2) would see them: for a hardlink the entry it links to
  // (type, mode, uid, gid, size, facts); otherwise the same as `entry`. Never a kHardlink.
  const scan::Entry* inode = nullptr;
  uint32_t last_version = kNoVersion;  // newest Version of this node (history walks `prev`)
  bool present = false;
  bool implicit = false;  // a directory with no entry of its own in `layer`

  bool is_dir() const { return inode->type == scan::FileType::kDirectory; }
  bool is_symlink() const { return inode->type == scan::FileType::kSymlink; }
  bool is_regular() const { return inode->type == scan::FileType::kRegular; }
};

// Net effect of one layer on the merged view (the `layers --layer N` listing), NodeIds sorted
// by path (bytewise). Deleted NodeIds are not present: use Tree::path_of and Tree::history.
struct LayerChanges {
  std::vector<NodeId> added;
  std::vector<NodeId> modified;
  std::vector<NodeId> deleted;
  uint64_t added_bytes = 0;  // content bytes of regular files this layer wrote
  // Bytes of regular files this layer wrote that are not visible in the final view: shadowed by
  // a later version, deleted later, or written twice in this layer. Content still reachable
  // through a hardlink is not wasted.
  uint64_t wasted_bytes = 0;
};

// Something the merge had to decide that the user may want to know ("hardlink target missing",
// "parent is a symlink, followed"). `layer` is the layer of the entry, `path` its path.
struct Note {
  uint32_t layer = 0;
  std::string path;
  std::string message;
};

struct TreeStats {
  uint64_t files = 0;     // present non-directory nodes (hardlinks count once per path)
  uint64_t dirs = 0;      // present directories, the root included
  uint64_t bytes = 0;     // content bytes of present regular files, each hardlink group once
  uint64_t versions = 0;  // history records
};

// A built Tree is immutable: const methods may be called from several threads at once.
class Tree {
 public:
  // Merges `layers` (bottom first; layers[i].index need not equal i: Version::layer is the
  // position in `layers`). Never throws for odd input: what cannot be applied becomes a Note.
  // Per layer, in two steps (as go-containerregistry stages whiteouts per layer):
  //  1. deletions: a kFile whiteout removes the path (and its subtree) as the lower layers left
  //     it; a kOpaque whiteout removes every lower child of that directory (if the path is not
  //     a directory below, there is nothing to hide). Entries of the same layer are never
  //     deleted by its own markers, whatever their order in the tar.
  //  2. additions, in archive order: a dir over a dir keeps the children; anything else over an
  //     existing path replaces it and its subtree (Cause::kParentReplaced). A duplicate path
  //     in one layer: the later entry wins. Missing parents become implicit dirs; a parent that
  //     exists below as a dir keeps its lower version (containerd's mkparent copies it).
  //     Parent components are resolved FOLLOWING symlinks inside the root, as containerd's
  //     archive.Apply does (`ppath, err = fs.RootPath(root, ppath)` in archive/tar.go, applied
  //     to the mounted merged view): with "lib64 -> usr/lib64" below, an entry "lib64/x" lands
  //     at "usr/lib64/x" and lib64 stays a symlink (a Note says so). Docker's overlay2 driver
  //     unpacks into the empty upper dir instead, where MkdirAll makes lib64 a real directory
  //     that hides the symlink; we follow containerd. A parent that is a non-directory, a
  //     symlink loop, or a parent path escaping nowhere: the entry is skipped with a Note.
  //  Hardlinks: the target path is looked up (parents following symlinks, the last component
  //  not) in the merged view as it is at that point of the archive, so it finds the same
  //  layer's earlier entry, else a lower layer's file (containerd links to whatever the path
  //  holds at apply time). The node keeps that target entry as its inode, so replacing the
  //  target in a later layer does not change the link. A target that is missing or a directory
  //  makes the apply fail in Docker and containerd: we skip the entry and add a Note.
  //  Hardlink metadata (mode, owner) is the target's: link(2) shares the inode, and the tar
  //  header of a hardlink repeats the target's metadata.
  //  Whiteouts in the lowest layer, or of absent paths, delete nothing; markers never appear.
  //  Whiteout and opaque paths resolve their parents like entries do (containerd computes the
  //  marker's dir from fs.RootPath too); the marked path itself is never followed, so an opaque
  //  marker on a lower symlink hides nothing (containerd would empty the symlink's target;
  //  overlayfs applies the marker to the layer's own dir, which is what we model).
  // Requires: the LayerIndexes outlive the Tree and are not modified (names and entries are
  // views and pointers into them).
  static Tree build(std::span<const scan::LayerIndex> layers);

  Tree(Tree&&) noexcept = default;
  Tree& operator=(Tree&&) noexcept = default;

  // The node at `path` ("/a/b", "a/b", "./a//b/" are the same; ".." goes to the parent, clamped
  // at the root), without following any symlink: a symlink in the middle yields nullopt.
  std::optional<NodeId> lookup(std::string_view path) const;
  // The present child `name` of directory `dir`, or nullopt.
  std::optional<NodeId> child(NodeId dir, std::string_view name) const;

  const Node& node(NodeId id) const { return nodes_[id]; }
  size_t node_count() const { return nodes_.size(); }  // present and deleted nodes
  // "/" for the root, else "/a/b".
  std::string path_of(NodeId id) const;
  // Present children of `dir`, sorted by name (bytewise). Empty for non-directories.
  std::span<const NodeId> children(NodeId dir) const;
  // Preorder over present nodes from `from`, children by name. `visit` returns false to skip
  // the subtree of that node.
  void walk(const std::function<bool(NodeId)>& visit, NodeId from = kRootNode) const;

  // History: every version of every path, grouped by layer (ascending), and those of one node.
  std::span<const Version> versions() const { return versions_; }
  std::span<const Version> layer_versions(uint32_t layer) const;
  std::vector<Version> history(NodeId id) const;  // oldest first
  // What `layer` added, modified and deleted, by path (bytewise): it sorts the layer's paths.
  LayerChanges layer_changes(uint32_t layer) const;
  // layer_changes(layer).wasted_bytes, without the lists.
  uint64_t layer_wasted_bytes(uint32_t layer) const {
    return layer < layer_wasted_.size() ? layer_wasted_[layer] : 0;
  }
  size_t layer_count() const { return layer_count_; }

  // Groups (2 or more present paths) that share one inode entry: a regular file and the
  // hardlinks to it. Members and groups in walk() order (so the first member is the one an
  // export writes as a file and the others as links to it).
  const std::vector<std::vector<NodeId>>& hardlink_groups() const { return hardlink_groups_; }

  const std::vector<Note>& notes() const { return notes_; }
  const TreeStats& stats() const { return stats_; }
  // Approximate heap bytes held by the Tree (nodes, history, indexes), for benchmarks.
  size_t memory_bytes() const;

 private:
  friend class TreeMerger;
  Tree() = default;

  std::vector<Node> nodes_;
  std::vector<Version> versions_;
  std::vector<uint32_t> layer_begin_;   // versions_ index where each layer starts, +1 end
  std::vector<uint32_t> slots_;         // open-addressing (parent, name) -> NodeId, all nodes
  std::vector<uint32_t> child_begin_;   // CSR: children of node i are
  std::vector<NodeId> child_ids_;       //   child_ids_[child_begin_[i] .. child_begin_[i+1])
  std::vector<uint64_t> layer_wasted_;  // per layer
  std::vector<uint64_t> layer_added_;   // per layer
  std::vector<std::vector<NodeId>> hardlink_groups_;
  std::vector<Note> notes_;
  TreeStats stats_;
  size_t layer_count_ = 0;
};

// The synthesized entry of implicit directories (kDirectory, 0755, uid 0, gid 0, path "").
const scan::Entry& implicit_dir_entry();

}  // namespace coroner::fs
