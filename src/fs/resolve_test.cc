#include "fs/resolve.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/tree_builder.h"

namespace coroner::fs {
namespace {

using testing::TreeBuilder;

class ResolveTest : public ::testing::Test {
 protected:
  ResolveTest() {
    b_.dir("usr").dir("usr/bin").file("usr/bin/python3.11", 10, 0755);
    b_.symlink("usr/bin/python3", "python3.11").symlink("usr/bin/python", "/usr/bin/python3");
    b_.symlink("bin", "usr/bin").symlink("escape", "../../../usr/bin/python3.11");
    b_.symlink("dangling", "/nowhere").symlink("empty", "").file("etc/passwd", 5);
    b_.symlink("loop1", "loop2").symlink("loop2", "loop1").symlink("updir", "usr/bin/..");
    tree_ = std::make_unique<Tree>(b_.build());
  }
  const Tree& t() const { return *tree_; }
  NodeId id(std::string_view p) const { return *t().lookup(p); }

  TreeBuilder b_;
  std::unique_ptr<Tree> tree_;
};

TEST_F(ResolveTest, PlainPath) {
  ResolveResult r = resolve(t(), "/usr/bin/python3.11");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node, id("usr/bin/python3.11"));
  EXPECT_TRUE(r.hops.empty());
  EXPECT_EQ(r.path, "/usr/bin/python3.11");
}

TEST_F(ResolveTest, AbsoluteSymlinkTargetIsRelativeToImageRoot) {
  ResolveResult r = resolve(t(), "/bin/python");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node, id("usr/bin/python3.11"));
  ASSERT_EQ(r.hops.size(), 3u);
  EXPECT_EQ(r.hops[0].path, "/bin");
  EXPECT_EQ(r.hops[0].target, "usr/bin");
  EXPECT_EQ(r.hops[1].path, "/usr/bin/python");
  EXPECT_EQ(r.hops[1].target, "/usr/bin/python3");
  EXPECT_EQ(r.hops[2].path, "/usr/bin/python3");
  EXPECT_EQ(r.hops[2].target, "python3.11");
  EXPECT_EQ(describe_hops(r),
            "/bin \u2192 usr/bin \u2192 /usr/bin/python3 \u2192 python3.11 \u2192 "
            "/usr/bin/python3.11");
}

TEST_F(ResolveTest, DotDotNeverClimbsAboveRoot) {
  ResolveResult r = resolve(t(), "/../../etc/../../etc/passwd");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node, id("etc/passwd"));
  ResolveResult e = resolve(t(), "/escape");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.node, id("usr/bin/python3.11"));
}

TEST_F(ResolveTest, DotDotAfterSymlinkGoesToTheTargetsParent) {
  ResolveResult r = resolve(t(), "/bin/../bin/python3.11");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node, id("usr/bin/python3.11"));
  ResolveResult u = resolve(t(), "/updir");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u.path, "/usr");
}

TEST_F(ResolveTest, MissingIsNoEntWithThePrefix) {
  ResolveResult r = resolve(t(), "/usr/lib/libc.so");
  EXPECT_EQ(r.error, ResolveError::kNoEnt);
  EXPECT_FALSE(r.node);
  EXPECT_EQ(r.path, "/usr/lib");
  EXPECT_EQ(r.missing_in, id("usr"));
}

TEST_F(ResolveTest, DanglingSymlinkIsNoEntAtItsTarget) {
  ResolveResult r = resolve(t(), "/dangling");
  EXPECT_EQ(r.error, ResolveError::kNoEnt);
  EXPECT_EQ(r.path, "/nowhere");
  ASSERT_EQ(r.hops.size(), 1u);
  ResolveResult n = resolve(t(), "/dangling", {.follow_last = false});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.node, id("dangling"));
}

TEST_F(ResolveTest, EmptySymlinkTargetAndEmptyPathAreNoEnt) {
  EXPECT_EQ(resolve(t(), "/empty").error, ResolveError::kNoEnt);
  EXPECT_EQ(resolve(t(), "").error, ResolveError::kNoEnt);
}

TEST_F(ResolveTest, NonDirectoryInTheMiddleIsNotDir) {
  ResolveResult r = resolve(t(), "/etc/passwd/x");
  EXPECT_EQ(r.error, ResolveError::kNotDir);
  EXPECT_EQ(r.path, "/etc/passwd");
}

TEST_F(ResolveTest, TrailingSlashRequiresADirectory) {
  EXPECT_EQ(resolve(t(), "/etc/passwd/").error, ResolveError::kNotDir);
  ResolveResult r = resolve(t(), "/bin/", {.follow_last = false});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node, id("usr/bin"));
}

TEST_F(ResolveTest, FollowLastOrNot) {
  ResolveResult f = resolve(t(), "/usr/bin/python3");
  EXPECT_EQ(f.node, id("usr/bin/python3.11"));
  ResolveResult n = resolve(t(), "/usr/bin/python3", {.follow_last = false});
  EXPECT_EQ(n.node, id("usr/bin/python3"));
  EXPECT_TRUE(n.hops.empty());
  // Only the last component is exempt: /bin is still followed.
  ResolveResult m = resolve(t(), "/bin/python3", {.follow_last = false});
  EXPECT_EQ(m.node, id("usr/bin/python3"));
}

TEST_F(ResolveTest, LoopIsELoop) {
  ResolveResult r = resolve(t(), "/loop1");
  EXPECT_EQ(r.error, ResolveError::kLoop);
  EXPECT_EQ(r.hops.size(), static_cast<size_t>(kMaxSymlinkHops));
}

TEST_F(ResolveTest, RelativePathStartsAtCwd) {
  ResolveResult r = resolve(t(), "bin/python3.11", {.cwd = id("usr")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node, id("usr/bin/python3.11"));
  ResolveResult a = resolve(t(), "/etc/passwd", {.cwd = id("usr")});
  EXPECT_EQ(a.node, id("etc/passwd"));
}

TEST_F(ResolveTest, CheckDirSeesEverySearchedDirectoryAndCanRefuse) {
  std::vector<std::string> seen;
  ResolveOptions o;
  o.check_dir = [&](NodeId d) {
    seen.push_back(t().path_of(d));
    return true;
  };
  ASSERT_TRUE(resolve(t(), "/bin/python3", o).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"/", "/", "/usr", "/usr/bin", "/usr/bin"}));
  o.check_dir = [&](NodeId d) { return t().path_of(d) != "/usr"; };
  ResolveResult r = resolve(t(), "/usr/bin/python3.11", o);
  EXPECT_EQ(r.error, ResolveError::kAccess);
  EXPECT_EQ(r.path, "/usr");
}

// Exactly kMaxSymlinkHops symlinks resolve; one more is ELOOP (Linux MAXSYMLINKS).
TEST(ResolveHopsTest, FortySymlinksResolveFortyOneLoop) {
  TreeBuilder b;
  b.file("target");
  b.symlink("l0", "target");
  for (int i = 1; i <= kMaxSymlinkHops; ++i) {
    b.symlink("l" + std::to_string(i), "l" + std::to_string(i - 1));
  }
  Tree t = b.build();
  ResolveResult ok = resolve(t, "/l39");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.hops.size(), 40u);
  ResolveResult loop = resolve(t, "/l40");
  EXPECT_EQ(loop.error, ResolveError::kLoop);
  EXPECT_EQ(loop.path, "/l0");
}

}  // namespace
}  // namespace coroner::fs
