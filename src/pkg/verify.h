// Package inventory and verification over a merged image: reads the dpkg, apk and rpm databases
// that the scan captured (capture_package_db), lists the installed packages with the layer that
// installed each, and compares each package's files with the Tree the way `dpkg --verify` does
// (existence by lstat, 'M' when a digest-listed path is not a regular file, '5' when the
// content digest differs), and rpm's the way `rpm -V` does (size, mode, digest, device, link
// target, owner and group by name, mtime, capabilities). Content digests need the bytes: the caller
// passes a LayerReader (explore::read_entries in the CLI) and each layer is streamed once. No
// printing.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/stream.h"
#include "fs/tree.h"
#include "scan/layer_index.h"

namespace coroner::pkg {

// The files the scan must keep whole for this module: the dpkg status (and status.d/), the
// info/*.list, *.md5sums and *.conffiles files, the diversions, the apk database, the sqlite
// rpmdb (sqlite or BerkeleyDB), os-release, /etc/passwd and /etc/group (rpm -V's owner names).
bool capture_package_db(std::string_view path, uint64_t size);

enum class Manager : uint8_t { kDpkg, kApk, kRpm };

struct InstalledPackage {
  Manager manager = Manager::kDpkg;
  std::string name;
  std::string version;
  std::string arch;
  std::string source;  // dpkg Source:, apk origin
  std::string source_version;
  std::optional<uint64_t> installed_size;  // bytes (dpkg's KiB * 1024)
  std::string
      status;      // dpkg: the state word ("installed", "half-installed", ...); apk: "installed"
  bool ok = true;  // dpkg: "install ok installed" (or hold ok installed)
  std::optional<uint32_t> layer;  // the layer that installed the present version
  std::string license;            // apk L:
};

struct OsRelease {
  std::string id;          // "debian", "alpine"
  std::string version_id;  // "12", "3.19.1"
  std::string pretty_name;
};

struct Inventory {
  OsRelease os;
  std::vector<InstalledPackage> packages;  // sorted by (manager, name, arch)
  std::vector<std::string> notes;          // databases that could not be read, and why
};

// Paths owned by some installed package, as the databases list them (dpkg .list, apk R/F
// lines, rpm file lists; after dpkg diversions), for "not owned by any package" checks.
// Requires: as inventory().
std::vector<std::string> owned_paths(const fs::Tree& tree,
                                     std::span<const scan::LayerIndex> layers);

// Requires: `layers` are the LayerIndexes `tree` was built from, scanned with
// capture_package_db (or a superset of it).
Inventory inventory(const fs::Tree& tree, std::span<const scan::LayerIndex> layers);

// Parses os-release(5) text (KEY=value, optionally quoted).
OsRelease parse_os_release(std::string_view text);

// Streams the content of `entries` (regular files of layer `layer`), calling `fn` once per
// entry with a stream of exactly entry.size bytes. explore::read_entries has this shape.
using EntryContentFn = std::function<void(const scan::Entry&, ByteStream&)>;
using LayerReader =
    std::function<void(uint32_t layer, std::span<const scan::Entry* const>, const EntryContentFn&)>;

enum class Check : uint8_t { kNone, kPass, kFail };  // dpkg: '?', '.', the letter

// The error of lstat(2) on a missing path.
enum class Missing : uint8_t { kPresent, kNoEnt, kNotDir, kLoop };

struct VerifyFinding {
  Manager manager = Manager::kDpkg;
  std::string package;
  std::string path;  // as the package lists it (after a diversion: where the file is)
  Missing missing = Missing::kPresent;
  Check mode = Check::kNone;  // kFail: the path is not a regular file (a symlink, a device...)
  Check digest = Check::kNone;
  bool conffile = false;
  std::optional<uint32_t> layer;  // the layer that last wrote or deleted the path
  // rpm only (rpm -V's letters; dpkg leaves them kNone): S, D, L, U, G, T, P, and FILEFLAGS for
  // the marker.
  Check size = Check::kNone;
  Check rdev = Check::kNone;
  Check link = Check::kNone;
  Check user = Check::kNone;
  Check group = Check::kNone;
  Check mtime = Check::kNone;
  Check caps = Check::kNone;
  uint32_t rpm_flags = 0;
  // dpkg: the path matches a path-exclude filter of /etc/dpkg/dpkg.cfg{,.d/*} that no later
  // path-include undoes: dpkg did not unpack it on purpose (slim images drop docs this way).
  // dpkg --verify still prints it; the audit does not report it.
  bool path_excluded = false;

  // package-file-missing, config-missing or package-file-modified (rules.h ids).
  std::string_view rule() const;
  // The line `dpkg --verify` prints: "??5?????? c /etc/x", "missing     /usr/bin/x",
  // "missing     /a/b (Not a directory)".
  std::string dpkg_line() const;
  // The line `rpm -V` prints: "S.5....T.  c /etc/x", ".....UG..    /x", "missing     /x".
  std::string rpm_line() const;
  // dpkg_line() or rpm_line() by manager (apk findings use dpkg's format).
  std::string line() const { return manager == Manager::kRpm ? rpm_line() : dpkg_line(); }
};

struct VerifyReport {
  std::vector<VerifyFinding> findings;  // by (manager, package, list order)
  OsRelease os;  // the image's os-release (the audit names the package tool of the distribution)
  uint64_t paths_checked = 0;
  uint64_t files_hashed = 0;
  uint64_t bytes_hashed = 0;
  uint64_t files_known = 0;  // digests the KnownDigest gave (not read again)
  std::vector<std::string> notes;
  // Package databases present but not read, each "PATH: why" ("/var/lib/rpm/Packages.db:
  // rpmdb Packages.db (ndb): version 7, only version 0 is known"); also in notes.
  std::vector<std::string> unread_databases;
  // Every path the packages list, sorted, once each: what owned_paths() gives, so that the
  // audit need not read the package databases a second time.
  std::vector<std::string> owned_paths;
};

// Digests computed in the scan's own pass (the audit hashes every file as it streams): the
// lowercase hex digest of `entry` with `hex_len` digits, or nullopt when it was not computed.
using KnownDigest = std::function<std::optional<std::string>(const scan::Entry&, size_t hex_len)>;

// Verifies every dpkg package that is not "not-installed", every apk and rpm package. Requires: as
// inventory(); `read` reads content of the same layers. `known`, when set, is asked first: the
// entries it answers for are not read again.
VerifyReport verify(const fs::Tree& tree, std::span<const scan::LayerIndex> layers,
                    const LayerReader& read, const KnownDigest& known = {});

}  // namespace coroner::pkg
