// The explore functions on one small three-layer image (test_image.h), scanned and merged by the
// real scan/ and fs/ code.
#include <gtest/gtest.h>

#include <sstream>

#include "base/error.h"
#include "explore/content.h"
#include "explore/grep.h"
#include "explore/layers.h"
#include "explore/listing.h"
#include "explore/test_image.h"

namespace coroner::explore {
namespace {

class ExploreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { image_ = testing::sample_image().release(); }
  static void TearDownTestSuite() { delete image_; }
  static const Image& image() { return *image_; }
  static Image* image_;
};
Image* ExploreTest::image_ = nullptr;

std::vector<std::string> paths_of(const std::vector<FileInfo>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.path);
  return out;
}

std::string cat(const Image& image, std::string_view path) {
  std::string out;
  read_content(image, resolve_content(image, path), [&](std::span<const std::byte> b) {
    out.append(reinterpret_cast<const char*>(b.data()), b.size());
  });
  return out;
}

TEST_F(ExploreTest, ReadsTheImageAccounts) {
  EXPECT_TRUE(image().accounts().has_passwd);
  EXPECT_EQ(image().accounts().users.name(1000), "app");
  EXPECT_EQ(image().accounts().groups.id("root"), 0u);
}

TEST_F(ExploreTest, ListFollowsSymlinkOfTheDirectoryAndShowsLayers) {
  auto listings = list(image(), "/current", false);
  ASSERT_EQ(listings.size(), 1u);
  EXPECT_EQ(listings[0].dir, "/app");
  std::vector<std::string> names;
  for (const auto& f : listings[0].entries) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"config.default.ini", "data.bin", "entry.sh"}));
  const FileInfo& entry = listings[0].entries[2];
  EXPECT_EQ(entry.layer, 2u);  // rewritten by the top layer
  EXPECT_EQ(entry.user, "app");
  EXPECT_EQ(entry.layer_digest, image().layer_digest(2));
  const FileInfo& hl = listings[0].entries[0];
  EXPECT_TRUE(hl.hardlink);
  EXPECT_EQ(hl.link, "/app/config.ini");
  EXPECT_EQ(hl.size, 21u);  // the inode's size
}

TEST_F(ExploreTest, ListOfAFileShowsTheFileAndMissingPathIsAnError) {
  auto listings = list(image(), "/bin/ls", false);
  ASSERT_EQ(listings.size(), 1u);
  EXPECT_FALSE(listings[0].is_dir);
  EXPECT_EQ(listings[0].entries[0].path, "/bin/ls");
  EXPECT_EQ(listings[0].entries[0].link, "sh");
  try {
    list(image(), "/nope/x", false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nope/x: no such file or directory in the image (at /nope)");
  }
}

TEST_F(ExploreTest, RecursiveListingIsPreorder) {
  auto listings = list(image(), "/var", true);
  ASSERT_EQ(listings.size(), 2u);
  EXPECT_EQ(listings[0].dir, "/var");
  EXPECT_EQ(listings[1].dir, "/var/log");
}

TEST_F(ExploreTest, FindCombinesTests) {
  FindQuery q;
  q.filter.perms.push_back(parse_perm_test("-4000"));
  EXPECT_EQ(paths_of(find(image(), "/", q)), std::vector<std::string>{"/usr/bin/ping"});

  FindQuery by_user;
  by_user.user = "app";
  by_user.filter.type = scan::FileType::kRegular;
  EXPECT_EQ(paths_of(find(image(), "/", by_user)),
            (std::vector<std::string>{"/app/entry.sh", "/var/log/app.log"}));

  FindQuery nogroup;
  nogroup.filter.nogroup = true;
  EXPECT_EQ(paths_of(find(image(), "/", nogroup)), std::vector<std::string>{"/var/log/app.log"});

  FindQuery names;
  names.filter.names = {"*.ini"};
  EXPECT_EQ(paths_of(find(image(), "/current", names)),
            std::vector<std::string>{"/app/config.default.ini"});
}

TEST_F(ExploreTest, FindByLayerCountsNegativeFromTheTop) {
  FindQuery q;
  q.layer = -1;
  q.filter.type = scan::FileType::kRegular;
  EXPECT_EQ(paths_of(find(image(), "/", q)),
            (std::vector<std::string>{"/app/entry.sh", "/var/log/app.log"}));
  q.layer = 3;
  EXPECT_THROW(find(image(), "/", q), Error);
  FindQuery newer;
  newer.filter.newer_than = parse_utc_date("2024-01-01");
  EXPECT_EQ(paths_of(find(image(), "/", newer)), std::vector<std::string>{"/var/log/app.log"});
}

TEST_F(ExploreTest, FindWithUnknownUserIsAnError) {
  FindQuery q;
  q.user = "nobody";
  EXPECT_THROW(find(image(), "/", q), Error);
}

TEST_F(ExploreTest, CatFollowsSymlinksAndHardlinksToLowerContent) {
  EXPECT_EQ(cat(image(), "/current/config.default.ini"), "[server]\nport = 8080\n");
  EXPECT_EQ(cat(image(), "/app/entry.sh"), "#!/bin/sh\necho Hello again\n");
  EXPECT_EQ(cat(image(), "/etc/group"), "root:x:0:\napp:x:1000:\n");
  try {
    resolve_content(image(), "/current");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/current: is a directory (/app), not a regular file");
  }
  EXPECT_THROW(resolve_content(image(), "/app/config.ini"), Error);
}

TEST_F(ExploreTest, GrepSearchesTextFilesOfEveryLayer) {
  GrepQuery q{.pattern = "port|FATAL"};
  std::vector<std::string> hits;
  for (const GrepFile& f : grep(image(), q, {})) {
    for (const auto& [n, text] : f.lines)
      hits.push_back(f.path + ":" + std::to_string(n) + ":" + text);
  }
  EXPECT_EQ(hits, (std::vector<std::string>{"/app/config.default.ini:2:port = 8080",
                                            "/var/log/app.log:2:FATAL: config.ini not found"}));
}

TEST_F(ExploreTest, GrepLiteralIgnoreCaseAndBinary) {
  GrepQuery q{.pattern = "PORT", .ignore_case = true, .count = true};
  std::vector<std::string> counts;
  for (const GrepFile& f : grep(image(), q, std::vector<std::string>{"/app"})) {
    counts.push_back(f.path + ":" + std::to_string(f.count));
  }
  // data.bin is binary: not searched without -a.
  EXPECT_EQ(counts, (std::vector<std::string>{"/app/config.default.ini:1", "/app/entry.sh:0"}));
  q.binary = true;
  q.ignore_case = false;
  auto files = grep(image(), q, std::vector<std::string>{"/app/data.bin"});
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].count, 1u);
  EXPECT_THROW(Matcher("a(", false), Error);
}

TEST_F(ExploreTest, HistoryRowsAlignLayersWithNonEmptySteps) {
  auto rows = history_rows(image());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].layer, 0u);
  EXPECT_FALSE(rows[1].layer.has_value());
  EXPECT_EQ(rows[1].created_by, "ENV A=1");
  EXPECT_EQ(rows[2].layer, 1u);
  EXPECT_EQ(rows[3].layer, 2u);
  EXPECT_EQ(rows[3].deleted, 1u);
  // config.ini (21 bytes) survives through the hardlink: not wasted; entry.sh is shadowed.
  EXPECT_EQ(rows[2].wasted_bytes, 31u);
  EXPECT_FALSE(rows[4].layer.has_value());
}

TEST_F(ExploreTest, LayerChangesListAddedModifiedDeleted) {
  std::vector<std::string> lines;
  for (const LayerChange& c : layer_change_list(image(), 2)) {
    lines.push_back(std::string(1, c.kind) + " " + c.path + " " + std::to_string(c.size));
  }
  EXPECT_EQ(lines,
            (std::vector<std::string>{"D /app/config.ini 0", "M /app/entry.sh 27", "A /current 0",
                                      "A /var 0", "A /var/log 0", "A /var/log/app.log 36"}));
}

}  // namespace
}  // namespace coroner::explore
