#include "pkg/verify.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/bytes.h"
#include "pkg/test_util.h"
#include "testing/tree_builder.h"

namespace coroner::pkg {
namespace {

using coroner::testing::TreeBuilder;
using testing::fixture;

// Reads content back from what TreeBuilder::content() kept, as explore::read_entries would
// stream it from the layer.
LayerReader fake_reader(const TreeBuilder& b, int* reads = nullptr) {
  return [&b, reads](uint32_t layer, std::span<const scan::Entry* const> entries,
                     const EntryContentFn& fn) {
    if (reads) ++*reads;
    for (const scan::Entry* e : entries) {
      const std::string& bytes = b.layers()[layer].captured.at(std::string(e->path));
      auto stream = open_memory_stream(as_bytes(bytes), std::string(e->path));
      fn(*e, *stream);
    }
  };
}

// A bookworm-like root: base-files and libc6 from var/lib/dpkg, tzdata the distroless way.
void base_layer(TreeBuilder& b) {
  for (const char* d : {"etc", "etc/dpkg", "usr", "usr/lib", "usr/lib/x86_64-linux-gnu",
                        "usr/share", "usr/share/zoneinfo", "var", "var/lib", "var/lib/dpkg",
                        "var/lib/dpkg/info", "var/lib/dpkg/status.d"}) {
    b.dir(d);
  }
  for (const char* f :
       {"var/lib/dpkg/status", "var/lib/dpkg/info/base-files.list",
        "var/lib/dpkg/info/base-files.md5sums", "var/lib/dpkg/info/libc6:amd64.list",
        "var/lib/dpkg/info/libc6:amd64.md5sums", "var/lib/dpkg/status.d/tzdata",
        "var/lib/dpkg/status.d/tzdata.md5sums"}) {
    b.file(f).content(fixture(f));
  }
  b.symlink("lib", "usr/lib");
  b.file("etc/os-release").content("ID=debian\nVERSION_ID=\"12\"\n");
  b.file("etc/debian_version").content("12.4\n");  // md5 differs from the Conffiles one
  b.file("usr/lib/os-release").content("ID=debian\n");
  b.file("usr/lib/x86_64-linux-gnu/libc.so.6").content("libc");
  b.file("usr/share/zoneinfo/UTC").content("TZif");
}

std::vector<std::string> lines(const VerifyReport& r) {
  std::vector<std::string> out;
  for (const auto& f : r.findings) out.push_back(f.dpkg_line());
  return out;
}

const VerifyFinding* find(const VerifyReport& r, std::string_view path) {
  auto it = std::find_if(r.findings.begin(), r.findings.end(),
                         [&](const auto& f) { return f.path == path; });
  return it == r.findings.end() ? nullptr : &*it;
}

TEST(VerifyTest, CleanFilesPassAndMissingOnesAreListed) {
  TreeBuilder b;
  base_layer(b);
  fs::Tree tree = b.build();
  VerifyReport r = verify(tree, b.layers(), fake_reader(b));
  // dpkg 1.21 reports every listed path that lstat cannot find, directories included, and the
  // conffile whose content changed; the files whose md5 matches print nothing.
  EXPECT_EQ(lines(r), (std::vector<std::string>{
                          "??5?????? c /etc/debian_version",
                          "missing     /etc/dpkg/origins",
                          "missing   c /etc/dpkg/origins/debian",
                          "missing     /lib64",
                          "missing     /lib64/ld-linux-x86-64.so.2",
                      }));
  EXPECT_EQ(r.files_hashed, 4u);  // debian_version, os-release, libc.so.6, UTC
  EXPECT_EQ(find(r, "/etc/dpkg/origins/debian")->rule(), "config-missing");
  EXPECT_EQ(find(r, "/lib64")->rule(), "package-file-missing");
  EXPECT_EQ(find(r, "/etc/debian_version")->rule(), "package-file-modified");
  EXPECT_TRUE(r.notes.empty());
}

TEST(VerifyTest, DpkgPathExcludeMarksMissingFilesNotUnpackedOnPurpose) {
  TreeBuilder b;
  base_layer(b);
  b.dir("etc/dpkg/dpkg.cfg.d");
  b.file("etc/dpkg/dpkg.cfg.d/docker")
      .content(
          "# slim\npath-exclude /lib64/*\npath-exclude=/etc/dpkg/origins/*\n"
          "path-include=/etc/dpkg/origins/debian\n");
  fs::Tree tree = b.build();
  VerifyReport r = verify(tree, b.layers(), fake_reader(b));
  EXPECT_EQ(lines(r).size(), 5u);  // dpkg --verify still lists them all
  EXPECT_TRUE(find(r, "/lib64/ld-linux-x86-64.so.2")->path_excluded);
  EXPECT_FALSE(find(r, "/lib64")->path_excluded);                    // the dir itself: no match
  EXPECT_FALSE(find(r, "/etc/dpkg/origins/debian")->path_excluded);  // included again
}

TEST(VerifyTest, KnownDigestsAreNotReadAgain) {
  TreeBuilder b;
  base_layer(b);
  fs::Tree tree = b.build();
  int reads = 0;
  std::vector<std::string> asked;
  VerifyReport r = verify(tree, b.layers(), fake_reader(b, &reads),
                          [&](const scan::Entry& e, size_t len) -> std::optional<std::string> {
                            asked.emplace_back(e.path);
                            if (len != 32) return std::nullopt;
                            return std::string(32, '0');  // every md5 "differs"
                          });
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(r.files_known, 4u);
  EXPECT_EQ(r.files_hashed, 0u);
  EXPECT_EQ(asked.size(), 4u);
  EXPECT_EQ(std::count_if(r.findings.begin(), r.findings.end(),
                          [](const VerifyFinding& f) { return f.digest == Check::kFail; }),
            4);
}

TEST(VerifyTest, LaterLayerChangesAreAttributedToThatLayer) {
  TreeBuilder b;
  base_layer(b);
  b.layer();
  b.file("usr/lib/x86_64-linux-gnu/libc.so.6").content("evil");  // through the lib symlink
  b.whiteout("usr/lib/os-release");
  b.file("usr/share/zoneinfo/UTC.real").content("TZif");
  b.layer();
  b.symlink("usr/share/zoneinfo/UTC", "UTC.real");  // same bytes behind a symlink
  fs::Tree tree = b.build();
  int reads = 0;
  VerifyReport r = verify(tree, b.layers(), fake_reader(b, &reads));
  const VerifyFinding* libc = find(r, "/lib/x86_64-linux-gnu/libc.so.6");
  ASSERT_NE(libc, nullptr);
  EXPECT_EQ(libc->dpkg_line(), "??5??????   /lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(libc->layer, 1u);
  const VerifyFinding* os = find(r, "/usr/lib/os-release");
  ASSERT_NE(os, nullptr);
  EXPECT_EQ(os->dpkg_line(), "missing     /usr/lib/os-release");
  EXPECT_EQ(os->layer, 1u);
  const VerifyFinding* utc = find(r, "/usr/share/zoneinfo/UTC");
  ASSERT_NE(utc, nullptr);
  EXPECT_EQ(utc->dpkg_line(), "?M.??????   /usr/share/zoneinfo/UTC");
  EXPECT_EQ(utc->layer, 1u);  // the layer of the bytes read through the symlink
  EXPECT_EQ(reads, 2);        // layers 0 and 1 each streamed once
}

TEST(VerifyTest, ParentReplacedByFileIsNotADirectory) {
  TreeBuilder b;
  base_layer(b);
  b.layer();
  b.file("etc/dpkg").content("x");
  fs::Tree tree = b.build();
  VerifyReport r = verify(tree, b.layers(), fake_reader(b));
  const VerifyFinding* f = find(r, "/etc/dpkg/origins/debian");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->dpkg_line(), "missing   c /etc/dpkg/origins/debian (Not a directory)");
  EXPECT_EQ(f->layer, 1u);
}

TEST(VerifyTest, DanglingSymlinkHasNoDigest) {
  TreeBuilder b;
  base_layer(b);
  b.layer();
  b.symlink("usr/lib/os-release", "/nonexistent");
  fs::Tree tree = b.build();
  VerifyReport r = verify(tree, b.layers(), fake_reader(b));
  EXPECT_EQ(find(r, "/usr/lib/os-release")->dpkg_line(), "?M???????   /usr/lib/os-release");
}

TEST(VerifyTest, DivertedFileIsCheckedWhereItWent) {
  TreeBuilder b;
  base_layer(b);
  b.file("var/lib/dpkg/diversions").content("/usr/lib/os-release\n/usr/lib/os-release.real\nx\n");
  fs::Tree tree = b.build();
  VerifyReport r = verify(tree, b.layers(), fake_reader(b));
  EXPECT_NE(find(r, "/usr/lib/os-release.real"), nullptr);
  EXPECT_EQ(find(r, "/usr/lib/os-release"), nullptr);
}

TEST(InventoryTest, ListsInstalledPackagesWithTheirLayer) {
  TreeBuilder b;
  base_layer(b);
  b.layer();
  b.file("var/lib/dpkg/info/libc6:amd64.list")
      .content(fixture("var/lib/dpkg/info/libc6:amd64.list"));
  fs::Tree tree = b.build();
  Inventory inv = inventory(tree, b.layers());
  EXPECT_EQ(inv.os.id, "debian");
  EXPECT_EQ(inv.os.version_id, "12");
  std::vector<std::string> names;
  for (const auto& p : inv.packages) names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"base-files", "broken-thing", "libc6", "libgcc-s1",
                                             "old-thing", "tzdata"}));
  EXPECT_EQ(inv.packages[0].layer, 0u);
  EXPECT_EQ(inv.packages[0].installed_size, 340u * 1024);
  EXPECT_EQ(inv.packages[1].status, "half-installed");
  EXPECT_FALSE(inv.packages[1].ok);
  EXPECT_EQ(inv.packages[2].layer, 1u);  // its .list was rewritten there
  EXPECT_EQ(inv.packages[2].source, "glibc");
  EXPECT_EQ(inv.packages[4].status, "config-files");
  EXPECT_EQ(inv.packages[5].status, "installed");  // distroless status.d
  EXPECT_EQ(inv.packages[5].layer, 0u);
}

TEST(InventoryTest, BrokenStatusIsANoteNotAnError) {
  TreeBuilder b;
  b.dir("var").dir("var/lib").dir("var/lib/dpkg");
  b.file("var/lib/dpkg/status").content("Package: a\nStatus: bogus\n");
  fs::Tree tree = b.build();
  Inventory inv = inventory(tree, b.layers());
  EXPECT_TRUE(inv.packages.empty());
  ASSERT_EQ(inv.notes.size(), 1u);
  EXPECT_EQ(inv.notes[0],
            "/var/lib/dpkg/status: dpkg status: line 2: Status needs three words, got \"bogus\"");
}

void apk_layers(TreeBuilder& b) {
  std::string db = fixture("lib/apk/db/installed");
  std::string musl_only = db.substr(0, db.find("C:Q1xYz"));
  b.dir("lib").dir("lib/apk").dir("lib/apk/db").dir("bin").dir("etc");
  b.dir("etc/busybox-paths.d");
  b.file("lib/apk/db/installed").content(musl_only);
  b.file("lib/libc.musl-x86_64.so.1").content("");
  b.layer();
  b.file("lib/apk/db/installed").content(db);
  b.file("bin/busybox").content("busybox");
  b.file("etc/securetty").content("ttyS0\n");
  b.file("etc/busybox-paths.d/busybox").content("bin/sh\n");
}

TEST(ApkVerifyTest, InventoryLayersAndSha1Checks) {
  TreeBuilder b;
  apk_layers(b);
  fs::Tree tree = b.build();
  Inventory inv = inventory(tree, b.layers());
  ASSERT_EQ(inv.packages.size(), 2u);
  EXPECT_EQ(inv.packages[0].name, "busybox");
  EXPECT_EQ(inv.packages[0].layer, 1u);
  EXPECT_EQ(inv.packages[1].name, "musl");
  EXPECT_EQ(inv.packages[1].layer, 0u);  // listed in both copies: the first one installed it
  EXPECT_EQ(inv.packages[1].manager, Manager::kApk);
  VerifyReport r = verify(tree, b.layers(), fake_reader(b));
  EXPECT_EQ(lines(r), (std::vector<std::string>{
                          "missing     /lib/ld-musl-x86_64.so.1",
                          "??5??????   /etc/securetty",
                      }));
}

TEST(CaptureTest, CapturesTheDatabasesOnly) {
  EXPECT_TRUE(capture_package_db("var/lib/dpkg/status", 100));
  EXPECT_TRUE(capture_package_db("var/lib/dpkg/info/libc6:amd64.list", 100));
  EXPECT_TRUE(capture_package_db("var/lib/dpkg/info/bash.md5sums", 100));
  EXPECT_TRUE(capture_package_db("var/lib/dpkg/info/bash.conffiles", 100));
  EXPECT_TRUE(capture_package_db("var/lib/dpkg/status.d/tzdata", 100));
  EXPECT_TRUE(capture_package_db("lib/apk/db/installed", 100));
  EXPECT_FALSE(capture_package_db("var/lib/dpkg/info/bash.postinst", 100));
  EXPECT_FALSE(capture_package_db("usr/bin/bash", 100));
}

}  // namespace
}  // namespace coroner::pkg
