#include "scan/rootfs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "base/bytes.h"
#include "base/error.h"
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
