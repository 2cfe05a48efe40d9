#include "fs/tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "testing/tree_builder.h"

namespace coroner::fs {
namespace {

using scan::FileType;
using testing::TreeBuilder;

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Merges and checks the invariants, as every merge test must.
Tree merge(const TreeBuilder& b) {
  Tree t = b.build();
  std::vector<std::string> bad = testing::check_invariants(t);
  EXPECT_TRUE(bad.empty()) << join(bad);
  return t;
}

bool has(const Tree& t, std::string_view path) { return t.lookup(path).has_value(); }

const Node& at(const Tree& t, std::string_view path) {
  std::optional<NodeId> id = t.lookup(path);
  if (!id) throw std::runtime_error("missing " + std::string(path));
  return t.node(*id);
}

// Every present path, in walk order.
std::vector<std::string> listing(const Tree& t) {
  std::vector<std::string> out;
  t.walk([&](NodeId id) {
    out.push_back(t.path_of(id));
    return true;
  });
  return out;
}

std::vector<std::string> paths(const Tree& t, const std::vector<NodeId>& ids) {
  std::vector<std::string> out;
  for (NodeId id : ids) out.push_back(t.path_of(id));
  return out;
}

// The version of `path` written by `layer` (the node may be deleted now).
std::optional<Version> version_in(const Tree& t, std::string_view path, uint32_t layer) {
  for (const Version& v : t.layer_versions(layer)) {
    if (t.path_of(v.node) == path) return v;
  }
  return std::nullopt;
}

bool notes_contain(const Tree& t, std::string_view text) {
  return std::any_of(t.notes().begin(), t.notes().end(),
                     [&](const Note& n) { return n.message.find(text) != std::string::npos; });
}

using Paths = std::vector<std::string>;

TEST(TreeTest, WhiteoutDeletesLowerFile) {
  TreeBuilder b;
  b.dir("etc").file("etc/a", 3).file("etc/b", 4);
  b.layer().whiteout("etc/a");
  Tree t = merge(b);
  EXPECT_FALSE(has(t, "/etc/a"));
  EXPECT_TRUE(has(t, "/etc/b"));
  std::optional<Version> v = version_in(t, "/etc/a", 1);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->change, Change::kDeleted);
  EXPECT_EQ(v->cause, Cause::kWhiteout);
}

TEST(TreeTest, WhiteoutKeepsFileAddedInSameLayerWhateverTheOrder) {
  TreeBuilder b;
  b.file("a", 1).file("b", 1);
  b.layer().file("a", 7).whiteout("a");  // marker after the new file
  b.whiteout("b").file("b", 8);          // marker before the new file
  Tree t = merge(b);
  EXPECT_EQ(at(t, "a").inode->size, 7u);
  EXPECT_EQ(at(t, "b").inode->size, 8u);
  EXPECT_EQ(at(t, "a").layer, 1u);
  EXPECT_EQ(version_in(t, "/a", 1)->change, Change::kModified);
}

TEST(TreeTest, OpaqueHidesLowerKeepsSameLayer) {
  TreeBuilder b;
  b.dir("d").file("d/old1").dir("d/sub").file("d/sub/old2");
  b.layer().file("d/before").dir("d").opaque("d").file("d/after");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/after", "/d/before"}));
  EXPECT_EQ(version_in(t, "/d/sub/old2", 1)->cause, Cause::kOpaque);
  EXPECT_EQ(version_in(t, "/d/old1", 1)->cause, Cause::kOpaque);
}

TEST(TreeTest, WhiteoutMarkersInLowestLayerDoNotLeak) {
  TreeBuilder b;
  b.dir("d").whiteout("d/gone").opaque("d").whiteout("x").file("d/kept");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/kept"}));
  EXPECT_FALSE(has(t, "d/gone"));
  EXPECT_FALSE(has(t, "x"));
}

TEST(TreeTest, SingleLayerImageProcessesWhiteouts) {
  TreeBuilder b;
  b.whiteout("etc/shadow").opaque(".").file("bin/sh", 10);
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/bin", "/bin/sh"}));
  EXPECT_EQ(t.layer_changes(0).deleted.size(), 0u);
}

TEST(TreeTest, OpaqueDirWhosePathIsALowerSymlink) {
  TreeBuilder b;
  b.dir("real").file("real/x").symlink("d", "real");
  b.layer().dir("d").opaque("d").file("d/y");
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "d").is_dir());
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/y", "/real", "/real/x"}));
  EXPECT_EQ(version_in(t, "/d", 1)->change, Change::kModified);
}

TEST(TreeTest, OpaqueDirAbsentBelow) {
  TreeBuilder b;
  b.file("other");
  b.layer().opaque("new").dir("new").file("new/a");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/new", "/new/a", "/other"}));
  EXPECT_EQ(version_in(t, "/new", 1)->change, Change::kAdded);
}

TEST(TreeTest, RmRfAndMkdirInOneLayerAsWhiteoutOfDir) {
  TreeBuilder b;
  b.dir("d").file("d/a").dir("d/s").file("d/s/b");
  b.layer().whiteout("d").dir("d", 0700).file("d/c");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/c"}));
  EXPECT_EQ(at(t, "d").inode->mode, 0700u);
  EXPECT_EQ(version_in(t, "/d", 1)->change, Change::kModified);
  EXPECT_EQ(version_in(t, "/d/s/b", 1)->cause, Cause::kWhiteout);
  EXPECT_EQ(paths(t, t.layer_changes(1).deleted), (Paths{"/d/a", "/d/s", "/d/s/b"}));
}

TEST(TreeTest, RmRfAndMkdirInOneLayerAsOpaqueMarker) {
  TreeBuilder b;
  b.dir("d").file("d/a").dir("d/s").file("d/s/b");
  b.layer().dir("d").opaque("d").file("d/c");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/c"}));
}

TEST(TreeTest, RmRfAndMkdirInOneLayerAsWhiteoutOfEachChild) {
  TreeBuilder b;
  b.dir("d").file("d/a").dir("d/s").file("d/s/b");
  b.layer().dir("d").whiteout("d/a").whiteout("d/s").file("d/c");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/c"}));
}

TEST(TreeTest, NonDirReplacingDirRemovesLowerSubtree) {
  TreeBuilder b;
  b.dir("d").dir("d/a").file("d/a/b", 5);
  b.layer().file("d", 2);
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "d").is_regular());
  EXPECT_FALSE(has(t, "d/a"));
  EXPECT_EQ(version_in(t, "/d/a/b", 1)->cause, Cause::kParentReplaced);
  EXPECT_EQ(t.layer_changes(0).wasted_bytes, 5u);
  EXPECT_EQ(t.layer_wasted_bytes(0), 5u);
  EXPECT_EQ(t.layer_wasted_bytes(1), 0u);
  EXPECT_EQ(t.layer_wasted_bytes(2), 0u);  // past the last layer
}

TEST(TreeTest, DirReplacingFile) {
  TreeBuilder b;
  b.file("x", 9);
  b.layer().dir("x").file("x/y");
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "x").is_dir());
  EXPECT_TRUE(has(t, "x/y"));
  EXPECT_EQ(t.layer_changes(0).wasted_bytes, 9u);
}

TEST(TreeTest, HardlinkKeepsOldContentWhenTargetReplacedLater) {
  TreeBuilder b;
  b.file("a", 10).hardlink("b", "a");
  b.layer().file("a", 20);
  Tree t = merge(b);
  EXPECT_EQ(at(t, "b").inode->size, 10u);
  EXPECT_EQ(at(t, "b").entry->type, FileType::kHardlink);
  EXPECT_EQ(at(t, "a").inode->size, 20u);
  EXPECT_TRUE(t.hardlink_groups().empty());
  EXPECT_EQ(t.layer_changes(0).wasted_bytes, 0u);  // still reachable through b
  EXPECT_EQ(t.stats().bytes, 30u);
}

TEST(TreeTest, HardlinkToLowerLayerFileGetsItsContentAtApplyTime) {
  TreeBuilder b;
  b.file("a", 5);
  b.layer().hardlink("b", "a");
  b.layer().file("a", 6);
  Tree t = merge(b);
  EXPECT_EQ(at(t, "b").inode->size, 5u);
  EXPECT_EQ(at(t, "b").inode_layer, 0u);
  EXPECT_EQ(at(t, "b").layer, 1u);
  EXPECT_TRUE(notes_contain(t, "of a lower layer"));
}

TEST(TreeTest, HardlinkWhoseParentDirHasNoEntry) {
  TreeBuilder b;
  b.file("x", 3).hardlink("p/q/l", "x");
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "p").implicit);
  EXPECT_TRUE(at(t, "p/q").implicit);
  EXPECT_EQ(at(t, "p/q/l").inode, at(t, "x").inode);
  ASSERT_EQ(t.hardlink_groups().size(), 1u);
  EXPECT_EQ(paths(t, t.hardlink_groups()[0]), (Paths{"/p/q/l", "/x"}));
}

TEST(TreeTest, HardlinkToNothingIsSkippedWithNote) {
  TreeBuilder b;
  b.hardlink("l", "missing").hardlink("m", "dir").dir("dir");
  Tree t = merge(b);
  EXPECT_FALSE(has(t, "l"));
  EXPECT_FALSE(has(t, "m"));
  EXPECT_TRUE(notes_contain(t, "hardlink target missing not found"));
  EXPECT_TRUE(notes_contain(t, "hardlink target dir not found"));  // dir comes after m
}

TEST(TreeTest, HardlinkToDirectoryIsSkippedWithNote) {
  TreeBuilder b;
  b.dir("dir").hardlink("m", "dir");
  Tree t = merge(b);
  EXPECT_FALSE(has(t, "m"));
  EXPECT_TRUE(notes_contain(t, "is a directory"));
}

TEST(TreeTest, HardlinkGroupsAreKept) {
  TreeBuilder b;
  b.file("bin/a", 100).hardlink("bin/c", "bin/a").hardlink("bin/b", "bin/c");
  Tree t = merge(b);
  ASSERT_EQ(t.hardlink_groups().size(), 1u);
  EXPECT_EQ(paths(t, t.hardlink_groups()[0]), (Paths{"/bin/a", "/bin/b", "/bin/c"}));
  EXPECT_EQ(t.stats().bytes, 100u);
  EXPECT_EQ(t.stats().files, 3u);
}

TEST(TreeTest, DuplicateEntriesInOneLayerLaterWins) {
  TreeBuilder b;
  b.file("a", 1).file("a", 2);
  Tree t = merge(b);
  EXPECT_EQ(at(t, "a").inode->size, 2u);
  LayerChanges c = t.layer_changes(0);
  EXPECT_EQ(paths(t, c.added), (Paths{"/a"}));
  EXPECT_EQ(c.added_bytes, 3u);
  EXPECT_EQ(c.wasted_bytes, 1u);
}

// containerd archive/tar.go Apply resolves an entry's parent with fs.RootPath (symlinks
// followed inside the root); the symlink stays.
TEST(TreeTest, EntryUnderSymlinkedParentFollowsTheSymlink) {
  TreeBuilder b;
  b.dir("usr").dir("usr/lib64").file("usr/lib64/ld.so", 1).symlink("lib64", "usr/lib64");
  b.layer().file("lib64/x", 4);
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "lib64").is_symlink());
  EXPECT_TRUE(has(t, "usr/lib64/x"));
  EXPECT_TRUE(has(t, "usr/lib64/ld.so"));
  EXPECT_TRUE(notes_contain(t, "is a symlink to usr/lib64"));
}

TEST(TreeTest, EntryUnderAbsoluteSymlinkStaysInsideRoot) {
  TreeBuilder b;
  b.dir("usr").dir("usr/lib").symlink("lib", "/usr/lib");
  b.layer().file("lib/y");
  Tree t = merge(b);
  EXPECT_TRUE(has(t, "usr/lib/y"));
}

TEST(TreeTest, EntryUnderDanglingSymlinkCreatesItsTarget) {
  TreeBuilder b;
  b.symlink("lib", "usr/lib");
  b.layer().file("lib/z");
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "usr").implicit);
  EXPECT_TRUE(at(t, "usr/lib").implicit);
  EXPECT_TRUE(has(t, "usr/lib/z"));
  EXPECT_TRUE(at(t, "lib").is_symlink());
}

TEST(TreeTest, EntryUnderSymlinkLoopIsSkipped) {
  TreeBuilder b;
  b.symlink("a", "b").symlink("b", "a").file("a/x");
  Tree t = merge(b);
  EXPECT_FALSE(has(t, "a/x"));
  EXPECT_TRUE(notes_contain(t, "too many levels of symbolic links"));
}

TEST(TreeTest, EntryUnderRegularFileIsSkipped) {
  TreeBuilder b;
  b.file("f").file("f/x");
  Tree t = merge(b);
  EXPECT_FALSE(has(t, "f/x"));
  EXPECT_TRUE(at(t, "f").is_regular());
  EXPECT_TRUE(notes_contain(t, "not a directory"));
}

TEST(TreeTest, ImplicitParentIsSynthesized) {
  TreeBuilder b;
  b.file("a/b/c", 1, 0600, 7, 8);
  Tree t = merge(b);
  const Node& a = at(t, "a");
  EXPECT_TRUE(a.implicit);
  EXPECT_TRUE(a.is_dir());
  EXPECT_EQ(a.inode->mode, 0755u);
  EXPECT_EQ(a.inode->uid, 0u);
  EXPECT_TRUE(at(t, "a/b").implicit);
  EXPECT_FALSE(at(t, "a/b/c").implicit);
  EXPECT_EQ(at(t, "a/b/c").inode->uid, 7u);
}

TEST(TreeTest, ImplicitParentKeepsTheLowerDirectory) {
  TreeBuilder b;
  b.dir("a", 0700, 5, 5);
  b.layer().file("a/x");
  Tree t = merge(b);
  EXPECT_FALSE(at(t, "a").implicit);
  EXPECT_EQ(at(t, "a").inode->mode, 0700u);
  EXPECT_EQ(at(t, "a").layer, 0u);
  EXPECT_FALSE(version_in(t, "/a", 1));
}

TEST(TreeTest, RootEntryGivesRootMetadata) {
  TreeBuilder b;
  b.dir(".", 0700).file("x");
  Tree t = merge(b);
  EXPECT_FALSE(t.node(kRootNode).implicit);
  EXPECT_EQ(t.node(kRootNode).inode->mode, 0700u);
  EXPECT_EQ(t.path_of(kRootNode), "/");
}

TEST(TreeTest, LayerChangesListAddedModifiedDeletedAndWaste) {
  TreeBuilder b;
  b.dir("app").file("app/a", 100).file("app/b", 10).file("app/c", 1);
  b.layer().file("app/a", 50).whiteout("app/b").file("app/new", 2);
  Tree t = merge(b);
  LayerChanges c = t.layer_changes(1);
  EXPECT_EQ(paths(t, c.added), (Paths{"/app/new"}));
  EXPECT_EQ(paths(t, c.modified), (Paths{"/app/a"}));
  EXPECT_EQ(paths(t, c.deleted), (Paths{"/app/b"}));
  EXPECT_EQ(c.added_bytes, 52u);
  EXPECT_EQ(c.wasted_bytes, 0u);
  LayerChanges c0 = t.layer_changes(0);
  EXPECT_EQ(paths(t, c0.added), (Paths{"/app", "/app/a", "/app/b", "/app/c"}));
  EXPECT_EQ(c0.wasted_bytes, 110u);
  EXPECT_EQ(t.stats().bytes, 53u);
}

TEST(TreeTest, HistoryRecordsEveryVersion) {
  TreeBuilder b;
  b.file("f", 1);
  b.layer().file("f", 2);
  b.layer().whiteout("f");
  b.layer().file("f", 4);
  Tree t = merge(b);
  std::vector<Version> h = t.history(*t.lookup("f"));
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h[0].change, Change::kAdded);
  EXPECT_EQ(h[1].change, Change::kModified);
  EXPECT_EQ(h[2].change, Change::kDeleted);
  EXPECT_EQ(h[3].change, Change::kAdded);
  EXPECT_EQ(h[3].layer, 3u);
  EXPECT_EQ(h[1].inode->size, 2u);
  EXPECT_EQ(t.layer_changes(1).wasted_bytes, 2u);
}

TEST(TreeTest, WalkIsPreorderWithChildrenSortedByName) {
  TreeBuilder b;
  b.file("b/z").file("a").dir("b").file("b/a").file("a-b").file("B");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/B", "/a", "/a-b", "/b", "/b/a", "/b/z"}));
}

TEST(TreeTest, WalkCanSkipSubtrees) {
  TreeBuilder b;
  b.file("a/x").file("b/y");
  Tree t = merge(b);
  std::vector<std::string> seen;
  t.walk([&](NodeId id) {
    seen.push_back(t.path_of(id));
    return t.path_of(id) != "/a";
  });
  EXPECT_EQ(seen, (Paths{"/", "/a", "/b", "/b/y"}));
}

TEST(TreeTest, LookupNormalisesAndDoesNotFollowSymlinks) {
  TreeBuilder b;
  b.dir("usr").dir("usr/bin").file("usr/bin/sh").symlink("bin", "usr/bin");
  Tree t = merge(b);
  NodeId sh = *t.lookup("/usr/bin/sh");
  EXPECT_EQ(t.lookup("usr/bin/sh"), sh);
  EXPECT_EQ(t.lookup("./usr//bin/./sh"), sh);
  EXPECT_EQ(t.lookup("/../usr/bin/../bin/sh"), sh);
  EXPECT_EQ(t.lookup("/"), kRootNode);
  EXPECT_EQ(t.lookup(""), kRootNode);
  EXPECT_FALSE(t.lookup("/bin/sh"));
  EXPECT_TRUE(t.lookup("/bin"));
  EXPECT_FALSE(t.lookup("/usr/bin/sh/x"));
  EXPECT_FALSE(t.lookup("/nope"));
}

TEST(TreeTest, DeletedNodesAreNotChildren) {
  TreeBuilder b;
  b.file("d/a").file("d/b");
  b.layer().whiteout("d/a");
  Tree t = merge(b);
  std::span<const NodeId> kids = t.children(*t.lookup("d"));
  ASSERT_EQ(kids.size(), 1u);
  EXPECT_EQ(t.node(kids[0]).name, "b");
  EXPECT_FALSE(t.child(*t.lookup("d"), "a"));
}

TEST(TreeTest, WhiteoutThenReAddAcrossLayersRevivesPath) {
  TreeBuilder b;
  b.dir("d").file("d/x");
  b.layer().whiteout("d");
  b.layer().file("d/y");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/d", "/d/y"}));
  EXPECT_TRUE(at(t, "d").implicit);
  EXPECT_EQ(version_in(t, "/d", 2)->change, Change::kAdded);
}

TEST(TreeTest, OpaqueAtRootHidesEverythingBelow) {
  TreeBuilder b;
  b.dir("etc").file("etc/a").file("top");
  b.layer().opaque(".").file("new");
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/", "/new"}));
  EXPECT_EQ(paths(t, t.layer_changes(1).deleted), (Paths{"/etc", "/etc/a", "/top"}));
}

// containerd resolves the marker's parent like any entry's (fs.RootPath), so a whiteout under
// a symlinked dir deletes in the symlink's target.
TEST(TreeTest, WhiteoutUnderSymlinkedParentFollowsIt) {
  TreeBuilder b;
  b.dir("usr").dir("usr/lib").file("usr/lib/old").symlink("lib", "usr/lib");
  b.layer().whiteout("lib/old");
  Tree t = merge(b);
  EXPECT_FALSE(has(t, "usr/lib/old"));
  EXPECT_TRUE(at(t, "lib").is_symlink());
}

TEST(TreeTest, SymlinkReplacedByDirInALaterLayerHidesNothingOfItsTarget) {
  TreeBuilder b;
  b.dir("usr").dir("usr/lib64").file("usr/lib64/ld.so").symlink("lib64", "usr/lib64");
  b.layer().dir("lib64").file("lib64/x");
  Tree t = merge(b);
  EXPECT_TRUE(at(t, "lib64").is_dir());
  EXPECT_TRUE(has(t, "lib64/x"));
  EXPECT_FALSE(has(t, "usr/lib64/x"));
  EXPECT_TRUE(has(t, "usr/lib64/ld.so"));
}

TEST(TreeTest, EmptyImage) {
  TreeBuilder b;
  Tree t = merge(b);
  EXPECT_EQ(listing(t), (Paths{"/"}));
  EXPECT_EQ(t.stats().files, 0u);
  EXPECT_EQ(t.stats().dirs, 1u);
}

}  // namespace
}  // namespace coroner::fs
