// A read-only reader of the Berkeley DB hash access method, as rpm's BerkeleyDB rpmdb
// (/var/lib/rpm/Packages of CentOS/RHEL 7 and 8, Amazon Linux 2) stores it: the metadata page,
// the bucket pages (and their chains) found through the spares table, key/data pairs on the page
// (H_KEYDATA) or in chains of overflow pages (H_OFFPAGE). The subset rpm's own lib/backend/bdb_ro.c
// reads: hash versions 8-10, either byte order, page sizes 512..65536, no encryption or checksums.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "pkg/rpm.h"

namespace coroner::pkg {

struct BdbRecord {
  std::vector<std::byte> key;
  std::vector<std::byte> value;
};

struct BdbHash {
  bool little_endian = true;  // the byte order of the metadata (and of rpm's integer keys)
  uint32_t page_size = 0;
  std::vector<BdbRecord> records;  // in bucket order, as a cursor walks them
};

// Every key/data pair of a hash database file image. Each page is read at most once (a page
// reached twice, through a bucket chain or an overflow chain, is an error: a cycle or a shared
// chain), so the records never hold more bytes than the image. Throws
// Error("BerkeleyDB hash: <where>: <detail>") on anything out of bounds or inconsistent.
BdbHash read_bdb_hash(std::span<const std::byte> db);

// rpm's Packages database in BerkeleyDB format: read_bdb_hash, then each value (keyed by the
// header number, 4 bytes in the database's byte order; number 0 is rpm's instance counter and
// is skipped) parsed as an rpm header. Throws Error("rpmdb Packages (BerkeleyDB): <where>:
// <detail>") when the database cannot be read; a header that does not parse is skipped and named
// in `notes`.
std::vector<RpmPackage> read_rpmdb_bdb(std::span<const std::byte> db,
                                       std::vector<std::string>& notes);

}  // namespace coroner::pkg
