#include "scan/rootfs.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <fstream>
#include <string>

#include "base/bytes.h"
#include "base/error.h"
#include "fs/tree.h"
#include "scan/test_source.h"
#include "testing/compile.h"

namespace coroner::scan {
namespace {

void write(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary) << content;
  ::chmod(path.c_str(), mode);
}

const Entry* find(const LayerIndex& l, std::string_view path) {
  for (const Entry& e : l.entries) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

// root/
//   bin/app.sh        script, 0755
//   etc/passwd        captured
//   etc/passwd.link   hardlink of etc/passwd
//   etc/escape        symlink to ../../../../etc/shadow (must not be followed)
//   lib -> usr/lib    symlink to a directory (must not be walked)
//   usr/lib/libx      binary
//   run/fifo
class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = coroner::testing::make_test_dir("scan-rootfs");
    for (const char* d : {"/bin", "/etc", "/usr", "/usr/lib", "/run"}) {
      ASSERT_EQ(::mkdir((dir_ + d).c_str(), 0755), 0);
    }
    write(dir_ + "/bin/app.sh", "#!/bin/sh\r\nexec app\n", 0755);
    write(dir_ + "/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    ASSERT_EQ(::link((dir_ + "/etc/passwd").c_str(), (dir_ + "/etc/passwd.link").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../etc/shadow", (dir_ + "/etc/escape").c_str()), 0);
    ASSERT_EQ(::symlink("usr/lib", (dir_ + "/lib").c_str()), 0);
    write(dir_ + "/usr/lib/libx", std::string("\x01\x00\x02", 3));
    ASSERT_EQ(::mkfifo((dir_ + "/run/fifo").c_str(), 0600), 0);
  }
  std::string dir_;
};

TEST_F(RootfsTest, ScansTheFolderLikeATar) {
  ScanOptions o;
  o.capture = [](std::string_view p, uint64_t) { return p == "etc/passwd"; };
  LayerIndex l = scan_folder(dir_, {}, 0, o);
  ASSERT_NE(find(l, "."), nullptr);
  EXPECT_EQ(find(l, ".")->type, FileType::kDirectory);
  const Entry* e = find(l, "bin/app.sh");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->kind, ContentKind::kScript);
  EXPECT_EQ(e->mode, 0755u);
  EXPECT_EQ(e->uid, ::getuid());
  EXPECT_EQ(l.facts[e->facts].first_line, "#!/bin/sh\r");
  EXPECT_EQ(l.captured.at("etc/passwd"), "root:x:0:0::/root:/bin/sh\n");
  e = find(l, "etc/passwd.link");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kHardlink);
  EXPECT_EQ(e->link, "etc/passwd");  // the first path in sorted walk order
  e = find(l, "etc/escape");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kSymlink);
  EXPECT_EQ(e->link, "../../../../etc/shadow");
  e = find(l, "lib");
  EXPECT_EQ(e->type, FileType::kSymlink);
  EXPECT_EQ(find(l, "lib/libx"), nullptr);  // not walked through the symlink
  EXPECT_EQ(find(l, "usr/lib/libx")->kind, ContentKind::kBinary);
  EXPECT_EQ(find(l, "run/fifo")->type, FileType::kFifo);
  // Sorted walk order, parents before children.
  EXPECT_EQ(l.entries[1].path, "bin");
  EXPECT_EQ(l.entries[2].path, "bin/app.sh");
}

TEST_F(RootfsTest, ScanImageAndReadEntryUseTheFolder) {
  FakeSource src;
  src.add_dir(dir_);
  std::vector<LayerIndex> layers = scan_image(src, {});
  ASSERT_EQ(layers.size(), 1u);
  std::string out;
  read_entry(src, layers[0], *find(layers[0], "etc/passwd.link"),
             [&](std::span<const std::byte> b) { out += as_chars(b); });
  EXPECT_EQ(out, "root:x:0:0::/root:/bin/sh\n");
}

TEST_F(RootfsTest, ReadNeverFollowsSymlinks) {
  auto sink = [](std::span<const std::byte>) {};
  EXPECT_THROW(read_folder_file(dir_, "lib/libx", sink), Error);    // symlinked directory
  EXPECT_THROW(read_folder_file(dir_, "etc/escape", sink), Error);  // symlink itself
  EXPECT_THROW(read_folder_file(dir_, "../x", sink), Error);
  EXPECT_THROW(read_folder_file(dir_, "etc", sink), Error);  // not a regular file
  std::string out;
  read_folder_file(dir_, "usr/lib/libx", [&](std::span<const std::byte> b) { out += as_chars(b); });
  EXPECT_EQ(out, std::string("\x01\x00\x02", 3));
}

// Folders shaped as overlayfs upper dirs (a dead container's diff, a containerd snapshot):
// whiteouts as 0/0 character devices or xattr-marked files, opaque dirs by xattr.
class OverlayUpperTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = coroner::testing::make_test_dir("scan-overlay-upper"); }

  // mknod of a 0/0 char device, skipping the test only when the kernel says EPERM.
  bool whiteout(const std::string& path) {
    if (::mknod(path.c_str(), S_IFCHR | 0, makedev(0, 0)) == 0) return true;
    EXPECT_EQ(errno, EPERM) << path << ": " << std::strerror(errno);
    return false;
  }
  bool set_xattr(const std::string& path, const char* name, const char* value) {
    if (::lsetxattr(path.c_str(), name, value, std::strlen(value), 0) == 0) return true;
    EXPECT_EQ(errno, EPERM) << path << " " << name << ": " << std::strerror(errno);
    return false;
  }
  std::string dir_;
};

std::vector<std::string> entry_strings(const LayerIndex& l) {
  std::vector<std::string> out;
  for (const Entry& e : l.entries) {
    const char* wh = e.whiteout == Whiteout::kFile     ? "whiteout"
                     : e.whiteout == Whiteout::kOpaque ? "opaque"
                                                       : "entry";
    out.push_back(std::string(wh) + " " + std::string(e.path) + " type " +
                  std::to_string(static_cast<int>(e.type)));
  }
  return out;
}

std::vector<std::string> xattr_names(const LayerIndex& l, const Entry& e) {
  std::vector<std::string> out;
  if (e.facts == Entry::kNoFacts) return out;
  for (const auto& x : l.facts[e.facts].xattrs) out.push_back(x.first);
  return out;
}

TEST_F(OverlayUpperTest, CharDevice00IsAWhiteoutOfItsName) {
  ASSERT_EQ(::mkdir((dir_ + "/etc").c_str(), 0755), 0);
  if (!whiteout(dir_ + "/etc/gone")) GTEST_SKIP() << "mknod 0/0 needs CAP_MKNOD";
  ASSERT_EQ(::mknod((dir_ + "/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
  LayerIndex l = scan_folder(dir_, {}, 0, {});
  std::vector<std::string> want = {"entry . type 1", "entry etc type 1", "whiteout etc/gone type 0",
                                   "entry null type 4"};
  EXPECT_EQ(entry_strings(l), want);
  const Entry* e = find(l, "etc/gone");
  EXPECT_EQ(e->mode, 0600u);  // as Docker's overlay2 driver writes the ".wh." file
  EXPECT_EQ(e->size, 0u);
  EXPECT_EQ(e->facts, Entry::kNoFacts);  // no device numbers: not a device
  const Entry* null = find(l, "null");
  EXPECT_EQ(l.facts[null->facts].dev_major, 1u);  // other devices stay devices
}

TEST_F(OverlayUpperTest, TrustedOpaqueDirIsTheDirAndAnOpaqueMarker) {
  ASSERT_EQ(::mkdir((dir_ + "/etc").c_str(), 0750), 0);
  write(dir_ + "/etc/new.conf", "x\n");
  if (!set_xattr(dir_ + "/etc", "trusted.overlay.opaque", "y")) {
    GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
  }
  ASSERT_TRUE(set_xattr(dir_ + "/etc", "user.keep", "1"));
  ASSERT_TRUE(set_xattr(dir_ + "/etc/new.conf", "trusted.overlay.origin", "abc"));
  LayerIndex l = scan_folder(dir_, {}, 0, {});
  std::vector<std::string> want = {"entry . type 1", "entry etc type 1", "opaque etc type 0",
                                   "entry etc/new.conf type 0"};
  EXPECT_EQ(entry_strings(l), want);
  EXPECT_EQ(l.entries[2].mode, 0750u);
  // overlayfs' own xattrs are not the files' xattrs; the others stay.
  EXPECT_EQ(xattr_names(l, l.entries[1]), std::vector<std::string>{"user.keep"});
  EXPECT_EQ(l.entries[3].facts, Entry::kNoFacts);
}

TEST_F(OverlayUpperTest, UserxattrOpaqueAndXattrWhiteouts) {
  ASSERT_EQ(::mkdir((dir_ + "/usr").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir_ + "/var").c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((dir_ + "/tmp").c_str(), 0755), 0);
  write(dir_ + "/var/old", "");
  write(dir_ + "/var/full", "data");
  write(dir_ + "/tmp/old", "");
  ASSERT_TRUE(set_xattr(dir_ + "/usr", "user.overlay.opaque", "y"));
  ASSERT_TRUE(set_xattr(dir_ + "/var", "user.overlay.opaque", "x"));
  ASSERT_TRUE(set_xattr(dir_ + "/var/old", "user.overlay.whiteout", ""));
  ASSERT_TRUE(set_xattr(dir_ + "/var/full", "user.overlay.whiteout", ""));
  ASSERT_TRUE(set_xattr(dir_ + "/tmp/old", "user.overlay.whiteout", ""));
  LayerIndex l = scan_folder(dir_, {}, 0, {});
  // "x" is not opaque (overlayfs.rst): it only says the directory holds xattr whiteouts; only
  // empty files are whiteouts, and only in such a directory.
  std::vector<std::string> want = {
      "entry . type 1",    "entry tmp type 1", "entry tmp/old type 0",  "entry usr type 1",
      "opaque usr type 0", "entry var type 1", "entry var/full type 0", "whiteout var/old type 0"};
  EXPECT_EQ(entry_strings(l), want);
  for (const Entry& e : l.entries) EXPECT_EQ(xattr_names(l, e), std::vector<std::string>{});
}

TEST_F(OverlayUpperTest, AufsMarkersActAsInATar) {
  ASSERT_EQ(::mkdir((dir_ + "/d").c_str(), 0755), 0);
  write(dir_ + "/d/.wh..wh..opq", "");
  write(dir_ + "/.wh.gone", "");
  write(dir_ + "/.wh..wh.aufs", "");
  ASSERT_EQ(::mkdir((dir_ + "/.wh..wh.plnk").c_str(), 0700), 0);
  LayerIndex l = scan_folder(dir_, {}, 0, {});
  std::vector<std::string> want = {"entry . type 1", "whiteout gone type 0", "entry d type 1",
                                   "opaque d type 0"};
  EXPECT_EQ(entry_strings(l), want);
  EXPECT_NE(std::find(l.notes.begin(), l.notes.end(), ".wh..wh.aufs: AUFS metadata skipped"),
            l.notes.end());
}

// The lower layer a folder; the upper one an overlay upper dir of it.
TEST_F(OverlayUpperTest, MergedViewHonoursTheWhiteouts) {
  std::string lower = dir_ + "/lower", upper = dir_ + "/upper";
  for (const std::string& d : {lower, lower + "/etc", lower + "/etc/sub", lower + "/opt", upper,
                               upper + "/etc", upper + "/opt"}) {
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  }
  write(lower + "/etc/passwd", "root\n");
  write(lower + "/etc/sub/x", "x");
  write(lower + "/opt/a", "a");
  write(lower + "/opt/b", "b");
  write(upper + "/opt/c", "c");
  if (!whiteout(upper + "/etc/passwd")) GTEST_SKIP() << "mknod 0/0 needs CAP_MKNOD";
  if (!set_xattr(upper + "/opt", "trusted.overlay.opaque", "y")) {
    GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
  }
  FakeSource src;
  src.add_dir(lower);
  src.add_dir(upper);
  std::vector<LayerIndex> layers = scan_image(src, {});
  fs::Tree tree = fs::Tree::build(layers);
  EXPECT_FALSE(tree.lookup("etc/passwd"));
  EXPECT_TRUE(tree.lookup("etc/sub/x"));
  EXPECT_FALSE(tree.lookup("opt/a"));
  EXPECT_FALSE(tree.lookup("opt/b"));
  EXPECT_TRUE(tree.lookup("opt/c"));
  // The upper dir alone: its whiteouts delete nothing and never show in the view.
  fs::Tree alone = fs::Tree::build(std::span(layers).subspan(1));
  EXPECT_FALSE(alone.lookup("etc/passwd"));
  ASSERT_TRUE(alone.lookup("opt"));
  ASSERT_TRUE(alone.lookup("opt/c"));
  std::vector<std::string> paths;
  alone.walk([&](fs::NodeId id) {
    paths.push_back(alone.path_of(id));
    return true;
  });
  std::vector<std::string> want = {"/", "/etc", "/opt", "/opt/c"};
  EXPECT_EQ(paths, want);
}

// A real overlay mount: rm of a lower file and rmdir + mkdir of a lower dir through the merged
// view leave a whiteout and an opaque dir in the upper dir, which the scan reads as a tar would.
TEST_F(OverlayUpperTest, RealOverlayMount) {
  std::string lower = dir_ + "/lower", upper = dir_ + "/upper", work = dir_ + "/work",
              merged = dir_ + "/merged";
  for (const std::string& d : {lower, lower + "/d", upper, work, merged}) {
    ASSERT_EQ(::mkdir(d.c_str(), 0755), 0);
  }
  write(lower + "/f", "f");
  write(lower + "/d/x", "x");
  std::string opts = "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
  if (::mount("overlay", merged.c_str(), "overlay", 0, opts.c_str()) != 0) {
    GTEST_SKIP() << "mount -t overlay: " << std::strerror(errno);
  }
  bool ok = ::unlink((merged + "/f").c_str()) == 0 && ::unlink((merged + "/d/x").c_str()) == 0 &&
            ::rmdir((merged + "/d").c_str()) == 0 && ::mkdir((merged + "/d").c_str(), 0755) == 0;
  ASSERT_EQ(::umount(merged.c_str()), 0);
  ASSERT_TRUE(ok);
  LayerIndex l = scan_folder(upper, {}, 0, {});
  std::vector<std::string> want = {"entry . type 1", "entry d type 1", "opaque d type 0",
                                   "whiteout f type 0"};
  EXPECT_EQ(entry_strings(l), want);
  for (const Entry& e : l.entries) EXPECT_EQ(xattr_names(l, e), std::vector<std::string>{});
}

TEST(RootfsErrorTest, MissingFolderIsAnErrorNamingTheLayer) {
  try {
    scan_folder("/nonexistent/coroner", {}, 2, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("layer 2: /nonexistent/coroner: "), 0u) << e.what();
  }
}

}  // namespace
}  // namespace coroner::scan
