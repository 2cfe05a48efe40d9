#include "explore/filters.h"

#include <fnmatch.h>

#include <charconv>
#include <chrono>

#include "base/bytes.h"
#include "base/error.h"
#include "base/text.h"

namespace coroner::explore {
namespace {

uint64_t parse_number(std::string_view s, std::string_view what, std::string_view arg,
                      int base = 10) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, base);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    throw Error(std::string(what) + ": " + escape(arg) + ": not a valid number");
  }
  return v;
}

}  // namespace

bool SizeTest::matches(uint64_t size) const {
  uint64_t units = size / unit + (size % unit != 0);
  switch (cmp) {
    case Cmp::kLess:
      return units < n;
    case Cmp::kGreater:
      return units > n;
    case Cmp::kEqual:
      return units == n;
  }
  return false;
}

SizeTest parse_size_test(std::string_view arg) {
  SizeTest t;
  std::string_view s = arg;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    t.cmp = s[0] == '+' ? SizeTest::Cmp::kGreater : SizeTest::Cmp::kLess;
    s.remove_prefix(1);
  }
  if (!s.empty() && !(s.back() >= '0' && s.back() <= '9')) {
    switch (s.back()) {
      case 'b':
        t.unit = 512;
        break;
      case 'c':
        t.unit = 1;
        break;
      case 'w':
        t.unit = 2;
        break;
      case 'k':
        t.unit = 1024;
        break;
      case 'M':
        t.unit = 1024 * 1024;
        break;
      case 'G':
        t.unit = 1024 * 1024 * 1024;
        break;
      default:
        throw Error("-size: " + escape(arg) + ": unknown unit '" + escape(s.substr(s.size() - 1)) +
                    "' (use c, w, b, k, M or G)");
    }
    s.remove_suffix(1);
  }
  t.n = parse_number(s, "-size", arg);
  return t;
}

bool PermTest::matches(uint32_t mode) const {
  mode &= 07777;
  switch (kind) {
    case Kind::kExact:
      return mode == bits;
    case Kind::kAll:
      return (mode & bits) == bits;
    case Kind::kAny:
      return bits == 0 || (mode & bits) != 0;
  }
  return false;
}

namespace {

// A chmod(1) symbolic mode applied to 0 with a umask of 0, as GNU find does for -perm:
// clauses "[ugoa]*([-+=]([rwxXst]*|[ugo]))+" separated by commas.
uint32_t parse_symbolic_mode(std::string_view s, std::string_view arg) {
  auto bad = [&](std::string_view why) {
    return Error("-perm: " + escape(arg) + ": " + std::string(why) +
                 " (expected octal like 4000 or symbolic like u+s,g=rx)");
  };
  uint32_t mode = 0;
  size_t i = 0;
  do {
    if (i > 0) ++i;  // the comma
    uint32_t who = 0;
    for (; i < s.size() && std::string_view("ugoa").find(s[i]) != std::string_view::npos; ++i) {
      who |= s[i] == 'u' ? 04700u : s[i] == 'g' ? 02070u : s[i] == 'o' ? 01007u : 07777u;
    }
    if (who == 0) who = 07777;
    if (i == s.size() || std::string_view("-+=").find(s[i]) == std::string_view::npos) {
      throw bad("a clause needs an operator: -, + or =");
    }
    while (i < s.size() && std::string_view("-+=").find(s[i]) != std::string_view::npos) {
      char op = s[i++];
      uint32_t value = 0;
      if (i < s.size() && (s[i] == 'u' || s[i] == 'g' || s[i] == 'o')) {
        int shift = s[i] == 'u' ? 6 : s[i] == 'g' ? 3 : 0;
        value = ((mode >> shift) & 07) * 0111;
        ++i;
      } else {
        for (; i < s.size() && std::string_view("rwxXst").find(s[i]) != std::string_view::npos;
             ++i) {
          switch (s[i]) {
            case 'r':
              value |= 0444;
              break;
            case 'w':
              value |= 0222;
              break;
            case 'x':
              value |= 0111;
              break;
            case 'X':
              value |= (mode & 0111) ? 0111 : 0;
              break;  // never a directory here
            case 's':
              value |= 06000;
              break;
            case 't':
              value |= 01000;
              break;
          }
        }
      }
      value &= who;
      if (op == '+') mode |= value;
      if (op == '-') mode &= ~value;
      if (op == '=') mode = (mode & ~who) | value;
    }
    if (i < s.size() && s[i] != ',') throw bad("unexpected '" + escape(s.substr(i, 1)) + "'");
  } while (i < s.size());
  return mode;
}

}  // namespace

PermTest parse_perm_test(std::string_view arg) {
  PermTest t;
  std::string_view s = arg;
  if (!s.empty() && (s[0] == '-' || s[0] == '/')) {
    t.kind = s[0] == '-' ? PermTest::Kind::kAll : PermTest::Kind::kAny;
    s.remove_prefix(1);
  }
  if (!s.empty() && s[0] >= '0' && s[0] <= '9') {
    uint64_t bits = parse_number(s, "-perm", arg, 8);
    if (bits > 07777) throw Error("-perm: " + escape(arg) + ": more than the 12 permission bits");
    t.bits = static_cast<uint32_t>(bits);
  } else {
    t.bits = parse_symbolic_mode(s, arg);
  }
  return t;
}

int64_t parse_utc_date(std::string_view arg) {
  std::string_view s = arg;
  if (ends_with(s, "Z")) s.remove_suffix(1);
  if (ends_with(s, "+00:00")) s.remove_suffix(6);
  auto bad = [&]() -> Error {
    return Error("date: " + escape(arg) +
                 ": expected an ISO 8601 date or date-time in UTC, e.g. 2024-01-31 or "
                 "2024-01-31T12:00:00Z");
  };
  auto field = [&](size_t pos, size_t len) -> unsigned {
    if (s.size() < pos + len) throw bad();
    std::string_view f = s.substr(pos, len);
    for (char c : f) {
      if (c < '0' || c > '9') throw bad();
    }
    return static_cast<unsigned>(parse_number(f, "date", arg));
  };
  if (s.size() < 10 || s[4] != '-' || s[7] != '-') throw bad();
  std::chrono::year_month_day ymd{std::chrono::year(static_cast<int>(field(0, 4))),
                                  std::chrono::month(field(5, 2)), std::chrono::day(field(8, 2))};
  if (!ymd.ok()) throw bad();
  int64_t secs = 0;
  if (s.size() > 10) {
    if ((s[10] != 'T' && s[10] != ' ') || s.size() < 16 || s[13] != ':') throw bad();
    unsigned h = field(11, 2), m = field(14, 2), sec = 0;
    if (s.size() > 16) {
      if (s.size() != 19 || s[16] != ':') throw bad();
      sec = field(17, 2);
    }
    if (h > 23 || m > 59 || sec > 60) throw bad();
    secs = h * 3600 + m * 60 + sec;
  }
  return std::chrono::sys_days(ymd).time_since_epoch().count() * 86400 + secs;
}

bool glob_match(std::string_view pattern, std::string_view text) {
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

bool FindFilter::matches(const FileView& f) const {
  std::string_view base = f.path == "/" ? f.path : f.path.substr(f.path.rfind('/') + 1);
  for (const std::string& g : names) {
    if (!glob_match(g, base)) return false;
  }
  for (const std::string& g : paths) {
    if (!glob_match(g, f.path)) return false;
  }
  if (type) {
    scan::FileType t = f.type == scan::FileType::kHardlink ? scan::FileType::kRegular : f.type;
    if (t != *type) return false;
  }
  for (const PermTest& p : perms) {
    if (!p.matches(f.mode)) return false;
  }
  if (uid && f.uid != *uid) return false;
  if (gid && f.gid != *gid) return false;
  for (const SizeTest& t : sizes) {
    if (!t.matches(f.size)) return false;
  }
  if (newer_than && f.mtime <= *newer_than) return false;
  if (layer && f.layer != *layer) return false;
  return true;
}

}  // namespace coroner::explore
