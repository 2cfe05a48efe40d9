#include "explore/filters.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace coroner::explore {
namespace {

TEST(SizeTestTest, RoundsUpToTheUnitAsFindDoes) {
  SizeTest less_1m = parse_size_test("-1M");
  EXPECT_TRUE(less_1m.matches(0));
  EXPECT_FALSE(less_1m.matches(1));  // 1 byte is one whole MiB unit, not less than 1
  SizeTest k2 = parse_size_test("2k");
  EXPECT_TRUE(k2.matches(1025));
  EXPECT_TRUE(k2.matches(2048));
  EXPECT_FALSE(k2.matches(2049));
  SizeTest blocks = parse_size_test("+1");
  EXPECT_FALSE(blocks.matches(512));
  EXPECT_TRUE(blocks.matches(513));
  SizeTest bytes = parse_size_test("10c");
  EXPECT_TRUE(bytes.matches(10));
  EXPECT_FALSE(bytes.matches(11));
}

TEST(SizeTestTest, RejectsUnknownUnitAndGarbage) {
  EXPECT_THROW(parse_size_test("12q"), Error);
  EXPECT_THROW(parse_size_test("+"), Error);
  EXPECT_THROW(parse_size_test("1.5k"), Error);
}

TEST(PermTestTest, ExactAllAndAny) {
  EXPECT_TRUE(parse_perm_test("755").matches(0755));
  EXPECT_FALSE(parse_perm_test("755").matches(04755));
  EXPECT_TRUE(parse_perm_test("-4000").matches(04755));
  EXPECT_FALSE(parse_perm_test("-4000").matches(0755));
  EXPECT_TRUE(parse_perm_test("/111").matches(0700));
  EXPECT_FALSE(parse_perm_test("/111").matches(0644));
  EXPECT_TRUE(parse_perm_test("/0").matches(0));
  EXPECT_THROW(parse_perm_test("u"), Error);
  EXPECT_THROW(parse_perm_test("u+q"), Error);
  EXPECT_THROW(parse_perm_test(""), Error);
  EXPECT_THROW(parse_perm_test("17777"), Error);
  EXPECT_THROW(parse_perm_test("8"), Error);
}

TEST(FindFilters, PermSymbolicModesAreAppliedToZeroLikeGnuFind) {
  EXPECT_EQ(parse_perm_test("u+s").bits, 04000u);
  EXPECT_EQ(parse_perm_test("/u+s,g+s").bits, 06000u);
  EXPECT_EQ(parse_perm_test("a+x").bits, 0111u);
  EXPECT_EQ(parse_perm_test("+x").bits, 0111u);
  EXPECT_EQ(parse_perm_test("o+w").bits, 02u);
  EXPECT_EQ(parse_perm_test("u=rwx,g=u,o=").bits, 0770u);
  EXPECT_EQ(parse_perm_test("u=rwx,g=rx,o=rx").bits, 0755u);
  EXPECT_EQ(parse_perm_test("+t").bits, 01000u);
  EXPECT_EQ(parse_perm_test("a=rwx,go-w").bits, 0755u);
  EXPECT_EQ(parse_perm_test("u+x-x").bits, 0u);
  EXPECT_EQ(parse_perm_test("+X").bits, 0u);
  EXPECT_EQ(parse_perm_test("+x,+X").bits, 0111u);
  EXPECT_TRUE(parse_perm_test("/u+s,g+s").matches(02755));
  EXPECT_FALSE(parse_perm_test("/u+s,g+s").matches(0755));
  EXPECT_TRUE(parse_perm_test("-o+w").matches(0777));
  EXPECT_FALSE(parse_perm_test("-o+w").matches(0775));
}

TEST(DateTest, ParsesDatesAndDateTimesAsUtc) {
  EXPECT_EQ(parse_utc_date("1970-01-02"), 86400);
  EXPECT_EQ(parse_utc_date("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(parse_utc_date("2023-11-14 22:13:20"), 1700000000);
  EXPECT_EQ(parse_utc_date("2023-11-14T22:13"), 1700000000 - 20);
  EXPECT_THROW(parse_utc_date("2023-02-30"), Error);
  EXPECT_THROW(parse_utc_date("yesterday"), Error);
  EXPECT_THROW(parse_utc_date("2023-11-14T25:00"), Error);
}

TEST(FindFilterTest, CombinesTestsWithAnd) {
  FindFilter f;
  f.names.push_back("*.sh");
  f.type = scan::FileType::kRegular;
  f.perms.push_back(parse_perm_test("/111"));
  FileView v{.path = "/app/entry.sh", .type = scan::FileType::kRegular, .mode = 0755};
  EXPECT_TRUE(f.matches(v));
  v.mode = 0644;
  EXPECT_FALSE(f.matches(v));
  v.mode = 0755;
  v.path = "/app/entry.py";
  EXPECT_FALSE(f.matches(v));
}

TEST(FindFilterTest, NameMatchesLeadingDotAndPathMatchesSlashes) {
  FindFilter f;
  f.names.push_back("*");
  f.paths.push_back("/etc/*");
  EXPECT_TRUE(f.matches({.path = "/etc/ssl/.hidden"}));
  EXPECT_FALSE(f.matches({.path = "/usr/.hidden"}));
}

TEST(FindFilterTest, HardlinkCountsAsRegularFileForType) {
  FindFilter f;
  f.type = scan::FileType::kRegular;
  EXPECT_TRUE(f.matches({.path = "/a", .type = scan::FileType::kHardlink}));
  EXPECT_FALSE(f.matches({.path = "/a", .type = scan::FileType::kSymlink}));
}

}  // namespace
}  // namespace coroner::explore
