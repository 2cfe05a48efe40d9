// find(1)-style tests over one file's metadata, and the parsers of their arguments: -size with
// find's rounding up to the unit, -perm MODE / -MODE / /MODE in octal, ISO 8601 dates, shell
// globs (fnmatch(3)) for -name and -path. Pure functions over plain values, so find.cc only walks
// the tree and the CLI only converts strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scan/layer_index.h"

namespace coroner::explore {

// -size [+-]N[bcwkMG]: the file size is rounded up to whole units before comparing, so
// "-size -1M" matches only empty files, as in GNU find.
struct SizeTest {
  enum class Cmp : uint8_t { kLess, kEqual, kGreater };
  Cmp cmp = Cmp::kEqual;
  uint64_t n = 0;
  uint64_t unit = 512;  // no suffix: 512-byte blocks
  bool matches(uint64_t size) const;
};
// Error on a malformed argument ("-size: 12q: unknown unit 'q'").
SizeTest parse_size_test(std::string_view arg);

// -perm MODE (exactly these bits), -perm -MODE (all of them), -perm /MODE (any of them; /0
// matches everything, as GNU find does).
struct PermTest {
  enum class Kind : uint8_t { kExact, kAll, kAny };
  Kind kind = Kind::kExact;
  uint32_t bits = 0;
  bool matches(uint32_t mode) const;
};
PermTest parse_perm_test(std::string_view arg);

// "2024-01-31", "2024-01-31T12:00", "2024-01-31T12:00:05Z", "2024-01-31 12:00:05" (UTC; a
// trailing "Z" or "+00:00" accepted): seconds since the epoch.
int64_t parse_utc_date(std::string_view arg);

// fnmatch(3) without flags: "*" also matches a leading dot and, in -path, a slash, as in find.
bool glob_match(std::string_view pattern, std::string_view text);

// What find tests: one merged file. `path` is absolute ("/etc/passwd"; "/" for the root).
struct FileView {
  std::string_view path;
  scan::FileType type = scan::FileType::kRegular;
  uint32_t mode = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t size = 0;
  int64_t mtime = 0;
  uint32_t layer = 0;
};

// The AND of every test that is set.
struct FindFilter {
  std::vector<std::string> names;  // -name, on the basename
  std::vector<std::string> paths;  // -path, on the absolute path
  std::optional<scan::FileType> type;
  std::vector<PermTest> perms;
  std::optional<uint32_t> uid, gid;
  bool nouser = false, nogroup = false;  // evaluated by the caller (needs the image's accounts)
  std::vector<SizeTest> sizes;
  std::optional<int64_t> newer_than;  // mtime strictly after
  std::optional<uint32_t> layer;      // resolved layer index (negative counts already applied)

  bool matches(const FileView& f) const;
};

}  // namespace coroner::explore
