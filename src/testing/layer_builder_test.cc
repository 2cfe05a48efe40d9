#include "testing/layer_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace coroner::testing {
namespace {

// What libarchive reads back from a tar, for checking the builder independently of scan/.
struct ReadEntry {
  std::string path, link, hardlink, uname, gname, content;
  unsigned type = 0, perm = 0;
  int64_t uid = 0, gid = 0, mtime = 0;
  unsigned major = 0, minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

std::vector<ReadEntry> read_back(const std::string& tar) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  EXPECT_EQ(archive_read_open_memory(a.get(), tar.data(), tar.size()), ARCHIVE_OK);
  std::vector<ReadEntry> out;
  archive_entry* e;
  int r;
  while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
    ReadEntry& x = out.emplace_back();
    const char* p = archive_entry_pathname(e);
    if (!p)
      ADD_FAILURE() << "null path after " << out.size() << " entries: "
                    << (archive_error_string(a.get()) ? archive_error_string(a.get()) : "");
    x.path = p ? p : "";
    if (const char* s = archive_entry_symlink(e)) x.link = s;
    if (const char* s = archive_entry_hardlink(e)) x.hardlink = s;
    if (const char* s = archive_entry_uname(e)) x.uname = s;
    if (const char* s = archive_entry_gname(e)) x.gname = s;
    x.type = archive_entry_filetype(e);
    x.perm = archive_entry_perm(e);
    x.uid = archive_entry_uid(e);
    x.gid = archive_entry_gid(e);
    x.mtime = archive_entry_mtime(e);
    x.major = archive_entry_rdevmajor(e);
    x.minor = archive_entry_rdevminor(e);
    archive_entry_xattr_reset(e);
    const char* name;
    const void* value;
    size_t size;
    while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
      x.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
    }
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) x.content.append(buf, n);
  }
  EXPECT_EQ(r, ARCHIVE_EOF) << archive_error_string(a.get());
  return out;
}

TEST(LayerBuilderTest, WritesEveryEntryKindAndField) {
  std::string long_name = std::string(60, 'a') + "/" + std::string(60, 'b') + "/c";
  std::string tar = LayerBuilder()
                        .dir("etc", 0755)
                        .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0640, 0, 42)
                        .uname("root")
                        .gname("shadow")
                        .mtime(123456789)
                        .symlink("bin/sh", "busybox")
                        .hardlink("etc/passwd2", "etc/passwd")
                        .char_device("dev/null", 1, 3)
                        .block_device("dev/sda", 8, 0)
                        .fifo("run/fifo")
                        .file("usr/bin/ping", "x", 0755)
                        .xattr("security.capability", std::string("\x01\x00\x00\x02", 4))
                        .file(long_name, "long")
                        .whiteout("etc/old")
                        .opaque("var")
                        .opaque("")
                        .tar();
  ASSERT_EQ(tar.size() % 512, 0u);
  auto e = read_back(tar);
  ASSERT_EQ(e.size(), 12u);
  EXPECT_EQ(e[0].path, "etc/");  // libarchive marks directories with a slash
  EXPECT_EQ(e[0].type, unsigned{AE_IFDIR});
  EXPECT_EQ(e[1].content, "root:x:0:0::/root:/bin/sh\n");
  EXPECT_EQ(e[1].perm, 0640u);
  EXPECT_EQ(e[1].gid, 42);
  EXPECT_EQ(e[1].uname, "root");
  EXPECT_EQ(e[1].gname, "shadow");
  EXPECT_EQ(e[1].mtime, 123456789);
  EXPECT_EQ(e[2].type, unsigned{AE_IFLNK});
  EXPECT_EQ(e[2].link, "busybox");
  EXPECT_EQ(e[3].hardlink, "etc/passwd");
  EXPECT_EQ(e[4].type, unsigned{AE_IFCHR});
  EXPECT_EQ(e[4].major, 1u);
  EXPECT_EQ(e[4].minor, 3u);
  EXPECT_EQ(e[5].type, unsigned{AE_IFBLK});
  EXPECT_EQ(e[5].major, 8u);
  EXPECT_EQ(e[6].type, unsigned{AE_IFIFO});
  ASSERT_EQ(e[7].xattrs.size(), 1u);
  EXPECT_EQ(e[7].xattrs[0].first, "security.capability");
  EXPECT_EQ(e[7].xattrs[0].second, std::string("\x01\x00\x00\x02", 4));
  EXPECT_EQ(e[8].path, long_name);
  EXPECT_EQ(e[8].content, "long");
  EXPECT_EQ(e[9].path, "etc/.wh.old");
  EXPECT_EQ(e[10].path, "var/.wh..wh..opq");
  EXPECT_EQ(e[11].path, ".wh..wh..opq");
}

TEST(LayerBuilderTest, RawEntriesKeepNamesByteForByte) {
  std::string long_raw = "../" + std::string(150, 'z');
  std::string tar = LayerBuilder()
                        .file("a", "1")
                        .raw("../x", '0', "evil")
                        .raw("/abs/y", '2', {}, "/target")
                        .raw(long_raw, '0', "L")
                        .raw(".wh.")
                        .raw(std::string("bad\xff\xfe", 5))
                        .file("b", "2")
                        .tar();
  auto e = read_back(tar);
  ASSERT_EQ(e.size(), 7u);
  EXPECT_EQ(e[1].path, "../x");
  EXPECT_EQ(e[1].content, "evil");
  EXPECT_EQ(e[2].path, "/abs/y");
  EXPECT_EQ(e[2].link, "/target");
  EXPECT_EQ(e[3].path, long_raw);
  EXPECT_EQ(e[3].content, "L");
  EXPECT_EQ(e[4].path, ".wh.");
  EXPECT_EQ(e[5].path, std::string("bad\xff\xfe", 5));
  EXPECT_EQ(e[6].content, "2");
}

TEST(LayerBuilderTest, CompressorsProduceTheirMagic) {
  std::string g = gzip("hello");
  ASSERT_GE(g.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(g[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(g[1]), 0x8b);
  std::string z = zstd("hello");
  ASSERT_GE(z.size(), 4u);
  EXPECT_EQ(z.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
}

}  // namespace
}  // namespace coroner::testing
