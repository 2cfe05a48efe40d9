#include "explore/export.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/error.h"
#include "explore/test_image.h"
#include "testing/layer_builder.h"

namespace coroner::explore {
namespace {

namespace stdfs = std::filesystem;

stdfs::path temp_dir() {
  const char* base = std::getenv("CORONER_TEST_TMP");
  stdfs::path root = base ? base : stdfs::temp_directory_path();
  stdfs::create_directories(root);
  std::string tmpl = (root / "export-XXXXXX").string();
  CORONER_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

TEST(ExportTest, TarHasParentsFirstFilesPerLayerAndHardlinksLast) {
  auto image = testing::sample_image();
  stdfs::path dir = temp_dir();
  std::string tar = (dir / "root.tar").string();
  auto writer = make_tar_writer(tar);
  ExportStats stats = export_root(*image, *writer);
  EXPECT_EQ(stats.files, 8u);
  EXPECT_EQ(stats.hardlinks, 0u);  // config.ini was deleted: config.default.ini is the file

  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_filename(a, tar.c_str(), 10240), ARCHIVE_OK);
  archive_entry* e;
  std::vector<std::string> names;
  std::string log;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    names.push_back(archive_entry_pathname(e));
    if (names.back() == "var/log/app.log") {
      char buf[64];
      la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      log.assign(buf, static_cast<size_t>(n));
    }
  }
  archive_read_free(a);
  EXPECT_EQ(names, (std::vector<std::string>{"app/", "bin/", "etc/", "tmp/", "usr/", "usr/bin/",
                                             "var/", "var/log/", "bin/ls", "current",
                                             // per layer, in the order of the layer's tar
                                             "etc/passwd", "etc/group", "bin/sh", "usr/bin/ping",
                                             "app/config.default.ini", "app/data.bin",
                                             "var/log/app.log", "app/entry.sh"}));
  EXPECT_EQ(log, "boot ok\nFATAL: config.ini not found\n");
  stdfs::remove_all(dir);
}

TEST(ExportTest, LayerMapNamesTheLayerOfEveryPath) {
  auto image = testing::sample_image();
  std::ostringstream out;
  write_layer_map(*image, out);
  std::string map = out.str();
  EXPECT_NE(map.find("/app/entry.sh\t2\t" + image->layer_digest(2) +
                     "\tRUN rm /app/config.ini && boot > /var/log/app.log\n"),
            std::string::npos);
  EXPECT_NE(map.find("/bin/sh\t0\t" + image->layer_digest(0) + "\tADD rootfs.tar /\n"),
            std::string::npos);
  EXPECT_EQ(std::count(map.begin(), map.end(), '\n'), 18);
}

TEST(ExportTest, DirectoryExportRefusesToFollowAnEscapingSymlink) {
  using coroner::testing::LayerBuilder;
  stdfs::path dir = temp_dir();
  stdfs::path outside = dir / "outside";
  stdfs::create_directories(outside);
  // Layer 0 plants "evil -> <outside>" (absolute), layer 1 writes "evil/pwned". The merge
  // resolves the parent inside the image root; the export must never reach <outside>.
  LayerBuilder l0, l1;
  l0.symlink("evil", outside.string());
  l1.file("evil/pwned", "owned\n");
  std::string t0 = l0.tar(), t1 = l1.tar();
  auto image = testing::open_memory_image(std::make_unique<testing::MemorySource>(
      std::vector<std::pair<std::string, std::string>>{{t0, t0}, {t1, t1}},
      std::vector<std::pair<std::string, bool>>{}));
  auto writer = make_dir_writer((dir / "root").string(), /*privileged=*/false);
  ExportStats stats = export_root(*image, *writer);
  EXPECT_TRUE(stdfs::is_empty(outside));
  EXPECT_TRUE(stdfs::is_symlink(dir / "root" / "evil"));
  // The file landed where the image's own resolution put it: inside the root.
  EXPECT_TRUE(stdfs::is_regular_file(dir / "root" / outside.relative_path() / "pwned"));
  EXPECT_EQ(stats.files, 1u);
  stdfs::remove_all(dir);
}

}  // namespace
}  // namespace coroner::explore
