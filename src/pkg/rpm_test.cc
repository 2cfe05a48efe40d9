#include "pkg/rpm.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/bytes.h"
#include "base/error.h"
#include "pkg/rpm_test_util.h"
#include "pkg/verify.h"
#include "testing/tree_builder.h"

namespace coroner::pkg {
namespace {

using testing::hello_header;
using testing::rpmdb_sqlite;
using testing::RpmHeaderBuilder;

constexpr std::string_view kHelloSha256 =
    "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

RpmPackage parse(const std::string& blob) { return parse_rpm_header(as_bytes(blob)); }

TEST(RpmHeaderTest, ReadsPackageFieldsAndFileList) {
  RpmPackage p = parse(hello_header(std::string(kHelloSha256)));
  EXPECT_EQ(p.name, "hello");
  EXPECT_EQ(p.version, "1.2");
  EXPECT_EQ(p.release, "3.fc39");
  EXPECT_EQ(p.epoch, 2u);
  EXPECT_EQ(p.evr(), "2:1.2-3.fc39");
  EXPECT_EQ(p.arch, "x86_64");
  EXPECT_EQ(p.license, "MIT");
  EXPECT_EQ(p.size, 12u);
  EXPECT_EQ(p.digest_algo, 8u);
  EXPECT_EQ(p.source(), (std::pair<std::string, std::string>{"hello", "1.2-3.fc39"}));
  ASSERT_EQ(p.files.size(), 3u);
  EXPECT_EQ(p.files[0].path, "/etc/hello.conf");
  EXPECT_EQ(p.files[0].flags & kRpmFileConfig, kRpmFileConfig);
  EXPECT_EQ(p.files[0].mode, 0100644u);
  EXPECT_EQ(p.files[0].digest, kHelloSha256);
  EXPECT_EQ(p.files[1].path, "/usr/bin/hello");
  EXPECT_EQ(p.files[1].mode, 0100755u);
  EXPECT_EQ(p.files[1].size, 5u);
  EXPECT_EQ(p.files[1].mtime, 1700000000u);
  EXPECT_EQ(p.files[2].path, "/usr/bin/hello-link");
  EXPECT_EQ(p.files[2].linkto, "hello");
  EXPECT_TRUE(p.files[2].digest.empty());
}

TEST(RpmHeaderTest, AcceptsTheHeaderMagicInFront) {
  std::string blob = std::string("\x8e\xad\xe8\x01\0\0\0\0", 8) + hello_header("00");
  EXPECT_EQ(parse(blob).name, "hello");
}

TEST(RpmHeaderTest, NoEpochAndGpgPubkeyWithoutFiles) {
  RpmPackage p = parse(RpmHeaderBuilder()
                           .str(1000, "gpg-pubkey")
                           .str(1001, "a15b79cc")
                           .str(1002, "63d04c2c")
                           .build());
  EXPECT_EQ(p.evr(), "a15b79cc-63d04c2c");
  EXPECT_FALSE(p.epoch);
  EXPECT_TRUE(p.files.empty());
  EXPECT_EQ(p.source().first, "gpg-pubkey");  // no SOURCERPM: the package itself
}

TEST(RpmHeaderTest, TruncatedBlobThrows) {
  std::string blob = hello_header("00");
  for (size_t n : {size_t{0}, size_t{4}, size_t{8}, size_t{20}, blob.size() - 1}) {
    EXPECT_THROW(parse(blob.substr(0, n)), Error) << n;
  }
}

TEST(RpmHeaderTest, DirIndexPastDirNamesThrows) {
  std::string blob = RpmHeaderBuilder()
                         .str(1000, "x")
                         .strs(1118, {"/usr/"})
                         .strs(1117, {"a"})
                         .i32(1116, {7})
                         .build();
  try {
    parse(blob);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rpm header: DIRINDEXES[0] = 7 past DIRNAMES"),
              std::string::npos)
        << e.what();
  }
}

TEST(RpmHeaderTest, PerFileArrayOfTheWrongLengthThrows) {
  std::string blob = RpmHeaderBuilder()
                         .str(1000, "x")
                         .strs(1118, {"/usr/"})
                         .strs(1117, {"a", "b"})
                         .i32(1116, {0, 0})
                         .i16(1030, {0100644})
                         .build();
  EXPECT_THROW(parse(blob), Error);
}

TEST(RpmHeaderTest, OffsetOrCountOutOfTheDataThrows) {
  EXPECT_THROW(parse(RpmHeaderBuilder().str(1000, "x").raw(1001, 6, 1000, 1).build()), Error);
  EXPECT_THROW(parse(RpmHeaderBuilder().str(1000, "x").raw(1028, 4, 0, 0x7fffffff).build()), Error);
  // An INT32 array whose last element runs past the data.
  EXPECT_THROW(parse(RpmHeaderBuilder().str(1000, "abcdefg").raw(1028, 4, 4, 2).build()), Error);
  // A string without its NUL.
  std::string blob = RpmHeaderBuilder().str(1000, "x").build();
  blob.back() = 'y';
  EXPECT_THROW(parse(blob), Error);
}

TEST(RpmHeaderTest, WrongTypeAndHugeIndexCountThrow) {
  EXPECT_THROW(parse(RpmHeaderBuilder().i32(1000, {1}).build()), Error);
  std::string huge = std::string("\x7f\xff\xff\xff\0\0\0\0", 8);
  EXPECT_THROW(parse(huge), Error);
  EXPECT_THROW(parse(RpmHeaderBuilder().str(1001, "1.0").build()), Error);  // no NAME
}

TEST(RpmDbSqliteTest, ReadsEveryHeaderOfThePackagesTable) {
  std::vector<std::string> notes;
  std::string db = rpmdb_sqlite({hello_header("00"), RpmHeaderBuilder().str(1000, "b").build()});
  std::vector<RpmPackage> pkgs = read_rpmdb_sqlite(as_bytes(db), notes);
  ASSERT_EQ(pkgs.size(), 2u);
  EXPECT_EQ(pkgs[0].name, "hello");
  EXPECT_EQ(pkgs[1].name, "b");
  EXPECT_TRUE(notes.empty());
}

TEST(RpmDbSqliteTest, WalModeFileIsRead) {
  std::vector<std::string> notes;
  std::string db = rpmdb_sqlite({hello_header("00")});
  db[18] = db[19] = 2;  // as rpm leaves it (journal_mode=WAL)
  EXPECT_EQ(read_rpmdb_sqlite(as_bytes(db), notes).size(), 1u);
}

TEST(RpmDbSqliteTest, BadHeaderIsANoteNotAFailure) {
  std::vector<std::string> notes;
  std::string db = rpmdb_sqlite({"garbage!", hello_header("00")});
  EXPECT_EQ(read_rpmdb_sqlite(as_bytes(db), notes).size(), 1u);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_NE(notes[0].find("package 1: rpm header:"), std::string::npos) << notes[0];
}

TEST(RpmDbSqliteTest, NotSqliteOrNoPackagesTableThrows) {
  std::vector<std::string> notes;
  EXPECT_THROW(read_rpmdb_sqlite(as_bytes(std::string(200, 'x')), notes), Error);
  std::string db = rpmdb_sqlite({});
  // Rename the table in the file image: "Packages" -> "Packagez".
  size_t at = db.find("'Packages'");
  ASSERT_NE(at, std::string::npos);
  db[at + 8] = 'z';
  EXPECT_THROW(read_rpmdb_sqlite(as_bytes(db), notes), Error);
  std::string cut = rpmdb_sqlite({hello_header("00")}).substr(0, 150);
  EXPECT_THROW(read_rpmdb_sqlite(as_bytes(cut), notes), Error);
}

TEST(RpmLineTest, MarkerIsTheFirstLetterOfRpmFFlagsString) {
  // rpm's order: d c s m n g l r a (lib/verify.c rpmFFlagsString), checked against rpm -V -a on
  // real CentOS databases by integration_rpm_real_db.
  VerifyFinding f;
  f.manager = Manager::kRpm;
  f.path = "/x";
  f.missing = Missing::kNoEnt;
  auto line = [&](uint32_t flags) {
    f.rpm_flags = flags;
    return f.rpm_line();
  };
  EXPECT_EQ(line(0), "missing     /x");
  EXPECT_EQ(line(kRpmFileDoc | kRpmFileConfig), "missing   d /x");
  EXPECT_EQ(line(kRpmFileConfig | kRpmFileNoReplace), "missing   c /x");
  EXPECT_EQ(line(kRpmFileNoReplace), "missing   n /x");
  EXPECT_EQ(line(kRpmFileSpecfile | kRpmFileGhost), "missing   s /x");
  EXPECT_EQ(line(kRpmFileMissingOk | kRpmFileReadme), "missing   m /x");
  EXPECT_EQ(line(kRpmFileGhost | kRpmFileLicense), "missing   g /x");
  EXPECT_EQ(line(kRpmFileLicense | kRpmFileReadme), "missing   l /x");
  EXPECT_EQ(line(kRpmFileReadme), "missing   r /x");
  EXPECT_EQ(line(kRpmFileArtifact), "missing   a /x");
  f.missing = Missing::kPresent;
  f.digest = Check::kFail;
  EXPECT_EQ(line(kRpmFileArtifact), "..5......  a /x");
}

// --- inventory and rpm -V over a Tree ---------------------------------------------------------

LayerReader fake_reader(const coroner::testing::TreeBuilder& b) {
  return
      [&b](uint32_t layer, std::span<const scan::Entry* const> entries, const EntryContentFn& fn) {
        for (const scan::Entry* e : entries) {
          const std::string& bytes = b.layers()[layer].captured.at(std::string(e->path));
          auto stream = open_memory_stream(as_bytes(bytes), std::string(e->path));
          fn(*e, *stream);
        }
      };
}

class RpmVerifyTest : public ::testing::Test {
 protected:
  RpmVerifyTest() {
    for (const char* d : {"etc", "usr", "usr/bin", "usr/lib", "usr/lib/sysimage",
                          "usr/lib/sysimage/rpm", "var", "var/lib"}) {
      b.dir(d);
    }
    b.symlink("var/lib/rpm", "../../usr/lib/sysimage/rpm");
    db = rpmdb_sqlite({hello_header(std::string(kHelloSha256))});
    b.file("usr/lib/sysimage/rpm/rpmdb.sqlite").content(db);
    b.file("etc/hello.conf").content("hello");
    b.file("usr/bin/hello", 0, 0755).content("hello");
    b.symlink("usr/bin/hello-link", "hello");
    b.layer();
  }
  std::vector<std::string> lines() {
    tree.emplace(b.build());
    VerifyReport r = verify(*tree, b.layers(), fake_reader(b));
    std::vector<std::string> out;
    for (const VerifyFinding& f : r.findings) out.push_back(f.line());
    return out;
  }

  coroner::testing::TreeBuilder b;
  std::string db;
  std::optional<fs::Tree> tree;
};

TEST_F(RpmVerifyTest, InventoryListsThePackageWithItsLayer) {
  tree.emplace(b.build());
  Inventory inv = inventory(*tree, b.layers());
  ASSERT_EQ(inv.packages.size(), 1u);
  const InstalledPackage& p = inv.packages[0];
  EXPECT_EQ(p.manager, Manager::kRpm);
  EXPECT_EQ(p.name, "hello");
  EXPECT_EQ(p.version, "2:1.2-3.fc39");
  EXPECT_EQ(p.arch, "x86_64");
  EXPECT_EQ(p.source, "hello");
  EXPECT_EQ(p.license, "MIT");
  EXPECT_EQ(p.layer, 0u);
  EXPECT_TRUE(inv.notes.empty());
}

TEST_F(RpmVerifyTest, UntouchedFilesPass) { EXPECT_TRUE(lines().empty()); }

TEST_F(RpmVerifyTest, ChangedFilesGetRpmVLetters) {
  b.file("etc/hello.conf").content("hellp");           // same size, other digest
  b.file("usr/bin/hello", 0, 0700).content("hello!");  // size, digest, mode
  b.symlink("usr/bin/hello-link", "elsewhere");
  b.layer().whiteout("etc/hello.conf");
  std::vector<std::string> got = lines();
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"....L....    /usr/bin/hello-link",
                                           "SM5......    /usr/bin/hello",
                                           "missing   c /etc/hello.conf"}));
}

TEST_F(RpmVerifyTest, MtimeChangeIsT) {
  b.file("usr/bin/hello", 0, 0755).content("hello");
  b.mutable_layers().back().entries.back().mtime = 1;
  EXPECT_EQ(lines(), (std::vector<std::string>{".......T.    /usr/bin/hello"}));
}

// The hello package's files (hello.conf changed) with its database at `db_path` (its folders
// made first), in another format than the fixture's sqlite: listed, and verified as rpm -V would.
void expect_hello_db_read(const std::string& db_path, const std::string& db) {
  coroner::testing::TreeBuilder b;
  b.dir("etc").dir("usr").dir("usr/bin");
  for (size_t slash = db_path.find('/'); slash != std::string::npos;
       slash = db_path.find('/', slash + 1)) {
    std::string dir = db_path.substr(0, slash);
    if (dir != "usr") b.dir(dir);
  }
  b.file(db_path).content(db);
  b.file("etc/hello.conf").content("hellp");
  b.file("usr/bin/hello", 0, 0755).content("hello");
  b.symlink("usr/bin/hello-link", "hello");
  fs::Tree t = b.build();
  Inventory inv = inventory(t, b.layers());
  ASSERT_EQ(inv.packages.size(), 1u);
  EXPECT_EQ(inv.packages[0].name, "hello");
  EXPECT_EQ(inv.packages[0].version, "2:1.2-3.fc39");
  EXPECT_EQ(inv.packages[0].layer, 0u);
  EXPECT_TRUE(inv.notes.empty());
  VerifyReport r = verify(t, b.layers(), fake_reader(b));
  EXPECT_TRUE(r.unread_databases.empty());
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].line(), "..5......  c /etc/hello.conf");
}

TEST_F(RpmVerifyTest, BerkeleyDbPackagesIsRead) {
  expect_hello_db_read("var/lib/rpm/Packages",
                       testing::bdb_packages({hello_header(std::string(kHelloSha256))}, 512));
}

TEST_F(RpmVerifyTest, BadBerkeleyDbIsANote) {
  coroner::testing::TreeBuilder old;
  old.dir("var").dir("var/lib").dir("var/lib/rpm");
  old.file("var/lib/rpm/Packages").content(std::string(4096, 'x'));
  fs::Tree t = old.build();
  Inventory inv = inventory(t, old.layers());
  EXPECT_TRUE(inv.packages.empty());
  ASSERT_EQ(inv.notes.size(), 1u);
  EXPECT_EQ(inv.notes[0].rfind("/var/lib/rpm/Packages: rpmdb Packages (BerkeleyDB): metadata "
                               "page: magic ",
                               0),
            0u)
      << inv.notes[0];
}

TEST_F(RpmVerifyTest, SuseNdbPackagesDbIsRead) {
  expect_hello_db_read("usr/lib/sysimage/rpm/Packages.db",
                       testing::ndb_packages({hello_header(std::string(kHelloSha256))}));
}

TEST_F(RpmVerifyTest, DamagedNdbIsNamedAsUnread) {
  coroner::testing::TreeBuilder old;
  old.dir("usr").dir("usr/lib").dir("usr/lib/sysimage").dir("usr/lib/sysimage/rpm");
  // A Packages.db cut after its header: one slot page declared, 100 bytes present.
  old.file("usr/lib/sysimage/rpm/Packages.db")
      .content(testing::ndb_packages({hello_header("00")}).substr(0, 100));
  fs::Tree t = old.build();
  Inventory inv = inventory(t, old.layers());
  EXPECT_TRUE(inv.packages.empty());
  ASSERT_EQ(inv.notes.size(), 1u);
  EXPECT_EQ(inv.notes[0],
            "/usr/lib/sysimage/rpm/Packages.db: rpmdb Packages.db (ndb): the header declares 1 "
            "slot pages of 4096 bytes, the file has 100 bytes (truncated?)");
  VerifyReport r = verify(t, old.layers(), fake_reader(old));
  EXPECT_EQ(r.unread_databases, inv.notes);
}

// A package with an owner other than root, a device and file capabilities.
class RpmOwnerTest : public ::testing::Test {
 protected:
  RpmOwnerTest() {
    std::string h(kHelloSha256);
    header = RpmHeaderBuilder()
                 .str(1000, "owners")
                 .str(1001, "1")
                 .str(1002, "1")
                 .str(1022, "x86_64")
                 .strs(1118, {"/usr/bin/", "/dev/"})
                 .strs(1117, {"ping", "tool", "null0"})
                 .i32(1116, {0, 0, 1})
                 .strs(1035, {h, h, ""})
                 .i32(5011, {8})
                 .i16(1030, {0100755, 0100755, 020666})
                 .i32(1028, {5, 5, 0})
                 .i32(1034, {1700000000, 1700000000, 1700000000})
                 .i16(1033, {0, 0, 1 << 8 | 3})
                 .strs(1039, {"root", "daemon", "root"})
                 .strs(1040, {"root", "daemon", "root"})
                 .strs(5010, {"cap_net_raw=ep", "", ""})
                 .build();
    for (const char* d : {"etc", "dev", "usr", "usr/bin", "var", "var/lib", "var/lib/rpm"}) {
      b.dir(d);
    }
    b.file("var/lib/rpm/rpmdb.sqlite").content(testing::rpmdb_sqlite({header}));
    b.file("etc/passwd").content("root:x:0:0::/root:/bin/sh\ndaemon:x:2:2::/:/bin/sh\n");
    b.file("etc/group").content("root:x:0:\ndaemon:x:2:\n");
    b.layer();
  }
  std::vector<std::string> lines() {
    tree.emplace(b.build());
    VerifyReport r = verify(*tree, b.layers(), fake_reader(b));
    std::vector<std::string> out;
    for (const VerifyFinding& f : r.findings) out.push_back(f.line());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string header;
  coroner::testing::TreeBuilder b;
  std::optional<fs::Tree> tree;
};

TEST_F(RpmOwnerTest, ParsesOwnersDevicesAndCaps) {
  RpmPackage p = parse(header);
  ASSERT_EQ(p.files.size(), 3u);
  EXPECT_EQ(p.files[1].user, "daemon");
  EXPECT_EQ(p.files[1].group, "daemon");
  EXPECT_EQ(p.files[0].caps, "cap_net_raw=ep");
  EXPECT_EQ(p.files[2].rdev, 0x0103);
}

TEST_F(RpmOwnerTest, MatchingOwnersDeviceAndCapsPass) {
  b.file("usr/bin/ping", 0, 0755).content("hello");
  b.xattr("security.capability", coroner::testing::vfs_cap(0x02000001, {1 << 13, 0, 0, 0}));
  b.file("usr/bin/tool", 0, 0755, 2, 2).content("hello");
  b.char_device("dev/null0", 1, 3, 0666);
  EXPECT_EQ(lines(), std::vector<std::string>{});
}

TEST_F(RpmOwnerTest, OwnerGroupDeviceAndCapsChangesAreUGDP) {
  b.file("usr/bin/ping", 0, 0755).content("hello");  // the capability is gone
  b.file("usr/bin/tool", 0, 0755, 0, 2).content("hello");
  b.xattr("security.capability",
          coroner::testing::vfs_cap(0x02000001, {1 << 13, 0, 0, 0}));  // an extra one
  b.char_device("dev/null0", 1, 5, 0666);
  EXPECT_EQ(lines(),
            (std::vector<std::string>{"........P    /usr/bin/ping", ".....U..P    /usr/bin/tool",
                                      "...D.....    /dev/null0"}));
}

TEST_F(RpmOwnerTest, NamesResolveThroughTheImagesPasswd) {
  // uid 7 is "daemon" in this image's /etc/passwd: rpm compares names, not numbers.
  b.file("etc/passwd").content("root:x:0:0::/root:/bin/sh\ndaemon:x:7:7::/:/bin/sh\n");
  b.file("usr/bin/ping", 0, 0755).content("hello");
  b.xattr("security.capability", coroner::testing::vfs_cap(0x02000001, {1 << 13, 0, 0, 0}));
  b.file("usr/bin/tool", 0, 0755, 7, 2).content("hello");
  b.char_device("dev/null0", 1, 3, 0666);
  EXPECT_EQ(lines(), std::vector<std::string>{});
}

TEST_F(RpmVerifyTest, OwnedPathsListTheRpmFiles) {
  tree.emplace(b.build());
  std::vector<std::string> owned = owned_paths(*tree, b.layers());
  EXPECT_EQ(owned,
            (std::vector<std::string>{"/etc/hello.conf", "/usr/bin/hello", "/usr/bin/hello-link"}));
  // verify() hands the same list over (the audit's executable rules use it).
  EXPECT_EQ(verify(*tree, b.layers(), fake_reader(b)).owned_paths, owned);
}

}  // namespace
}  // namespace coroner::pkg
