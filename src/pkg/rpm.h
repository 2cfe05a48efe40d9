// rpm's package database: the sqlite rpmdb of current Fedora/RHEL (/var/lib/rpm/rpmdb.sqlite,
// /usr/lib/sysimage/rpm/rpmdb.sqlite), whose Packages table holds one rpm header blob per
// installed package. The header (an index of 16-byte entries, then the data store, all
// big-endian) is parsed by hand, bounds-checked: NAME, VERSION, RELEASE, EPOCH, ARCH, SOURCERPM,
// SIZE, LICENSE and the file list with digests, modes, sizes, mtimes, link targets, flags,
// states, owners, devices and capabilities. The BerkeleyDB "Packages" of older releases is read
// by rpm_bdb.h, SUSE's ndb "Packages.db" by rpm_ndb.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::pkg {

// RPMFILE_* of rpmfiles.h (FILEFLAGS).
inline constexpr uint32_t kRpmFileConfig = 1u << 0;
inline constexpr uint32_t kRpmFileDoc = 1u << 1;
inline constexpr uint32_t kRpmFileMissingOk = 1u << 3;
inline constexpr uint32_t kRpmFileNoReplace = 1u << 4;
inline constexpr uint32_t kRpmFileSpecfile = 1u << 5;
inline constexpr uint32_t kRpmFileGhost = 1u << 6;
inline constexpr uint32_t kRpmFileLicense = 1u << 7;
inline constexpr uint32_t kRpmFileReadme = 1u << 8;
inline constexpr uint32_t kRpmFileArtifact = 1u << 12;  // /usr/lib/.build-id links

// RPMFILE_STATE_* (FILESTATES).
enum class RpmFileState : int8_t {
  kNormal = 0,
  kReplaced = 1,
  kNotInstalled = 2,
  kNetShared = 3,
  kWrongColor = 4,
};

struct RpmFile {
  std::string path;               // DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]
  std::string digest;             // lowercase hex (FILEDIGESTS); empty for non-regular files
  uint32_t mode = 0;              // st_mode with the type bits (FILEMODES)
  uint64_t size = 0;              // FILESIZES or LONGFILESIZES
  uint32_t flags = 0;             // FILEFLAGS (kRpmFile*)
  std::optional<uint32_t> mtime;  // FILEMTIMES
  std::string linkto;             // FILELINKTOS: symlink target, else empty
  RpmFileState state = RpmFileState::kNormal;
  std::optional<std::string> user, group;  // FILEUSERNAME, FILEGROUPNAME (absent: not recorded)
  uint16_t rdev = 0;                       // FILERDEVS: (major & 0xff) << 8 | (minor & 0xff)
  std::string caps;                        // FILECAPS: "cap_net_bind_service=ep", or empty
};

struct RpmPackage {
  std::string name, version, release;
  std::optional<uint32_t> epoch;
  std::string arch;       // empty for gpg-pubkey pseudo-packages
  std::string sourcerpm;  // "bash-5.2.15-5.fc39.src.rpm"
  std::string license;
  std::optional<uint64_t> size;  // installed bytes (LONGSIZE or SIZE)
  uint32_t digest_algo = 1;      // FILEDIGESTALGO (PGPHASHALGO_*: 1 md5, 2 sha1, 8 sha256...)
  std::vector<RpmFile> files;

  // "[epoch:]version-release", the form dnf and purls use.
  std::string evr() const;
  // The source package name and version-release from sourcerpm ("bash", "5.2.15-5.fc39").
  std::pair<std::string, std::string> source() const;
};

// One header blob as the rpmdb stores it (headerExport: il, dl, il index entries, dl data
// bytes, no lead or magic; a blob with the 8-byte header magic in front is accepted too).
// Throws Error("rpm header: ...") on anything out of bounds or inconsistent.
RpmPackage parse_rpm_header(std::span<const std::byte> blob);

// The packages of an rpmdb.sqlite file image, opened in memory (sqlite3_deserialize, read-only,
// no temp file; a WAL-mode header is read as rollback journal: the -wal file is not merged).
// Throws Error("rpmdb.sqlite: ...") when it is no sqlite database or has no Packages table;
// a header that does not parse is skipped and named in `notes`.
std::vector<RpmPackage> read_rpmdb_sqlite(std::span<const std::byte> db,
                                          std::vector<std::string>& notes);

}  // namespace coroner::pkg
