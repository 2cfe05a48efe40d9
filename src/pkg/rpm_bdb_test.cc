#include "pkg/rpm_bdb.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "pkg/rpm_test_util.h"

namespace coroner::pkg {
namespace {

using testing::bdb_hash;
using testing::bdb_packages;
using testing::hello_header;
using testing::RpmHeaderBuilder;

using Records = std::vector<std::pair<std::string, std::string>>;

std::string str(const std::vector<std::byte>& b) { return std::string(as_chars(b)); }

Records read(const std::string& db) {
  Records out;
  for (const BdbRecord& r : read_bdb_hash(as_bytes(db)).records) {
    out.emplace_back(str(r.key), str(r.value));
  }
  return out;
}

std::string error_of(const std::string& db) {
  try {
    std::vector<std::string> notes;
    read_rpmdb_bdb(as_bytes(db), notes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

void put32(std::string& db, size_t off, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) db[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void put16(std::string& db, size_t off, uint16_t v) {
  db[off] = static_cast<char>(v & 0xff);
  db[off + 1] = static_cast<char>(v >> 8);
}

// The first overflow page (type 7) of a little-endian image, and its page number.
size_t first_overflow(const std::string& db, size_t page_size) {
  for (size_t p = 1; p * page_size < db.size(); ++p) {
    if (db[p * page_size + 25] == 7) return p;
  }
  return 0;
}

TEST(BdbHashTest, ReadsKeyDataPairsOfEveryBucket) {
  Records in = {{"k1", "one"}, {"k2", "two"}, {"k3", "three"}};
  BdbHash h = read_bdb_hash(as_bytes(bdb_hash(in)));
  EXPECT_TRUE(h.little_endian);
  EXPECT_EQ(h.page_size, 4096u);
  // Bucket 0 holds records 0 and 2, bucket 1 record 1: the cursor walks bucket by bucket.
  EXPECT_EQ(read(bdb_hash(in)), (Records{{"k1", "one"}, {"k3", "three"}, {"k2", "two"}}));
}

TEST(BdbHashTest, BigValuesFollowOverflowChainsAndFullPagesChain) {
  Records in;
  for (int i = 0; i < 40; ++i) {
    // Every fourth value spans several 512-byte overflow pages; the others fill bucket pages.
    std::string v = i % 4 == 0 ? std::string(1500 + i, static_cast<char>('a' + i % 26))
                               : std::string(60, static_cast<char>('A' + i % 26));
    in.emplace_back("key" + std::to_string(i), v);
  }
  std::string db = bdb_hash(in, 512, 2);
  ASSERT_GT(db.size() / 512, 40u);  // chained bucket pages and overflow pages were made
  Records got = read(db);
  std::sort(got.begin(), got.end());
  std::sort(in.begin(), in.end());
  EXPECT_EQ(got, in);
}

TEST(BdbHashTest, BigEndianAndEveryPageSize) {
  Records in = {{"a", std::string(3000, 'x')}, {"b", "small"}};
  for (uint32_t size : {512u, 1024u, 4096u, 65536u}) {
    for (bool le : {true, false}) {
      BdbHash h = read_bdb_hash(as_bytes(bdb_hash(in, size, 1, le)));
      EXPECT_EQ(h.little_endian, le);
      EXPECT_EQ(h.page_size, size);
      ASSERT_EQ(h.records.size(), 2u) << size;
      EXPECT_EQ(str(h.records[0].value), in[0].second);
      EXPECT_EQ(str(h.records[1].value), "small");
    }
  }
}

TEST(RpmDbBdbTest, ParsesEveryHeaderByNumberAndSkipsTheCounter) {
  std::string other = RpmHeaderBuilder().str(1000, "other").str(1001, "1").build();
  for (bool le : {true, false}) {
    std::vector<std::string> notes;
    // 512-byte pages: both headers go through overflow chains.
    std::string db = bdb_packages({hello_header(std::string(64, 'a')), other}, 512, le);
    std::vector<RpmPackage> pkgs = read_rpmdb_bdb(as_bytes(db), notes);
    ASSERT_EQ(pkgs.size(), 2u);
    EXPECT_EQ(pkgs[0].name, "hello");
    EXPECT_EQ(pkgs[0].files.size(), 3u);
    EXPECT_EQ(pkgs[1].name, "other");
    EXPECT_TRUE(notes.empty());
  }
}

TEST(RpmDbBdbTest, BadHeaderIsANoteNotAnError) {
  std::vector<std::string> notes;
  std::string db = bdb_packages({"not a header", RpmHeaderBuilder().str(1000, "ok").build()});
  std::vector<RpmPackage> pkgs = read_rpmdb_bdb(as_bytes(db), notes);
  ASSERT_EQ(pkgs.size(), 1u);
  EXPECT_EQ(pkgs[0].name, "ok");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].rfind("rpmdb Packages (BerkeleyDB): package 1: rpm header: ", 0), 0u)
      << notes[0];
}

TEST(RpmDbBdbTest, WrongMagicOrShortFile) {
  std::string db = bdb_packages({RpmHeaderBuilder().str(1000, "x").build()});
  std::string btree = db;
  put32(btree, 12, 0x053162);
  EXPECT_EQ(error_of(btree),
            "rpmdb Packages (BerkeleyDB): metadata page: magic 0x00053162 is not a hash "
            "database's (0x061561 in either byte order)");
  EXPECT_EQ(error_of(db.substr(0, 100)),
            "rpmdb Packages (BerkeleyDB): metadata page: 100 bytes, shorter than the 512-byte "
            "metadata");
  std::string odd = db;
  put32(odd, 20, 3000);
  EXPECT_EQ(error_of(odd),
            "rpmdb Packages (BerkeleyDB): metadata page: page size 3000 is not a power of two in "
            "512..65536");
  std::string version = db;
  put32(version, 16, 7);
  EXPECT_EQ(error_of(version),
            "rpmdb Packages (BerkeleyDB): metadata page: hash version 7 not supported (8..10)");
}

TEST(RpmDbBdbTest, TruncatedFile) {
  std::string db = bdb_packages({hello_header(std::string(64, 'a'))}, 512);
  size_t pages = db.size() / 512;
  ASSERT_GT(pages, 4u);
  // The last overflow page is gone (and half of the one before).
  std::string cut = db.substr(0, db.size() - 512 - 200);
  EXPECT_EQ(error_of(cut), "rpmdb Packages (BerkeleyDB): page " + std::to_string(pages - 2) +
                               " (overflow chain of page 2: item 1): past the last page (" +
                               std::to_string(pages - 3) + ")");
  // Two bucket pages but room for the first only; no room for any.
  EXPECT_EQ(error_of(db.substr(0, 1024)),
            "rpmdb Packages (BerkeleyDB): page 2 (bucket 1): past the last page (1)");
  EXPECT_EQ(error_of(db.substr(0, 512)),
            "rpmdb Packages (BerkeleyDB): metadata page: max_bucket 1 but 1 pages of 512 bytes");
}

TEST(RpmDbBdbTest, CycleInOverflowChain) {
  std::string db = bdb_packages({hello_header(std::string(64, 'a'))}, 512);
  size_t ov = first_overflow(db, 512);
  ASSERT_GT(ov, 0u);
  put32(db, ov * 512 + 16, static_cast<uint32_t>(ov));  // next_pgno = itself
  EXPECT_EQ(error_of(db), "rpmdb Packages (BerkeleyDB): page " + std::to_string(ov) +
                              " (overflow chain of page 2: item 1): reached twice (a cycle in a "
                              "page chain)");
}

TEST(RpmDbBdbTest, CycleInBucketChain) {
  std::string db = bdb_packages({RpmHeaderBuilder().str(1000, "x").build()});
  put32(db, 4096 + 16, 1);  // bucket 0's page chains to itself
  EXPECT_EQ(error_of(db),
            "rpmdb Packages (BerkeleyDB): page 1 (chain of bucket 0): reached twice (a cycle in a "
            "page chain)");
}

TEST(RpmDbBdbTest, ItemOffsetPastThePageOrOutOfOrder) {
  std::string db = bdb_packages({RpmHeaderBuilder().str(1000, "x").build()});
  std::string past = db;
  put16(past, 4096 + 26, 4096);  // item 0 at the page's end
  EXPECT_EQ(error_of(past),
            "rpmdb Packages (BerkeleyDB): page 1: item 0: offset 4096 outside 30..4096");
  std::string into_index = db;
  put16(into_index, 4096 + 26 + 2, 20);  // item 1 inside the page header
  EXPECT_EQ(error_of(into_index),
            "rpmdb Packages (BerkeleyDB): page 1: item 1: offset 20 outside 30..4091");
  std::string entries = db;
  put16(entries, 4096 + 20, 4000);  // more entries than the page holds
  EXPECT_EQ(error_of(entries),
            "rpmdb Packages (BerkeleyDB): page 1: 4000 entries do not fit in the page");
}

TEST(RpmDbBdbTest, OverflowLengthsAreChecked) {
  std::string db = bdb_packages({hello_header(std::string(64, 'a'))}, 512);
  // Page 2 (bucket 1) holds record 1: its key, then the H_OFFPAGE item of the header.
  // Find that item (type 3) and claim 1 GiB.
  size_t at = db.find(std::string("\x03\0\0\0", 4), 1024);
  ASSERT_LT(at, 1536u);
  std::string big = db;
  put32(big, at + 8, 1u << 30);
  EXPECT_EQ(error_of(big),
            "rpmdb Packages (BerkeleyDB): page 2: item 1: overflow item of 1073741824 bytes in a " +
                std::to_string(db.size()) + "-byte file");
  std::string longer = db;
  uint32_t len = static_cast<uint32_t>(static_cast<uint8_t>(db[at + 8])) |
                 static_cast<uint32_t>(static_cast<uint8_t>(db[at + 9])) << 8;
  put32(longer, at + 8, len + 1);  // the chain ends one byte short
  EXPECT_EQ(error_of(longer),
            "rpmdb Packages (BerkeleyDB): page 2: item 1: overflow chain ends "
            "after " +
                std::to_string(len) + " of " + std::to_string(len + 1) + " bytes");
  std::string wrong_type = db;
  wrong_type[first_overflow(db, 512) * 512 + 25] = 13;
  EXPECT_NE(error_of(wrong_type).find("is not P_OVERFLOW (7)"), std::string::npos);
}

}  // namespace
}  // namespace coroner::pkg
