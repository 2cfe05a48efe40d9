#include "scan/sniff.h"

#include <cstring>

#include "base/bytes.h"
#include "base/error.h"

namespace coroner::scan {

void normalize_path(std::string_view name, std::string& out) {
  out.clear();
  size_t i = 0;
  while (i < name.size()) {
    size_t slash = name.find('/', i);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(i, slash - i);
    i = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") throw Error("'..' component: the entry would land outside the root");
    if (!out.empty()) out += '/';
    out += part;
  }
  if (out.empty()) out = ".";
}

WhiteoutName classify_whiteout(std::string_view path) {
  constexpr std::string_view kPrefix = ".wh.";
  constexpr std::string_view kOpaque = ".wh..wh..opq";
  size_t slash = path.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? "" : path.substr(0, slash);
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (base.substr(0, kPrefix.size()) != kPrefix) return {};
  if (base == kOpaque) return {Whiteout::kOpaque, dir.empty() ? "." : std::string(dir)};
  std::string_view name = base.substr(kPrefix.size());
  if (name.empty()) return {Whiteout::kFile, ""};
  return {Whiteout::kFile,
          dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name)};
}

bool is_valid_utf8(std::string_view s, bool truncated) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time.
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if ((w & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned lo = 0x80, hi = 0xbf;  // range of the second byte (RFC 3629 table)
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if (i + k >= n) return truncated;
      unsigned b = p[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf)) return false;
    }
    i += len;
  }
  return true;
}

ContentKind classify_content(std::span<const std::byte> head, uint64_t size) {
  if (size == 0) return ContentKind::kEmpty;
  std::string_view h = as_chars(head);
  if (h.substr(0, 4) ==
      "\x7f"
      "ELF")
    return ContentKind::kElf;
  if (h.substr(0, 2) == "#!") return ContentKind::kScript;
  std::string_view sniff = h.substr(0, kSniffBytes);
  if (sniff.find('\0') != std::string_view::npos) return ContentKind::kBinary;
  return is_valid_utf8(sniff, size > sniff.size()) ? ContentKind::kText : ContentKind::kBinary;
}

std::string_view first_line(std::span<const std::byte> head) {
  std::string_view h = as_chars(head).substr(0, kMaxFirstLine);
  return h.substr(0, h.find('\n'));
}

}  // namespace coroner::scan
