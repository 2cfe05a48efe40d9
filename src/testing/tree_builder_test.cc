#include "testing/tree_builder.h"

#include <gtest/gtest.h>

namespace coroner::testing {
namespace {

using scan::ContentKind;
using scan::FileType;

TEST(TreeBuilderTest, EntriesGoToTheCurrentLayerWithModifiers) {
  TreeBuilder b;
  b.file("a", 3).owner(7, 8).mode(0755);
  b.layer().symlink("l", "/a").whiteout("x").opaque("");
  ASSERT_EQ(b.layers().size(), 2u);
  const scan::Entry& a = b.layers()[0].entries[0];
  EXPECT_EQ(a.path, "a");
  EXPECT_EQ(a.uid, 7u);
  EXPECT_EQ(a.mode, 0755u);
  EXPECT_EQ(a.size, 3u);
  const auto& l1 = b.layers()[1].entries;
  EXPECT_EQ(l1[0].type, FileType::kSymlink);
  EXPECT_EQ(l1[0].link, "/a");
  EXPECT_EQ(l1[1].whiteout, scan::Whiteout::kFile);
  EXPECT_EQ(l1[2].whiteout, scan::Whiteout::kOpaque);
  EXPECT_EQ(l1[2].path, ".");
  EXPECT_EQ(b.layers()[1].index, 1u);
}

TEST(TreeBuilderTest, ContentSetsKindSizeFactsAndCapture) {
  TreeBuilder b;
  b.file("s").content("#!/bin/sh\r\necho\n");
  b.file("e").content(
      std::string("\x7f"
                  "ELF\x02\x01",
                  6));
  b.file("t").content("hello\n");
  b.file("z").content("");
  const scan::LayerIndex& l = b.layers()[0];
  EXPECT_EQ(l.entries[0].kind, ContentKind::kScript);
  EXPECT_EQ(l.facts[l.entries[0].facts].first_line, "#!/bin/sh\r");
  EXPECT_EQ(l.entries[0].size, 16u);
  EXPECT_EQ(l.entries[1].kind, ContentKind::kElf);
  EXPECT_EQ(l.entries[2].kind, ContentKind::kText);
  EXPECT_EQ(l.entries[3].kind, ContentKind::kEmpty);
  EXPECT_EQ(l.captured.at("t"), "hello\n");
}

TEST(TreeBuilderTest, BuildMergesAndInvariantsHold) {
  TreeBuilder b;
  b.file("bin/busybox", 100, 0755).hardlink("bin/sh", "bin/busybox");
  fs::Tree t = b.build();
  EXPECT_TRUE(check_invariants(t).empty());
  EXPECT_EQ(t.node(*t.lookup("bin/sh")).inode->size, 100u);
}

}  // namespace
}  // namespace coroner::testing
