#include "explore/diff.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "explore/test_image.h"
#include "testing/layer_builder.h"

namespace coroner::explore {
namespace {

using coroner::testing::LayerBuilder;

// An image of these layers (uncompressed), each with a history step "step N", content digests on.
std::unique_ptr<Image> image_of(const std::vector<LayerBuilder*>& layers, bool digests = true) {
  std::vector<std::pair<std::string, std::string>> blobs;
  std::vector<std::pair<std::string, bool>> history;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string tar = layers[i]->tar();
    blobs.emplace_back(tar, tar);
    history.emplace_back("step " + std::to_string(i), false);
  }
  auto source = std::make_unique<testing::MemorySource>(std::move(blobs), std::move(history));
  scan::ScanOptions options;
  options.capture = capture_for_explore;
  options.threads = 1;
  if (digests) options.content_scanner = content_digests;
  std::vector<scan::LayerIndex> indexes = scan::scan_image(*source, options);
  return std::make_unique<Image>(std::move(source), std::move(indexes));
}

// "K /path changes@layer" per entry, for compact assertions.
std::vector<std::string> summary(const std::vector<DiffEntry>& entries) {
  std::vector<std::string> out;
  for (const DiffEntry& d : entries) {
    std::string s = std::string(1, d.kind) + " " + d.path;
    for (size_t i = 0; i < d.changes.size(); ++i) s += (i ? "," : " ") + d.changes[i];
    if (d.layer) s += "@" + std::to_string(*d.layer);
    out.push_back(s);
  }
  return out;
}

LayerBuilder base_layer() {
  LayerBuilder base;
  base.dir("etc").dir("bin").dir("srv");
  base.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
  base.file("etc/group", "root:x:0:\n");
  base.file("bin/tool", "tool v1\n", 0755);
  base.symlink("bin/link", "tool");
  base.dir("srv/data").file("srv/data/a", "a\n").file("srv/data/b", "b\n");
  return base;
}

TEST(DiffTest, IdenticalImagesHaveNoDifferences) {
  LayerBuilder base = base_layer();
  auto a = image_of({&base});
  auto b = image_of({&base});
  EXPECT_TRUE(diff(*a, *b, {}).empty());
}

TEST(DiffTest, ChildImageNamesWhatItsLayersAddedChangedAndDeleted) {
  LayerBuilder base = base_layer();
  LayerBuilder top;
  top.whiteout("etc/group");
  top.file("bin/tool", "tool v2 (longer)\n", 0755);
  top.dir("app").file("app/server", "server\n", 0755);
  auto a = image_of({&base});
  auto b = image_of({&base, &top});
  EXPECT_EQ(summary(diff(*a, *b, {})),
            (std::vector<std::string>{"A /app@1", "A /app/server@1", "C /bin/tool size@1",
                                      "D /etc/group@1"}));
  // The other way round, the layer is unknown for what b (here the base image) lacks.
  EXPECT_EQ(summary(diff(*b, *a, {})),
            (std::vector<std::string>{"D /app", "D /app/server", "C /bin/tool size@0",
                                      "A /etc/group@0"}));
}

TEST(DiffTest, SameSizeContentChangeIsFoundByDigestUnlessContentIsOff) {
  LayerBuilder base = base_layer();
  LayerBuilder other = base_layer();
  other.file("bin/tool", "tool v9\n", 0755);  // same size as "tool v1\n"
  auto a = image_of({&base});
  auto b = image_of({&other});
  EXPECT_EQ(summary(diff(*a, *b, {})), (std::vector<std::string>{"C /bin/tool content@0"}));
  DiffOptions metadata_only;
  metadata_only.content = false;
  EXPECT_TRUE(diff(*a, *b, metadata_only).empty());
}

TEST(DiffTest, WithoutDigestsAContentCompareIsAnError) {
  LayerBuilder base = base_layer();
  LayerBuilder other = base_layer();
  other.file("bin/tool", "tool v9\n", 0755);
  auto a = image_of({&base}, /*digests=*/false);
  auto b = image_of({&other}, /*digests=*/false);
  EXPECT_THROW(diff(*a, *b, {}), Error);
}

TEST(DiffTest, ModeOwnerLinkXattrsAndDevicesAreCompared) {
  LayerBuilder base = base_layer();
  base.dir("dev").char_device("dev/null", 1, 3);
  LayerBuilder top;
  top.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0600);
  top.file("etc/group", "root:x:0:\n", 0644, 1000, 1000);
  top.symlink("bin/link", "/bin/tool");
  top.file("bin/tool", "tool v1\n", 0755).xattr("security.capability", "\x01\x02");
  top.char_device("dev/null", 1, 5);
  auto a = image_of({&base});
  auto b = image_of({&base, &top});
  EXPECT_EQ(summary(diff(*a, *b, {})),
            (std::vector<std::string>{"C /bin/link link@1", "C /bin/tool xattrs@1",
                                      "C /dev/null device@1", "C /etc/group owner@1",
                                      "C /etc/passwd mode@1"}));
}

TEST(DiffTest, MtimeOnlyChangesNeedTheOption) {
  LayerBuilder base = base_layer();
  LayerBuilder top;
  top.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n").mtime(1800000000);
  auto a = image_of({&base});
  auto b = image_of({&base, &top});
  EXPECT_TRUE(diff(*a, *b, {}).empty());
  DiffOptions with_mtime;
  with_mtime.mtime = true;
  EXPECT_EQ(summary(diff(*a, *b, with_mtime)), (std::vector<std::string>{"C /etc/passwd mtime@1"}));
}

TEST(DiffTest, DirectoryReplacedByFileIsATypeChangePlusItsDeletedChildren) {
  LayerBuilder base = base_layer();
  LayerBuilder top;
  top.file("srv/data", "now a file\n");
  auto a = image_of({&base});
  auto b = image_of({&base, &top});
  EXPECT_EQ(
      summary(diff(*a, *b, {})),
      (std::vector<std::string>{"C /srv/data type,mode@1", "D /srv/data/a@1", "D /srv/data/b@1"}));
  EXPECT_EQ(
      summary(diff(*b, *a, {})),
      (std::vector<std::string>{"C /srv/data type,mode@0", "A /srv/data/a@0", "A /srv/data/b@0"}));
}

TEST(DiffTest, PathLimitsTheComparisonAndAPathMissingOnOneSideIsAllAddedOrDeleted) {
  LayerBuilder base = base_layer();
  LayerBuilder top;
  top.file("bin/tool", "tool v2 (longer)\n", 0755);
  top.dir("app").file("app/server", "server\n", 0755);
  auto a = image_of({&base});
  auto b = image_of({&base, &top});
  DiffOptions bin;
  bin.path = "/bin";
  EXPECT_EQ(summary(diff(*a, *b, bin)), (std::vector<std::string>{"C /bin/tool size@1"}));
  DiffOptions app;
  app.path = "/app";
  EXPECT_EQ(summary(diff(*a, *b, app)), (std::vector<std::string>{"A /app@1", "A /app/server@1"}));
  DiffOptions none;
  none.path = "/nowhere";
  EXPECT_THROW(diff(*a, *b, none), Error);
}

}  // namespace
}  // namespace coroner::explore
