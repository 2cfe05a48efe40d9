// Writes the seed corpus of fuzz_tar into the folder given as argv[1]: small layers built with
// LayerBuilder (no archive is committed to the repository). Run by ctest before the replay.
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "testing/layer_builder.h"

using coroner::testing::gzip;
using coroner::testing::LayerBuilder;
using coroner::testing::zstd;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tar_seeds DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  ::mkdir(dir.c_str(), 0755);
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
  };
  for (const auto& [name, bytes] : seeds) {
    std::ofstream(dir + "/" + name, std::ios::binary) << bytes;
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}
