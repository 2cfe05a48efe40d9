#include "explore/writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/bytes.h"

namespace coroner::explore {
namespace {

namespace stdfs = std::filesystem;
using scan::FileType;

stdfs::path make_temp_dir() {
  const char* base = std::getenv("CORONER_TEST_TMP");
  stdfs::path root = base ? base : stdfs::temp_directory_path();
  stdfs::create_directories(root);
  std::string tmpl = (root / "writer-XXXXXX").string();
  CORONER_CHECK(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}

struct TempDir {
  stdfs::path path = make_temp_dir();
  ~TempDir() {
    std::error_code ec;
    // Make read-only directories removable again.
    for (auto it = stdfs::recursive_directory_iterator(path, ec);
         it != stdfs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        stdfs::permissions(it->path(), stdfs::perms::owner_all, stdfs::perm_options::add, ec);
      }
    }
    stdfs::remove_all(path, ec);
  }
};

ExportItem item(std::string path, FileType type, uint32_t mode = 0644) {
  ExportItem i;
  i.path = std::move(path);
  i.type = type;
  i.mode = mode;
  i.mtime = 1700000000;
  return i;
}

void add_file(ExportWriter& w, ExportItem i, std::string_view content) {
  i.size = content.size();
  auto stream = open_memory_stream(as_bytes(content), i.path);
  w.add(i, stream.get());
}

std::string slurp(const stdfs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(DirWriterTest, SymlinkPlantedByTheImageIsNeverFollowed) {
  TempDir out, outside;
  auto w = make_dir_writer((out.path / "root").string(), /*privileged=*/false);
  w->add(item(".", FileType::kDirectory, 0755), nullptr);
  ExportItem evil = item("evil", FileType::kSymlink, 0777);
  evil.link = outside.path.string();
  w->add(evil, nullptr);
  add_file(*w, item("evil/pwned", FileType::kRegular), "owned\n");
  ExportItem up = item("up", FileType::kSymlink, 0777);
  up.link = "../../..";
  w->add(up, nullptr);
  add_file(*w, item("up/pwned", FileType::kRegular), "owned\n");
  ExportItem hl = item("hl", FileType::kHardlink);
  hl.link = "evil/pwned";
  w->add(hl, nullptr);
  w->finish();

  EXPECT_TRUE(stdfs::is_empty(outside.path));
  EXPECT_FALSE(stdfs::exists(out.path / "pwned"));
  EXPECT_EQ(stdfs::read_symlink(out.path / "root" / "evil"), outside.path);
  EXPECT_FALSE(stdfs::exists(out.path / "root" / "hl"));
  ASSERT_EQ(w->notes().size(), 3u);
  EXPECT_EQ(w->notes()[0],
            "/evil/pwned: not written: its parent is not a directory of the export (a symlink "
            "or a file is in the way)");
  EXPECT_EQ(w->notes()[2], "/hl: not written: its hardlink target /evil/pwned was not written");
}

TEST(DirWriterTest, ReadOnlyDirectoryIsFilledThenGetsItsModeAndTime) {
  TempDir out;
  auto w = make_dir_writer((out.path / "r").string(), false);
  w->add(item(".", FileType::kDirectory, 0755), nullptr);
  w->add(item("ro", FileType::kDirectory, 0555), nullptr);
  add_file(*w, item("ro/f", FileType::kRegular, 04755), "hello");
  ExportItem hl = item("ro/g", FileType::kHardlink);
  hl.link = "ro/f";
  w->add(hl, nullptr);
  w->add(item("ro/fifo", FileType::kFifo, 0640), nullptr);
  w->add(item("dev", FileType::kCharDevice, 0666), nullptr);
  w->finish();

  struct stat st;
  ASSERT_EQ(::stat((out.path / "r/ro").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(st.st_mtime, 1700000000);
  ASSERT_EQ(::stat((out.path / "r/ro/f").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);  // setuid dropped without root
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(slurp(out.path / "r/ro/g"), "hello");
  ASSERT_EQ(::lstat((out.path / "r/ro/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_FALSE(stdfs::exists(out.path / "r/dev"));
  ASSERT_EQ(w->notes().size(), 1u);
  EXPECT_EQ(w->notes()[0], "/dev: not written: creating a device needs root");
}

// A sparse entry's runs of zeros become holes (a few KiB of tar can declare gigabytes), and
// the content reads back the same, the trailing hole included. A file that is not sparse is
// written out whole, zeros and all.
TEST(DirWriterTest, SparseEntriesKeepTheirHoles) {
  TempDir out;
  auto w = make_dir_writer((out.path / "r").string(), false);
  w->add(item(".", FileType::kDirectory, 0755), nullptr);
  std::string content(64 << 20, '\0');
  content[(5 << 20) + 3] = 'x';
  content.replace(9 << 20, 5, "hello");
  ExportItem sparse = item("sparse", FileType::kRegular);
  sparse.sparse = true;
  add_file(*w, sparse, content);
  add_file(*w, item("plain", FileType::kRegular), std::string(1 << 20, '\0'));
  w->finish();
  struct stat st;
  ASSERT_EQ(::stat((out.path / "r/sparse").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 64 << 20);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "holes written out";
  EXPECT_TRUE(slurp(out.path / "r/sparse") == content);
  ASSERT_EQ(::stat((out.path / "r/plain").c_str(), &st), 0);
  EXPECT_GE(st.st_blocks * 512, 1 << 20);
}

TEST(DirWriterTest, RefusesANonEmptyDirectory) {
  TempDir out;
  std::ofstream(out.path / "x") << "x";
  EXPECT_THROW(make_dir_writer(out.path.string(), false), Error);
}

TEST(TarWriterTest, WritesEveryKindWithOwnersModesAndXattrs) {
  TempDir out;
  std::string tar = (out.path / "o.tar").string();
  auto w = make_tar_writer(tar);
  w->add(item(".", FileType::kDirectory, 0755), nullptr);
  ExportItem tmp = item("tmp", FileType::kDirectory, 01777);
  w->add(tmp, nullptr);
  ExportItem ping = item("ping", FileType::kRegular, 04755);
  ping.uid = 1000;
  ping.gid = 50;
  ping.uname = "app";
  ping.gname = "staff";
  ping.xattrs.emplace_back("security.capability", std::string("\x01\x00\x00\x02", 4));
  add_file(*w, ping, "ELF");
  ExportItem ln = item("ln", FileType::kSymlink, 0777);
  ln.link = "/ping";
  w->add(ln, nullptr);
  ExportItem hl = item("hl", FileType::kHardlink);
  hl.link = "ping";
  w->add(hl, nullptr);
  ExportItem null = item("null", FileType::kCharDevice, 0666);
  null.dev_major = 1;
  null.dev_minor = 3;
  w->add(null, nullptr);
  w->finish();

  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  ASSERT_EQ(archive_read_open_filename(a, tar.c_str(), 10240), ARCHIVE_OK);
  archive_entry* e;
  std::vector<std::string> seen;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string name = archive_entry_pathname(e);
    std::ostringstream line;
    line << name << " " << std::oct << archive_entry_mode(e) << std::dec << " "
         << archive_entry_uid(e) << ":" << archive_entry_gid(e);
    if (archive_entry_uname(e) && *archive_entry_uname(e)) line << " " << archive_entry_uname(e);
    if (archive_entry_symlink(e)) line << " -> " << archive_entry_symlink(e);
    if (archive_entry_hardlink(e)) line << " link " << archive_entry_hardlink(e);
    if (archive_entry_filetype(e) == AE_IFCHR) {
      line << " dev " << archive_entry_rdevmajor(e) << "," << archive_entry_rdevminor(e);
    }
    const char* xname;
    const void* xvalue;
    size_t xsize;
    archive_entry_xattr_reset(e);
    while (archive_entry_xattr_next(e, &xname, &xvalue, &xsize) == ARCHIVE_OK) {
      line << " xattr " << xname << "=" << xsize;
    }
    if (name == "ping") {
      char buf[16];
      la_ssize_t n = archive_read_data(a, buf, sizeof buf);
      line << " data " << std::string(buf, static_cast<size_t>(n));
    }
    seen.push_back(line.str());
  }
  archive_read_free(a);
  EXPECT_EQ(seen, (std::vector<std::string>{
                      "tmp/ 41777 0:0",
                      "ping 104755 1000:50 app xattr security.capability=4 data ELF",
                      "ln 120777 0:0 -> /ping",
                      "hl 644 0:0 link ping",
                      "null 20666 0:0 dev 1,3",
                  }));
}

}  // namespace
}  // namespace coroner::explore
