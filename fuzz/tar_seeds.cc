// Writes the seed corpus of fuzz_tar into the folder given as argv[1]: small layers built with
// LayerBuilder (no archive is committed to the repository). Run by ctest before the replay.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <filesystem>

#include "testing/layer_builder.h"

using coroner::testing::gzip;
using coroner::testing::LayerBuilder;
using coroner::testing::zstd;

namespace {

// A pax tar of one sparse file (libarchive writes GNU.sparse 1.0 and drops the holes): `size`
// bytes with data at each of `regions` (offset, length).
std::string sparse_pax(uint64_t size, const std::vector<std::pair<uint64_t, uint64_t>>& regions) {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_pax(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* o, const void* buf, size_t n) -> la_ssize_t {
        static_cast<std::string*>(o)->append(static_cast<const char*>(buf), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, "sparse");
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0755);
  archive_entry_set_size(e, static_cast<la_int64_t>(size));
  for (auto [off, len] : regions) {
    archive_entry_sparse_add_entry(e, static_cast<la_int64_t>(off), static_cast<la_int64_t>(len));
  }
  archive_write_header(a, e);
  std::string content(size, '\0');
  content.replace(0, 4,
                  "\x7f"
                  "ELF");
  for (auto [off, len] : regions) {
    for (uint64_t i = off; i < off + len && i < size; ++i)
      content[i] = static_cast<char>('a' + i % 26);
  }
  archive_write_data(a, content.data(), content.size());
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tar_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // its parent too (<build>/fuzz-seeds)
  std::string elf = std::string(
                        "\x7f"
                        "ELF\x02\x01\x01",
                        7) +
                    std::string(57, '\0');
  std::string kinds = LayerBuilder()
                          .dir("etc")
                          .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644)
                          .uname("root")
                          .gname("root")
                          .symlink("bin/sh", "busybox")
                          .hardlink("etc/passwd-", "etc/passwd")
                          .char_device("dev/null", 1, 3)
                          .block_device("dev/sda", 8, 0)
                          .fifo("run/fifo")
                          .file("entry.sh", "#!/bin/sh\r\nexec app\n", 0755)
                          .file("app", elf, 0755)
                          .file("bin/ping", "x", 04755)
                          .xattr("security.capability", std::string("\x01\x00\x00\x02", 4))
                          .tar();
  std::string whiteouts = LayerBuilder()
                              .whiteout("etc/old")
                              .opaque("var")
                              .opaque(".")
                              .raw("d/.wh..wh..opqX")
                              .raw("d/.wh.")
                              .file("./a", "1")
                              .file("a", "2")
                              .tar();
  std::string names = LayerBuilder()
                          .file(std::string(120, 'd') + "/" + std::string(120, 'f'), "long")
                          .symlink("s", std::string(150, 't'))
                          .raw("/abs", '0', "x")
                          .raw("a//b/./c", '0', "y")
                          .raw(std::string("bad\xff", 4), '0', "z")
                          .raw("./", '5')
                          .tar();
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"kinds.tar", kinds},
      {"whiteouts.tar", whiteouts},
      {"names.tar", names},
      {"dotdot.tar", LayerBuilder().raw("../x", '0', "evil").tar()},
      {"empty.tar", LayerBuilder().tar()},
      {"kinds.tar.gz", gzip(kinds)},
      {"kinds.tar.zst", zstd(kinds)},
      {"multi.tar.gz", gzip(kinds.substr(0, 1000)) + gzip(kinds.substr(1000))},
      {"multi.tar.zst", zstd(kinds.substr(0, 700)) + zstd(kinds.substr(700))},
      {"truncated.tar", kinds.substr(0, kinds.size() / 2)},
      {"truncated.tar.gz", gzip(kinds).substr(0, 200)},
      {"whiteouts.tar.gz", gzip(whiteouts)},
      {"names.tar.zst", zstd(names)},
      {"big-entry.tar.gz", gzip(LayerBuilder().file("zeros", std::string(1 << 20, '\0')).tar())},
      {"sparse-pax.tar", sparse_pax(1 << 20, {{0, 600}, {70000, 100}, {1 << 20, 0}})},
      {"sparse-gnu.tar", coroner::testing::old_gnu_sparse_tar(
                             "sparse", 1 << 20, {{0, 512}, {4096, 512}, {1 << 20, 0}})},
      {"sparse-overlap.tar",
       coroner::testing::old_gnu_sparse_tar("sparse", 8192, {{0, 1024}, {512, 512}})},
      {"sparse-past-end.tar",
       coroner::testing::old_gnu_sparse_tar("sparse", 1024, {{0, 512}, {4096, 512}})},
      {"sparse-no-valid.tar", coroner::testing::old_gnu_sparse_tar("sparse", 1024, {{4096, 512}})},
  };
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir + "/" + name, std::ios::binary);
    out << bytes;
    if (!out.flush()) {
      std::fprintf(stderr, "tar_seeds: cannot write %s/%s\n", dir.c_str(), name.c_str());
      return 1;
    }
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}
