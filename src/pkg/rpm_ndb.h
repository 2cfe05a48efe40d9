// rpm's ndb package database: the Packages.db of SUSE (openSUSE since 2020, SLES 15 SP3 and
// later, SUSE BCI images; /usr/lib/sysimage/rpm/Packages.db or /var/lib/rpm/Packages.db). The
// layout of rpm's lib/backend/ndb/rpmpkg.c, all little-endian:
//   - a 32-byte header: "RpmP", version 0, generation, the number of 4 KiB slot pages, the next
//     package index;
//   - the slot pages: 16-byte slots ("Slot", package index, blob offset and length in 16-byte
//     blocks; offset 0 marks a free slot), the header taking the first two;
//   - the blobs after them: a 16-byte head ("BlbS", package index, timestamp, length), the rpm
//     header blob, zero padding to a block, and a 12-byte tail (adler32 of head, blob and
//     padding; length; "BlbE").
// Index.db (rpmxdb: the name, provides... indexes) is not needed to list the packages.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "pkg/rpm.h"

namespace coroner::pkg {

// The packages of a Packages.db file image, in the order `rpm -qa` lists them (by blob offset,
// as rpmpkgList sorts the slots). Throws Error("rpmdb Packages.db (ndb): <detail>") when the
// header or the slot pages cannot be read (not an ndb file, an unknown version, slot pages past
// the end). A slot or blob that is inconsistent (a wrong magic, a blob past the end of the file
// or inside the slot pages, a length that does not fit its blocks, a package index met twice)
// and a header that does not parse are skipped and named in `notes`; a blob whose adler32 does
// not match is read all the same, as rpm reads it (rpmpkgGet does not check it), and noted.
// Every blob is a view into `db`: no more is held than the parsed packages.
std::vector<RpmPackage> read_rpmdb_ndb(std::span<const std::byte> db,
                                       std::vector<std::string>& notes);

}  // namespace coroner::pkg
