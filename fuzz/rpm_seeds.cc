// Writes the seed corpus of fuzz_rpm_header into the folder given as argv[1]: rpm header blobs
// built with pkg/rpm_test_util.h (no binary is committed to the repository); with "--bdb" before
// the folder, that of fuzz_rpm_bdb: BerkeleyDB hash Packages images holding such headers; with
// "--ndb", that of fuzz_rpm_ndb: ndb Packages.db images. Run by ctest before the replay; for a
// libFuzzer run, generate the folder first (fuzz/corpus/rpm_header/README.md,
// fuzz/corpus/rpm_bdb/README.md, fuzz/corpus/rpm_ndb/README.md).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "pkg/rpm_test_util.h"

using coroner::pkg::testing::bdb_hash;
using coroner::pkg::testing::bdb_packages;
using coroner::pkg::testing::hello_header;
using coroner::pkg::testing::ndb_packages;
using coroner::pkg::testing::RpmHeaderBuilder;

int main(int argc, char** argv) {
  bool bdb = argc == 3 && std::string(argv[1]) == "--bdb";
  bool ndb = argc == 3 && std::string(argv[1]) == "--ndb";
  if (argc != 2 && !bdb && !ndb) {
    std::fprintf(stderr, "usage: rpm_seeds [--bdb | --ndb] DIR\n");
    return 2;
  }
  std::string dir = argv[argc - 1];
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);  // the parent (<build>/fuzz-seeds) too
  std::string hello =
      hello_header("5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  std::vector<std::pair<std::string, std::string>> seeds = {
      // A package with files, digests, modes, a symlink and a %config file.
      {"hello", hello},
      // The same with the 8-byte header magic a .rpm file carries before it.
      {"hello_magic", std::string("\x8e\xad\xe8\x01\0\0\0\0", 8) + hello},
      // rpm < 4.0 file names (OLDFILENAMES) instead of BASENAMES/DIRNAMES/DIRINDEXES.
      {"oldfilenames", RpmHeaderBuilder()
                           .str(1000, "old")
                           .strs(1027, {"/bin/a", "/bin/b"})
                           .i32(1028, {1, 2})
                           .build()},
      // A gpg-pubkey pseudo-package: no files, a SUMMARY of type I18NSTRING (below).
      {"pubkey", RpmHeaderBuilder()
                     .str(1000, "gpg-pubkey")
                     .str(1001, "a15b79cc")
                     .str(1002, "63d04c2c")
                     .str(1004, "gpg(Fedora)")
                     .build()},
  };
  // The fourth index entry's type (big-endian, bytes 4..7 of the entry after the 8-byte
  // preamble) becomes RPM_I18NSTRING_TYPE (9), as rpm writes SUMMARY.
  seeds.back().second[8 + 16 * 3 + 7] = 9;
  if (bdb) {
    std::vector<std::string> headers;
    for (const auto& [name, bytes] : seeds) headers.push_back(bytes);
    seeds = {
        // Headers in overflow chains (512-byte pages), little- and big-endian.
        {"packages_512_le", bdb_packages(headers, 512, true)},
        {"packages_512_be", bdb_packages(headers, 512, false)},
        // Headers on the bucket pages themselves (4096-byte pages).
        {"packages_4096", bdb_packages(headers, 4096)},
        // Many small pairs over 4 buckets: chained bucket pages.
        {"chains",
         [] {
           std::vector<std::pair<std::string, std::string>> r;
           for (int i = 0; i < 60; ++i)
             r.emplace_back("k" + std::to_string(i), std::string(40, 'v'));
           return bdb_hash(r, 512, 4);
         }()},
    };
  }
  if (ndb) {
    std::vector<std::string> headers;
    for (const auto& [name, bytes] : seeds) headers.push_back(bytes);
    seeds = {
        // The headers in slot order, then with their blobs in reverse order.
        {"packages", ndb_packages(headers)},
        {"packages_reversed", ndb_packages(headers, 1, true)},
        // Spare slot pages.
        {"packages_3_pages", ndb_packages(headers, 3)},
        {"empty", ndb_packages({})},
    };
  }
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "rpm_seeds: cannot write %s/%s\n", dir.c_str(), name.c_str());
      return 1;
    }
  }
  return 0;
}
