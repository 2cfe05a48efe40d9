#include "linux/ld_cache.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>

#include "base/bytes.h"
#include "base/error.h"
#include "base/text.h"

namespace coroner::linux_ {
namespace {

// Layouts from glibc sysdeps/generic/dl-cache.h.
constexpr std::string_view kMagicOld = "ld.so-1.7.0";           // struct cache_file.magic
constexpr std::string_view kMagicNew = "glibc-ld.so.cache1.1";  // magic + version
constexpr uint64_t kOldHeaderSize = 16;  // char magic[11], padding, uint32 nlibs
constexpr uint64_t kOldEntrySize = 12;   // int32 flags; uint32 key, value
constexpr uint64_t kNewHeaderSize = 48;  // see read_new()
constexpr uint64_t kNewEntrySize = 24;   // flags, key, value, osversion, uint64 hwcap
constexpr uint64_t kNewAlign = 8;        // __alignof__ (struct cache_file_new), for ALIGN_CACHE
constexpr uint32_t kExtensionMagic = 0xeaa42174;  // cache_extension_magic = (uint32_t) -358342284
constexpr uint32_t kTagGenerator = 0;             // cache_extension_tag_generator
constexpr uint32_t kTagGlibcHwcaps = 1;           // cache_extension_tag_glibc_hwcaps
constexpr uint64_t kHwcapExtension = uint64_t{1} << 62;  // DL_CACHE_HWCAP_EXTENSION
constexpr uint64_t kHwcapIsaLevelMask = (1u << 10) - 1;  // DL_CACHE_HWCAP_ISA_LEVEL_MASK
constexpr uint64_t kHwcapTlsMask = uint64_t{1} << 63;    // _DL_HWCAP_TLS_MASK
constexpr int kMaxConfDepth = 16;
// Include graphs can be wide as well as deep (N files that each include the same N files):
// stop after this many conf files in total.
constexpr size_t kMaxConfFiles = 256;

bool has_prefix(std::span<const std::byte> data, uint64_t off, std::string_view magic) {
  return off <= data.size() && data.size() - off >= magic.size() &&
         as_chars(data.subspan(off, magic.size())) == magic;
}

// dl_cache_hwcap_extension(): only bit 62 set in the upper half, ignoring the ISA level bits.
bool is_hwcap_extension(uint64_t hwcap) {
  return ((hwcap >> 32) & ~kHwcapIsaLevelMask) == (kHwcapExtension >> 32);
}

// Strings live in [base, end of file): ld.so's cache_data and cache_data_size.
std::string string_at(const ByteReader& r, uint64_t base, uint32_t off, const char* what) {
  return with_context(what, [&] { return std::string(r.cstr_at(checked_add(base, off))); });
}

// The extension directory (glibc >= 2.33, cache_extension_load in dl-cache.h): offsets are
// from the start of the file; hwcaps names are string offsets like keys.
void read_extensions(const ByteReader& r, uint64_t base, uint32_t ext_off, LdCache& out) {
  if (ext_off == 0) return;
  if (ext_off % 4 != 0)
    throw Error("extension directory at misaligned offset " + std::to_string(ext_off));
  if (r.peek_at<uint32_t>(ext_off) != kExtensionMagic) {
    throw Error("bad extension magic at offset " + std::to_string(ext_off));
  }
  uint32_t count = r.peek_at<uint32_t>(checked_add(ext_off, 4));
  uint64_t sections = checked_add(ext_off, 8);
  r.sub(sections, checked_mul(count, 16));  // the whole array must fit before it is walked
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t s = sections + uint64_t{i} * 16;
    uint32_t tag = r.peek_at<uint32_t>(s);
    uint32_t off = r.peek_at<uint32_t>(s + 8);
    uint32_t size = r.peek_at<uint32_t>(s + 12);
    std::span<const std::byte> body =
        with_context("extension section " + std::to_string(i), [&] { return r.sub(off, size); });
    if (tag == kTagGenerator) out.generator = std::string(as_chars(body));
    if (tag != kTagGlibcHwcaps) continue;
    if (size % 4 != 0) throw Error("glibc-hwcaps section size " + std::to_string(size));
    ByteReader names(body, r.little_endian());
    for (uint32_t k = 0; k < size / 4; ++k) {
      out.hwcaps_subdirs.push_back(
          string_at(r, base, names.read<uint32_t>(), "glibc-hwcaps subdirectory name"));
    }
  }
}

// struct cache_file_new: char magic[17], version[3]; uint32 nlibs, len_strings; uint8 flags;
// uint8 padding[3]; uint32 extension_offset; uint32 unused[3]; then nlibs file_entry_new.
void read_new(std::span<const std::byte> data, uint64_t base, LdCache& out) {
  ByteReader r(data);
  uint8_t endian = r.peek_at<uint8_t>(checked_add(base, 28)) & 3;
  out.endian = static_cast<LdCacheEndian>(endian);
  r.set_little_endian(out.endian != LdCacheEndian::kBig);
  uint32_t nlibs = r.peek_at<uint32_t>(base + 20);
  uint64_t table = base + kNewHeaderSize;
  if (nlibs > (data.size() - table) / kNewEntrySize) {
    throw Error("nlibs " + std::to_string(nlibs) + " entries of 24 bytes exceed the file size " +
                std::to_string(data.size()));
  }
  read_extensions(r, base, r.peek_at<uint32_t>(base + 32), out);
  out.entries.reserve(nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    with_context("entry " + std::to_string(i), [&] {
      uint64_t e = table + uint64_t{i} * kNewEntrySize;
      LdCacheEntry entry;
      entry.flags = r.peek_at<int32_t>(e);
      entry.soname = string_at(r, base, r.peek_at<uint32_t>(e + 4), "key");
      entry.path = string_at(r, base, r.peek_at<uint32_t>(e + 8), "value");
      entry.osversion = r.peek_at<uint32_t>(e + 12);
      entry.hwcap = r.peek_at<uint64_t>(e + 16);
      uint32_t index = static_cast<uint32_t>(entry.hwcap);
      if (is_hwcap_extension(entry.hwcap) && index < out.hwcaps_subdirs.size()) {
        entry.hwcaps_subdir = out.hwcaps_subdirs[index];
      }
      out.entries.push_back(std::move(entry));
    });
  }
}

// struct cache_file: char magic[11]; uint32 nlibs; then nlibs file_entry, then the strings,
// whose offsets start at &libs[nlibs].
void read_old(std::span<const std::byte> data, LdCache& out) {
  ByteReader r(data);
  uint32_t nlibs = r.peek_at<uint32_t>(12);
  uint64_t strings = kOldHeaderSize + uint64_t{nlibs} * kOldEntrySize;
  out.entries.reserve(nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    with_context("entry " + std::to_string(i), [&] {
      uint64_t e = kOldHeaderSize + uint64_t{i} * kOldEntrySize;
      LdCacheEntry entry;
      entry.flags = r.peek_at<int32_t>(e);
      entry.soname = string_at(r, strings, r.peek_at<uint32_t>(e + 4), "key");
      entry.path = string_at(r, strings, r.peek_at<uint32_t>(e + 8), "value");
      out.entries.push_back(std::move(entry));
    });
  }
}

LdCache parse_any(std::span<const std::byte> data) {
  LdCache out;
  // The checks of _dl_load_cache_lookup: "cachesize > sizeof *cache" and the nlibs bound.
  if (has_prefix(data, 0, kMagicOld)) {
    if (data.size() <= kOldHeaderSize) throw Error("truncated header");
    uint32_t nlibs = ByteReader(data).peek_at<uint32_t>(12);
    if ((data.size() - kOldHeaderSize) / kOldEntrySize < nlibs) {
      throw Error("nlibs " + std::to_string(nlibs) + " entries of 12 bytes exceed the file size " +
                  std::to_string(data.size()));
    }
    uint64_t base = kOldHeaderSize + uint64_t{nlibs} * kOldEntrySize;
    base = (base + kNewAlign - 1) & ~(kNewAlign - 1);
    if (data.size() >= base + kNewHeaderSize && has_prefix(data, base, kMagicNew)) {
      out.format = LdCacheFormat::kOldWithNew;
      read_new(data, base, out);
      return out;
    }
    out.format = LdCacheFormat::kOld;
    read_old(data, out);
    return out;
  }
  if (has_prefix(data, 0, kMagicNew)) {
    if (data.size() <= kNewHeaderSize) throw Error("truncated header");
    out.format = LdCacheFormat::kNew;
    read_new(data, 0, out);
    return out;
  }
  throw Error("no ld.so-1.7.0 or glibc-ld.so.cache1.1 magic");
}

// One conf file; `depth` guards include loops (ldconfig itself recurses without limit).
struct ConfParser {
  const ReadFileFn& read_file;
  const ListDirFn& list_dir;
  LdConf out;
  std::set<std::string> seen;
  std::vector<std::string> stack;  // the files being parsed, outermost first
  std::set<std::string> parsed;    // every file read so far
  size_t files = 0;
  std::set<std::string> noted;  // de-duplicates notes (an include graph repeats itself)

  void note(const std::string& file, uint32_t line, std::string message) {
    if (noted.insert(file + ":" + std::to_string(line) + ":" + message).second) {
      out.notes.push_back({file, line, std::move(message)});
    }
  }

  void parse(const std::string& path, int depth);
  void include(const std::string& from, uint32_t line, std::string pattern, int depth);
  void add_dir(std::string_view text, const std::string& file, uint32_t line);
  void expand(const std::vector<std::string>& parts, size_t i, const std::string& prefix,
              std::vector<std::string>& matches);
};

void ConfParser::parse(const std::string& path, int depth) {
  std::optional<std::string> text = read_file(path);
  if (!text) return;  // parse_conf ignores a file it cannot open (ENOENT silently)
  stack.push_back(path);
  parsed.insert(path);
  ++files;
  uint32_t number = 0;
  for (std::string_view line : split(*text, '\n')) {
    ++number;
    line = line.substr(0, line.find('#'));
    line = trim(line);
    if (line.empty()) continue;
    auto blank = [&](size_t i) { return line.size() > i && (line[i] == ' ' || line[i] == '\t'); };
    if (line.substr(0, 7) == "include" && blank(7)) {
      for (std::string_view p : split(line.substr(8), ' ')) {
        for (std::string_view q : split(p, '\t')) {
          if (!q.empty()) include(path, number, std::string(q), depth);
        }
      }
      continue;
    }
    std::string lower(line.substr(0, 5));
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](char c) { return static_cast<char>(c | 0x20); });
    if (lower == "hwcap" && blank(5)) {
      note(path, number, "hwcap directive ignored");
      continue;
    }
    add_dir(line, path, number);
  }
  stack.pop_back();
}

void ConfParser::add_dir(std::string_view text, const std::string& file, uint32_t line) {
  // add_dir_1: "dir=TYPE" is an old syntax; the type is dropped, the dir kept.
  std::string dir(text.substr(0, text.find('=')));
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  if (dir.empty()) return;
  if (dir.front() != '/') {
    note(file, line, "relative path '" + escape(dir) + "' used to build cache");
  }
  if (!seen.insert(dir).second) {
    note(file, line, "path '" + escape(dir) + "' given more than once");
    return;
  }
  out.dirs.push_back({dir, file, line});
}

void ConfParser::include(const std::string& from, uint32_t line, std::string pattern, int depth) {
  if (depth >= kMaxConfDepth) {
    note(from, line,
         "include nested more than " + std::to_string(kMaxConfDepth) + " deep: not followed");
    return;
  }
  // parse_conf_include: a relative pattern is relative to the including file's directory.
  if (pattern.front() != '/' && from.find('/') != std::string::npos) {
    std::string dir = from.substr(0, from.rfind('/'));
    pattern = (dir.empty() ? std::string() : dir) + "/" + pattern;
  }
  std::vector<std::string> parts;
  for (std::string_view p : split(pattern, '/')) {
    if (!p.empty()) parts.emplace_back(p);
  }
  std::vector<std::string> matches;
  expand(parts, 0, pattern.front() == '/' ? "" : ".", matches);
  for (const std::string& m : matches) {
    // ldconfig recurses until it runs out of file descriptors; we name the loop instead.
    if (std::find(stack.begin(), stack.end(), m) != stack.end()) {
      note(from, line, "include loop: " + escape(m) + " includes itself");
      continue;
    }
    // ldconfig would read it again, but that only repeats directories it already has (first
    // occurrences keep their order), so each file is read once: linear, not exponential.
    if (parsed.count(m)) continue;
    if (files >= kMaxConfFiles) {
      note(from, line,
           "more than " + std::to_string(kMaxConfFiles) +
               " configuration files: the rest is not read");
      return;
    }
    parse(m, depth + 1);
  }
}

bool has_magic(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) ++i;
    out += s[i];
  }
  return out;
}

// glob(3) with flags 0: each magic component is matched against a sorted directory listing
// (C locale: byte order); literal components are taken as they are and the final files are
// checked by reading them.
void ConfParser::expand(const std::vector<std::string>& parts, size_t i, const std::string& prefix,
                        std::vector<std::string>& matches) {
  if (i == parts.size()) {
    matches.push_back(prefix.empty() ? "/" : prefix);
    return;
  }
  if (!has_magic(parts[i])) {
    expand(parts, i + 1, prefix + "/" + unescape(parts[i]), matches);
    return;
  }
  std::optional<std::vector<std::string>> names = list_dir(prefix.empty() ? "/" : prefix);
  if (!names) return;
  std::sort(names->begin(), names->end());
  for (const std::string& n : *names) {
    if (n == "." || n == ".." || !glob_match(parts[i], n)) continue;
    expand(parts, i + 1, prefix + "/" + n, matches);
  }
}

// Matches one bracket expression at p[0] == '['; returns the length consumed, or 0 if the
// bracket is not closed (then '[' is literal).
size_t match_bracket(std::string_view p, char c, bool& matched) {
  size_t i = 1;
  bool negate = i < p.size() && (p[i] == '!' || p[i] == '^');
  if (negate) ++i;
  bool hit = false;
  bool first = true;
  while (i < p.size() && (first || p[i] != ']')) {
    first = false;
    char lo = p[i];
    if (lo == '\\' && i + 1 < p.size()) lo = p[++i];
    char hi = lo;
    if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
      hi = p[i + 2];
      if (hi == '\\' && i + 3 < p.size()) hi = p[++i + 2];
      i += 2;
    }
    auto u = [](char x) { return static_cast<unsigned char>(x); };
    if (u(lo) <= u(c) && u(c) <= u(hi)) hit = true;
    ++i;
  }
  if (i >= p.size()) return 0;
  matched = hit != negate;
  return i + 1;
}

// Iterative matcher that backtracks only to the last '*' (O(pattern * name), no exponential
// blow-up on hostile patterns such as "*a*a*a*a*b").
bool glob_match_at(std::string_view p, std::string_view n) {
  size_t pi = 0, ni = 0, star_p = std::string_view::npos, star_n = 0;
  while (ni < n.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star_p = ++pi;
      star_n = ni;
      continue;
    }
    if (pi < p.size()) {
      bool ok = false;
      size_t len = 0;
      if (p[pi] == '?') {
        ok = true;
        len = 1;
      } else if (p[pi] == '[' && (len = match_bracket(p.substr(pi), n[ni], ok)) != 0) {
      } else {
        size_t q = p[pi] == '\\' && pi + 1 < p.size() ? pi + 1 : pi;
        ok = p[q] == n[ni];
        len = q - pi + 1;
      }
      if (ok) {
        pi += len;
        ++ni;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p;
    ni = ++star_n;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace

LdCache parse_ld_cache(std::span<const std::byte> data) {
  return with_context("ld.so.cache", [&] { return parse_any(data); });
}

bool ld_cache_usable(const LdCache& cache, bool little_endian) {
  switch (cache.endian) {
    case LdCacheEndian::kUnset:
      return true;
    case LdCacheEndian::kInvalid:
      return false;
    case LdCacheEndian::kLittle:
      return little_endian;
    case LdCacheEndian::kBig:
      return !little_endian;
  }
  return false;
}

std::optional<int32_t> ld_cache_id_for_platform(std::string_view architecture,
                                                std::string_view variant) {
  struct Row {
    std::string_view arch;
    int32_t id;
  };
  // _DL_CACHE_DEFAULT_ID of each sysdeps/unix/sysv/linux/<arch>/dl-cache.h.
  static constexpr Row kRows[] = {
      {"amd64", FLAG_X8664_LIB64 | FLAG_ELF_LIBC6},
      {"arm64", FLAG_AARCH64_LIB64 | FLAG_ELF_LIBC6},
      {"386", FLAG_ELF_LIBC6},
      {"ppc64le", FLAG_POWERPC_LIB64 | FLAG_ELF_LIBC6},
      {"ppc64", FLAG_POWERPC_LIB64 | FLAG_ELF_LIBC6},
      {"s390x", FLAG_S390_LIB64 | FLAG_ELF_LIBC6},
      {"riscv64", FLAG_RISCV_FLOAT_ABI_DOUBLE | FLAG_ELF_LIBC6},
      {"mips64le", FLAG_MIPS64_LIBN64 | FLAG_ELF_LIBC6},
      {"mips64", FLAG_MIPS64_LIBN64 | FLAG_ELF_LIBC6},
      {"loong64", FLAG_LARCH_FLOAT_ABI_DOUBLE | FLAG_ELF_LIBC6},
  };
  // Debian's armel (arm/v5) is soft-float; armhf (v6, v7, and no variant) is hard-float.
  if (architecture == "arm") {
    return (variant == "v5" ? FLAG_ARM_LIBSF : FLAG_ARM_LIBHF) | FLAG_ELF_LIBC6;
  }
  for (const Row& row : kRows) {
    if (row.arch == architecture) return row.id;
  }
  return std::nullopt;
}

bool ld_cache_flags_match(int32_t entry_flags, int32_t loader_id) {
  switch (loader_id & FLAG_REQUIRED_MASK) {
    case FLAG_X8664_LIB64:
    case FLAG_X8664_LIBX32:
    case FLAG_AARCH64_LIB64:
    case FLAG_IA64_LIB64:
    case FLAG_S390_LIB64:
    case FLAG_SPARC_LIB64:
    case FLAG_RISCV_FLOAT_ABI_SOFT:
    case FLAG_RISCV_FLOAT_ABI_DOUBLE:
    case FLAG_LARCH_FLOAT_ABI_SOFT:
    case FLAG_LARCH_FLOAT_ABI_DOUBLE:
      return entry_flags == loader_id;
    case FLAG_ARM_LIBHF:
    case FLAG_ARM_LIBSF:
      // "we must treat unmarked objects as compatible with either FLAG_ARM_LIBHF or
      // FLAG_ARM_LIBSF" (sysdeps/unix/sysv/linux/arm/dl-cache.h).
      return entry_flags == loader_id || entry_flags == FLAG_ELF_LIBC6;
    default:
      return entry_flags == FLAG_ELF || entry_flags == loader_id;
  }
}

std::string describe_entry(const LdCacheEntry& entry) {
  std::string out;
  switch (entry.flags & FLAG_TYPE_MASK) {
    case FLAG_ELF:
      out = "ELF";
      break;
    case FLAG_ELF_LIBC6:
      out = "libc6";
      break;
    default:
      out = "unknown";
  }
  switch (entry.flags & FLAG_REQUIRED_MASK) {
    case 0:
      break;
    case FLAG_SPARC_LIB64:
    case FLAG_S390_LIB64:
    case FLAG_POWERPC_LIB64:
    case FLAG_MIPS64_LIBN64:
      out += ",64bit";
      break;
    case FLAG_IA64_LIB64:
      out += ",IA-64";
      break;
    case FLAG_X8664_LIB64:
      out += ",x86-64";
      break;
    case FLAG_MIPS64_LIBN32:
      out += ",N32";
      break;
    case FLAG_X8664_LIBX32:
      out += ",x32";
      break;
    case FLAG_ARM_LIBHF:
      out += ",hard-float";
      break;
    case FLAG_AARCH64_LIB64:
      out += ",AArch64";
      break;
    case FLAG_ARM_LIBSF:
    case FLAG_RISCV_FLOAT_ABI_SOFT:
    case FLAG_LARCH_FLOAT_ABI_SOFT:
      out += ",soft-float";
      break;
    case FLAG_MIPS_LIB32_NAN2008:
      out += ",nan2008";
      break;
    case FLAG_MIPS64_LIBN32_NAN2008:
      out += ",N32,nan2008";
      break;
    case FLAG_MIPS64_LIBN64_NAN2008:
      out += ",64bit,nan2008";
      break;
    case FLAG_RISCV_FLOAT_ABI_DOUBLE:
    case FLAG_LARCH_FLOAT_ABI_DOUBLE:
      out += ",double-float";
      break;
    default:
      out += "," + std::to_string(entry.flags & FLAG_REQUIRED_MASK);
  }
  if (entry.hwcaps_subdir) {
    out += ", hwcap: \"" + *entry.hwcaps_subdir + "\"";
  } else if (entry.hwcap != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%#.16" PRIx64, entry.hwcap);
    out += ", hwcap: ";
    out += buf;
  }
  return out;
}

int ld_cache_libcmp(std::string_view a, std::string_view b) {
  // Both strings end at a virtual NUL, as the C strings do.
  auto at = [](std::string_view s, size_t i) -> int {
    return i < s.size() ? static_cast<signed char>(s[i]) : 0;
  };
  auto digit = [](int c) { return c >= '0' && c <= '9'; };
  size_t i = 0, j = 0;
  while (at(a, i) != 0) {
    int c1 = at(a, i), c2 = at(b, j);
    if (digit(c1)) {
      if (!digit(c2)) return 1;
      // "Must compare this numerically." int arithmetic in glibc; wrap like it does on Linux.
      uint32_t v1 = 0, v2 = 0;
      while (digit(at(a, i))) v1 = v1 * 10 + static_cast<uint32_t>(at(a, i++) - '0');
      while (digit(at(b, j))) v2 = v2 * 10 + static_cast<uint32_t>(at(b, j++) - '0');
      if (v1 != v2) return static_cast<int32_t>(v1 - v2) < 0 ? -1 : 1;
      continue;
    }
    if (digit(c2)) return -1;
    if (c1 != c2) return c1 - c2;
    ++i;
    ++j;
  }
  return at(a, i) - at(b, j);
}

const LdCacheEntry* lookup_entry(const LdCache& cache, std::string_view soname, int32_t loader_id) {
  const std::vector<LdCacheEntry>& libs = cache.entries;
  bool is_new = cache.format != LdCacheFormat::kOld;
  int64_t left = 0, right = static_cast<int64_t>(libs.size()) - 1;
  while (left <= right) {
    int64_t middle = (left + right) / 2;
    int cmp = ld_cache_libcmp(soname, libs[middle].soname);
    if (cmp != 0) {
      // ldconfig sorts descending, so a smaller name lies to the right.
      if (cmp < 0)
        left = middle + 1;
      else
        right = middle - 1;
      continue;
    }
    // "There might be entries with this name before the one we found."
    while (middle > 0 && ld_cache_libcmp(soname, libs[middle - 1].soname) == 0) --middle;
    const LdCacheEntry* best = nullptr;
    for (; middle < static_cast<int64_t>(libs.size()); ++middle) {
      const LdCacheEntry& lib = libs[middle];
      if (ld_cache_libcmp(soname, lib.soname) != 0) break;
      if (!ld_cache_flags_match(lib.flags, loader_id)) continue;
      if (best != nullptr && lib.flags != loader_id) continue;
      if (is_new) {
        // glibc-hwcaps entries come first and need a CPU we do not know: skip them. Then
        // "The entries with named/extension hwcaps have been exhausted."
        if (is_hwcap_extension(lib.hwcap)) continue;
        if (best != nullptr) break;
        if ((lib.hwcap & ~kHwcapTlsMask) != 0) continue;  // legacy hwcap subdirectories
      }
      best = &lib;
      if (lib.flags == loader_id) break;
    }
    return best;
  }
  return nullptr;
}

std::optional<std::string> lookup(const LdCache& cache, std::string_view soname,
                                  int32_t required_flags) {
  const LdCacheEntry* e = lookup_entry(cache, soname, required_flags);
  if (e == nullptr) return std::nullopt;
  return e->path;
}

bool glob_match(std::string_view pattern, std::string_view name) {
  if (!name.empty() && name.front() == '.' && (pattern.empty() || pattern.front() != '.')) {
    return false;
  }
  return glob_match_at(pattern, name);
}

LdConf parse_ld_so_conf(const std::string& path, const ReadFileFn& read_file,
                        const ListDirFn& list_dir) {
  ConfParser p{read_file, list_dir, {}, {}};
  p.parse(path, 0);
  return std::move(p.out);
}

std::vector<std::string> parse_musl_path(std::optional<std::string_view> content) {
  if (!content) return {"/lib", "/usr/local/lib", "/usr/lib"};
  std::string_view s = content->substr(0, content->find('\0'));
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    i = s.find_first_not_of(":\n", i);
    if (i == std::string_view::npos) break;
    size_t end = s.find_first_of(":\n", i);
    if (end == std::string_view::npos) end = s.size();
    out.emplace_back(s.substr(i, end - i));
    i = end;
  }
  return out;
}

}  // namespace coroner::linux_
