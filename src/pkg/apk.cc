#include "pkg/apk.h"

#include "base/error.h"
#include "base/text.h"

namespace coroner::pkg {
namespace {

[[noreturn]] void fail(uint32_t line, const std::string& detail) {
  throw Error("apk db: line " + std::to_string(line) + ": " + detail);
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::optional<std::string> base64_to_hex(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  if (s.size() % 4 != 0) return std::nullopt;
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=') {
      if (i + 2 < s.size()) return std::nullopt;  // '=' only in the last two places
      ++pad;
      continue;
    }
    if (pad) return std::nullopt;
    int v = base64_value(s[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      uint8_t byte = static_cast<uint8_t>(acc >> bits);
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::optional<uint64_t> parse_u64(std::string_view s, int base = 10) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c >= '0' + base) return std::nullopt;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(c - '0');
  }
  return v;
}

void parse_acl(ApkFile& f, std::string_view v, uint32_t line) {
  auto parts = split(v, ':');
  if (parts.size() != 3) fail(line, "a: expected uid:gid:mode, got \"" + escape(v, 64) + "\"");
  auto uid = parse_u64(parts[0]), gid = parse_u64(parts[1]), mode = parse_u64(parts[2], 8);
  if (!uid || !gid || !mode || *uid > UINT32_MAX || *gid > UINT32_MAX || *mode > 07777) {
    fail(line, "a: bad uid:gid:mode \"" + escape(v, 64) + "\"");
  }
  f.uid = static_cast<uint32_t>(*uid);
  f.gid = static_cast<uint32_t>(*gid);
  f.mode = static_cast<uint32_t>(*mode);
}

struct Parser {
  std::vector<ApkPackage> out;
  ApkPackage cur;
  bool open = false;
  std::string dir;  // last F:, absolute without trailing '/' ("" for the root)
  bool have_dir = false;
  bool have_file = false;

  void finish() {
    if (!open) return;
    if (cur.name.empty()) fail(cur.line, "package without a P: line");
    out.push_back(std::move(cur));
    cur = {};
    open = false;
    have_dir = have_file = false;
  }

  void field(char key, std::string_view v, uint32_t n) {
    if (!open) {
      open = true;
      cur.line = n;
    }
    switch (key) {
      case 'P':
        cur.name = std::string(v);
        break;
      case 'V':
        cur.version = std::string(v);
        break;
      case 'A':
        cur.arch = std::string(v);
        break;
      case 'o':
        cur.origin = std::string(v);
        break;
      case 'L':
        cur.license = std::string(v);
        break;
      case 'I':
        cur.installed_size = size_of(v, n);
        break;
      case 'S':
        cur.size = size_of(v, n);
        break;
      case 'F':
        if (v.empty() || v[0] == '/') fail(n, "F: \"" + escape(v, 64) + "\" is not relative");
        dir = "/" + std::string(v);
        cur.dirs.push_back(dir);
        have_dir = true;
        have_file = false;
        break;
      case 'R':
        if (!have_dir) fail(n, "R: before any F:");
        if (v.empty() || v.find('/') != std::string_view::npos) {
          fail(n, "R: \"" + escape(v, 64) + "\" is not a file name");
        }
        cur.files.push_back({dir + "/" + std::string(v), "", {}, {}, {}});
        have_file = true;
        break;
      case 'a':
        if (!have_file) fail(n, "a: before any R:");
        parse_acl(cur.files.back(), v, n);
        break;
      case 'Z': {
        if (!have_file) fail(n, "Z: before any R:");
        auto hex = decode_apk_checksum(v);
        if (!hex) fail(n, "Z: bad checksum \"" + escape(v, 64) + "\"");
        cur.files.back().digest = *hex;
        break;
      }
      default:
        break;  // T, U, m, t, c, D, p, i, r, q, M, C, ...: not needed here
    }
  }

  static uint64_t size_of(std::string_view v, uint32_t n) {
    auto s = parse_u64(v);
    if (!s) fail(n, "size \"" + escape(v, 64) + "\" is not a number");
    return *s;
  }
};

}  // namespace

std::optional<std::string> decode_apk_checksum(std::string_view z) {
  if (z.size() < 2 || z[0] != 'Q') return std::nullopt;
  size_t want = z[1] == '1' ? 40 : z[1] == '2' ? 64 : 0;
  if (want == 0) return std::nullopt;
  auto hex = base64_to_hex(z.substr(2));
  if (!hex || hex->size() != want) return std::nullopt;
  return hex;
}

std::vector<ApkPackage> parse_apk_installed(std::string_view text) {
  Parser p;
  uint32_t n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++n;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      p.finish();
      continue;
    }
    if (line.size() < 2 || line[1] != ':') {
      fail(n, "expected \"X:value\", got \"" + escape(line, 64) + "\"");
    }
    p.field(line[0], line.substr(2), n);
  }
  p.finish();
  return std::move(p.out);
}

}  // namespace coroner::pkg
