// The loader's configuration files: /etc/ld.so.cache as glibc's ld.so reads it (both formats
// ldconfig has written, and the lookup ld.so does in elf/dl-cache.c), /etc/ld.so.conf with its
// `include` globs (what ldconfig would put in the cache), and musl's /etc/ld-musl-ARCH.path.
// Pure parsers: file contents and directory listings come from callbacks; the search order of
// the whole loader (RPATH, RUNPATH, default dirs) belongs to the loader simulation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::linux_ {

// Entry flags, as in glibc sysdeps/generic/ldconfig.h: the low byte is the type, the high byte
// the ABI the library was built for.
inline constexpr int32_t FLAG_TYPE_MASK = 0x00ff;
inline constexpr int32_t FLAG_ELF = 0x0001;
inline constexpr int32_t FLAG_ELF_LIBC6 = 0x0003;
inline constexpr int32_t FLAG_REQUIRED_MASK = 0xff00;
inline constexpr int32_t FLAG_SPARC_LIB64 = 0x0100;
inline constexpr int32_t FLAG_IA64_LIB64 = 0x0200;
inline constexpr int32_t FLAG_X8664_LIB64 = 0x0300;
inline constexpr int32_t FLAG_S390_LIB64 = 0x0400;
inline constexpr int32_t FLAG_POWERPC_LIB64 = 0x0500;
inline constexpr int32_t FLAG_MIPS64_LIBN32 = 0x0600;
inline constexpr int32_t FLAG_MIPS64_LIBN64 = 0x0700;
inline constexpr int32_t FLAG_X8664_LIBX32 = 0x0800;
inline constexpr int32_t FLAG_ARM_LIBHF = 0x0900;
inline constexpr int32_t FLAG_AARCH64_LIB64 = 0x0a00;
inline constexpr int32_t FLAG_ARM_LIBSF = 0x0b00;
inline constexpr int32_t FLAG_MIPS_LIB32_NAN2008 = 0x0c00;
inline constexpr int32_t FLAG_MIPS64_LIBN32_NAN2008 = 0x0d00;
inline constexpr int32_t FLAG_MIPS64_LIBN64_NAN2008 = 0x0e00;
inline constexpr int32_t FLAG_RISCV_FLOAT_ABI_SOFT = 0x0f00;
inline constexpr int32_t FLAG_RISCV_FLOAT_ABI_DOUBLE = 0x1000;
inline constexpr int32_t FLAG_LARCH_FLOAT_ABI_SOFT = 0x1100;
inline constexpr int32_t FLAG_LARCH_FLOAT_ABI_DOUBLE = 0x1200;

enum class LdCacheFormat {
  kOld,         // "ld.so-1.7.0" only (libc5, glibc < 2.2; ldconfig -c old)
  kOldWithNew,  // "ld.so-1.7.0" followed by "glibc-ld.so.cache1.1" (glibc 2.2-2.31 default)
  kNew,         // "glibc-ld.so.cache1.1" only (glibc >= 2.32 default)
};

// The endianness byte of the new header (glibc >= 2.33). ld.so ignores a cache whose byte says
// invalid or the other endianness; unset is taken as the loader's own.
enum class LdCacheEndian { kUnset = 0, kInvalid = 1, kLittle = 2, kBig = 3 };

struct LdCacheEntry {
  std::string soname;  // the key
  std::string path;    // the value
  int32_t flags = 0;
  uint32_t osversion = 0;  // new format only
  uint64_t hwcap = 0;      // new format only
  // For glibc-hwcaps entries (hwcap bit 62): the subdirectory name, e.g. "x86-64-v3".
  std::optional<std::string> hwcaps_subdir;
};

struct LdCache {
  LdCacheFormat format = LdCacheFormat::kNew;
  LdCacheEndian endian = LdCacheEndian::kUnset;
  // The table ld.so searches (the new one when both are present), in file order: ldconfig
  // sorts it descending by _dl_cache_libcmp, and ld.so binary-searches it.
  std::vector<LdCacheEntry> entries;
  std::optional<std::string> generator;  // e.g. "ldconfig (GNU libc) stable release version 2.36"
  std::vector<std::string> hwcaps_subdirs;
};

// Throws Error on anything ld.so could not use as a whole: bad magic, a count or offset outside
// the file, an unterminated string, a corrupt extension directory.
LdCache parse_ld_cache(std::span<const std::byte> data);

// True when ld.so running with `little_endian` byte order would use this cache at all.
bool ld_cache_usable(const LdCache& cache, bool little_endian);

// The loader's _DL_CACHE_DEFAULT_ID for an OCI platform ("amd64", "arm64", "arm" + variant,
// "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64"), or nullopt.
std::optional<int32_t> ld_cache_id_for_platform(std::string_view architecture,
                                                std::string_view variant = {});

// _dl_cache_check_flags of the loader whose _DL_CACHE_DEFAULT_ID is `loader_id`: x86-64,
// x32, AArch64, IA-64, s390x, SPARC64, RISC-V and LoongArch accept only their own id; 32-bit
// ARM also accepts plain libc6 (3); the generic rule (i386, PowerPC, MIPS) accepts 1 or the id.
bool ld_cache_flags_match(int32_t entry_flags, int32_t loader_id);

// What `ldconfig -p` prints in parentheses for an entry (glibc 2.36 elf/cache.c print_entry),
// e.g. "libc6,x86-64" or "libc6,x86-64, hwcap: \"x86-64-v3\"".
std::string describe_entry(const LdCacheEntry& entry);

// The entry ld.so would take for `soname`, emulating elf/dl-cache.c search_cache (glibc 2.33+):
// a binary search with _dl_cache_libcmp, then the run of equal names from its start; an entry
// whose flags the loader accepts wins, an exact id match stops the search. glibc-hwcaps entries
// and entries with legacy hwcap bits depend on the CPU and are skipped (a baseline CPU).
const LdCacheEntry* lookup_entry(const LdCache& cache, std::string_view soname, int32_t loader_id);
std::optional<std::string> lookup(const LdCache& cache, std::string_view soname,
                                  int32_t required_flags);

// glibc's _dl_cache_libcmp: runs of digits compare numerically ("libfoo.so.10" after
// "libfoo.so.9"); the sign of the result is what counts. Characters compare as signed char.
int ld_cache_libcmp(std::string_view a, std::string_view b);

// /etc/ld.so.conf as ldconfig (elf/ldconfig.c parse_conf) reads it: '#' starts a comment
// anywhere, blank lines are skipped, "include PATTERN..." globs each pattern (relative to the
// directory of the including file) and reads the matches in sorted order, "hwcap ..." is
// ignored, and every other line is one directory with trailing slashes removed ("dir=TYPE"
// keeps only dir). Duplicates are dropped, as ldconfig's add_single_dir does.
struct LdConfDir {
  std::string path;
  std::string file;  // the conf file that listed it, e.g. "/etc/ld.so.conf.d/x.conf"
  uint32_t line = 0;
};
struct LdConfNote {
  std::string file;
  uint32_t line = 0;
  std::string message;
};
struct LdConf {
  std::vector<LdConfDir> dirs;
  std::vector<LdConfNote> notes;
};
// Returns the file's content, or nullopt when it is missing or not a regular file.
using ReadFileFn = std::function<std::optional<std::string>(const std::string& path)>;
// Returns the names in a directory (no "." or ".."), or nullopt when it is not a directory.
using ListDirFn = std::function<std::optional<std::vector<std::string>>(const std::string& dir)>;

// Requires: `path` is absolute (normally "/etc/ld.so.conf").
LdConf parse_ld_so_conf(const std::string& path, const ReadFileFn& read_file,
                        const ListDirFn& list_dir);

// glob(3)-style matching of one path component: '*', '?', '[...]' (with '!' or '^'), '\'
// escapes; a leading '.' must be matched literally.
bool glob_match(std::string_view pattern, std::string_view name);

// musl's search path from /etc/ld-musl-ARCH.path (ldso/dynlink.c): the file up to its first NUL,
// split on ':' and '\n', nothing trimmed; nullopt (no file) means musl's default
// /lib:/usr/local/lib:/usr/lib, and an empty file means no directories at all.
std::vector<std::string> parse_musl_path(std::optional<std::string_view> content);

}  // namespace coroner::linux_
