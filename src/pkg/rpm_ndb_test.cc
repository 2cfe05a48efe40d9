#include "pkg/rpm_ndb.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "pkg/rpm_test_util.h"

namespace coroner::pkg {
namespace {

using testing::hello_header;
using testing::ndb_packages;
using testing::rfc1950_adler32;
using testing::RpmHeaderBuilder;

std::string header(const std::string& name) {
  return RpmHeaderBuilder()
      .str(1000, name)
      .str(1001, "1.0")
      .str(1002, "1")
      .str(1022, "noarch")
      .build();
}

std::vector<std::string> names(const std::string& db, std::vector<std::string>& notes) {
  std::vector<std::string> out;
  for (const RpmPackage& p : read_rpmdb_ndb(as_bytes(db), notes)) out.push_back(p.name);
  return out;
}

std::string error_of(const std::string& db) {
  try {
    std::vector<std::string> notes;
    read_rpmdb_ndb(as_bytes(db), notes);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

void put32(std::string& db, size_t off, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) db[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
uint32_t get32(const std::string& db, size_t off) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(db[off + i])} << (8 * i);
  return v;
}
// The byte offset of package i's (0-based) slot, and of its blob.
size_t slot_of(size_t i) { return (2 + 2 * i) * 16; }
size_t blob_of(const std::string& db, size_t i) { return size_t{get32(db, slot_of(i) + 8)} * 16; }

TEST(RpmNdbTest, ReadsEveryPackageWithItsFiles) {
  std::string db = ndb_packages({hello_header(std::string(64, 'a')), header("zlib")});
  std::vector<std::string> notes;
  std::vector<RpmPackage> pkgs = read_rpmdb_ndb(as_bytes(db), notes);
  EXPECT_TRUE(notes.empty()) << notes[0];
  ASSERT_EQ(pkgs.size(), 2u);
  EXPECT_EQ(pkgs[0].name, "hello");
  EXPECT_EQ(pkgs[0].evr(), "2:1.2-3.fc39");
  ASSERT_EQ(pkgs[0].files.size(), 3u);
  EXPECT_EQ(pkgs[0].files[1].path, "/usr/bin/hello");
  EXPECT_EQ(pkgs[0].files[1].digest, std::string(64, 'a'));
  EXPECT_EQ(pkgs[1].name, "zlib");
}

TEST(RpmNdbTest, ListsPackagesInBlobOrderAsRpmQaDoes) {
  // rpmpkgList sorts the slots by blob offset: the last package's blob comes first here.
  std::string db = ndb_packages({header("a"), header("b"), header("c")}, 1, /*reverse=*/true);
  std::vector<std::string> notes;
  EXPECT_EQ(names(db, notes), (std::vector<std::string>{"c", "b", "a"}));
  EXPECT_TRUE(notes.empty());
}

TEST(RpmNdbTest, ReadsSlotsOnEverySlotPageAndSkipsFreeOnes) {
  std::vector<std::string> headers;
  for (int i = 0; i < 300; ++i) headers.push_back(header("p" + std::to_string(i)));
  std::string db = ndb_packages(headers);
  ASSERT_EQ(get32(db, 12), 3u);  // 2 + 600 slots: three pages
  std::vector<std::string> notes;
  std::vector<std::string> got = names(db, notes);
  ASSERT_EQ(got.size(), 300u);
  EXPECT_EQ(got[0], "p0");
  EXPECT_EQ(got[299], "p299");
  EXPECT_TRUE(notes.empty());
  // Spare slot pages (all free) change nothing.
  EXPECT_EQ(names(ndb_packages(headers, 5), notes).size(), 300u);
  EXPECT_TRUE(notes.empty());
}

TEST(RpmNdbTest, AnEmptyDatabaseHasNoPackages) {
  std::vector<std::string> notes;
  EXPECT_TRUE(names(ndb_packages({}), notes).empty());
  EXPECT_TRUE(notes.empty());
}

TEST(RpmNdbTest, HeaderAndSlotPageDamageIsAnErrorNamingTheFile) {
  std::string good = ndb_packages({header("a")});
  EXPECT_EQ(error_of(""),
            "rpmdb Packages.db (ndb): no \"RpmP\" magic at the start (0 bytes): not an ndb "
            "package database");
  EXPECT_NE(error_of(std::string(8192, '\0')).find("no \"RpmP\" magic"), std::string::npos);
  std::string v = good;
  put32(v, 4, 1);
  EXPECT_EQ(error_of(v), "rpmdb Packages.db (ndb): version 1, only version 0 is known");
  for (uint32_t pages : {0u, 2u, 0xffffffffu}) {
    std::string p = good;
    put32(p, 12, pages);
    EXPECT_NE(error_of(p).find("slot pages of 4096 bytes, the file has"), std::string::npos)
        << pages;
  }
  std::string s = good;
  s.replace(slot_of(5), 4, "Slit");
  EXPECT_EQ(error_of(s),
            "rpmdb Packages.db (ndb): slot 12 (offset 192): no \"Slot\" magic: the slot pages "
            "are damaged");
}

TEST(RpmNdbTest, AnInconsistentSlotOrBlobIsSkippedWithANote) {
  std::vector<std::string> h = {header("a"), header("b"), header("c")};
  auto check = [&](const std::string& db, const std::vector<std::string>& want,
                   const std::string& note) {
    std::vector<std::string> notes;
    EXPECT_EQ(names(db, notes), want) << note;
    ASSERT_EQ(notes.size(), 1u) << note;
    EXPECT_NE(notes[0].find(note), std::string::npos) << notes[0];
    EXPECT_EQ(notes[0].rfind("rpmdb Packages.db (ndb): ", 0), 0u) << notes[0];
  };
  std::string base = ndb_packages(h);

  std::string truncated = base.substr(0, base.size() - 16);
  check(truncated, {"a", "b"}, "past the end of the file");

  std::string odd = base + "xyz";
  check(odd, {"a", "b", "c"}, "not a whole number of 16-byte blocks");

  std::string head = base;
  head.replace(blob_of(base, 1), 4, "Blob");
  check(head, {"a", "c"}, "package 2 (slot 4, offset 4");

  std::string other = base;
  put32(other, blob_of(base, 1) + 4, 3);
  check(other, {"a", "c"}, "the blob there is package 3's");

  std::string len = base;
  put32(len, blob_of(base, 1) + 12, get32(base, blob_of(base, 1) + 12) + 64);
  check(len, {"a", "c"}, "blocks, the slot gives");

  std::string tail = base;
  tail.replace(blob_of(base, 2) - 4, 4, "BlbX");
  check(tail, {"a", "c"}, "tail does not match its head");

  std::string adler = base;
  adler[blob_of(base, 0) + 8] ^= 1;  // the timestamp: covered by the checksum only
  check(adler, {"a", "b", "c"}, "adler32 does not match its bytes: read all the same");

  std::string twice = base;
  put32(twice, slot_of(2) + 4, 1);
  put32(twice, blob_of(base, 2) + 4, 1);
  check(twice, {"a", "b"}, "package 1 has a slot already");

  std::string inside = base;
  put32(inside, slot_of(1) + 8, 100);
  check(inside, {"a", "c"}, "inside the slot pages");

  std::string none = base;
  put32(none, slot_of(1) + 12, 0);
  check(none, {"a", "c"}, "not a valid entry");

  std::string few = base;
  put32(few, slot_of(1) + 12, 1);
  check(few, {"a", "c"}, "too few for a blob's head and tail");

  // A well-framed blob that holds no rpm header.
  std::string junk = "BlbS" + std::string("\x02\0\0\0", 4) + std::string(4, '\0') +
                     std::string("\x08\0\0\0", 4) + "notrpm!!";
  junk += std::string(12, '\0');  // padding: 16 + 8 + 12 + 12 = 48, three blocks
  std::string le;
  for (uint32_t v : {rfc1950_adler32(junk), 8u}) {
    for (int i = 0; i < 4; ++i) le += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  junk += le + "BlbE";
  ASSERT_EQ(junk.size(), 48u);
  std::string bad = base;
  put32(bad, slot_of(1) + 8, static_cast<uint32_t>(bad.size() / 16));
  put32(bad, slot_of(1) + 12, 3);
  bad += junk;
  check(bad, {"a", "c"}, "package 2: rpm header");
}

TEST(RpmNdbTest, OverlappingBlobsAreReadOnceAndNotesAreCapped) {
  // Every blob byte is read for one package at most (a hostile file cannot make the reader go
  // over its bytes once per slot), and the notes stay few however many slots are bad.
  std::string db = ndb_packages({header("a")}, 9);
  uint32_t blkoff = get32(db, slot_of(0) + 8), blkcnt = get32(db, slot_of(0) + 12);
  for (uint32_t i = 1; i <= 1000; ++i) {  // slots up to byte 32048, in the 9 pages
    put32(db, slot_of(i) + 4, 100 + i);
    put32(db, slot_of(i) + 8, blkoff);
    put32(db, slot_of(i) + 12, blkcnt);
  }
  std::vector<std::string> notes;
  EXPECT_EQ(names(db, notes), (std::vector<std::string>{"a"}));
  ASSERT_EQ(notes.size(), 11u);
  EXPECT_EQ(notes[0],
            "rpmdb Packages.db (ndb): package 101 (slot 4): its blob overlaps package 1's: "
            "skipped");
  EXPECT_EQ(notes[10], "rpmdb Packages.db (ndb): 990 more slots or blobs skipped likewise");
}

}  // namespace
}  // namespace coroner::pkg
