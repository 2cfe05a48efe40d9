#include "scan/sniff.h"

#include <cstring>

#if defined(__x86_64__) && defined(__SSE2__)
#include <immintrin.h>
#endif

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
  if (out.empty()) out.push_back('.');
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

namespace {

// The length of the longest prefix of whole 64-byte blocks of `p` with no high bit set (and, when
// `reject_nul`, no zero byte): ASCII text costs well under a cycle per byte here. The head of
// every regular file goes through it, so it is on the scan's hot path: AVX2 where the CPU has it
// (checked once at run time), else SSE2 (baseline on x86-64), else nothing.
using CleanPrefix = size_t (*)(const unsigned char* p, size_t n, bool reject_nul);

#if defined(__x86_64__) && defined(__SSE2__)
// A zero byte compares equal to zero: OR-ing that 0xff mask in sets a high bit, so one movemask
// catches both.
size_t clean_prefix_sse2(const unsigned char* p, size_t n, bool reject_nul) {
  const __m128i zero = _mm_setzero_si128();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    auto load = [&](size_t k) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + k));
    };
    __m128i a = load(0), b = load(16), c = load(32), d = load(48);
    __m128i bad = _mm_or_si128(_mm_or_si128(a, b), _mm_or_si128(c, d));
    if (reject_nul) {
      __m128i m = _mm_min_epu8(_mm_min_epu8(a, b), _mm_min_epu8(c, d));
      bad = _mm_or_si128(bad, _mm_cmpeq_epi8(m, zero));
    }
    if (_mm_movemask_epi8(bad) != 0) break;
  }
  return i;
}

__attribute__((target("avx2"))) size_t clean_prefix_avx2(const unsigned char* p, size_t n,
                                                         bool reject_nul) {
  const __m256i zero = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i + 32));
    __m256i bad = _mm256_or_si256(a, b);
    if (reject_nul) bad = _mm256_or_si256(bad, _mm256_cmpeq_epi8(_mm256_min_epu8(a, b), zero));
    if (_mm256_movemask_epi8(bad) != 0) break;
  }
  return i;
}

CleanPrefix pick_clean_prefix() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") ? clean_prefix_avx2 : clean_prefix_sse2;
}
#else
size_t clean_prefix_none(const unsigned char*, size_t, bool) { return 0; }
CleanPrefix pick_clean_prefix() { return clean_prefix_none; }
#endif

// Validates UTF-8 (and, when `reject_nul`, the absence of NUL bytes) in one pass: clean 64-byte
// blocks through clean_prefix(), then 32 bytes at a time with SWAR ("haszero" of Hacker's
// Delight 6-1), then byte by byte through the UTF-8 table.
bool check_text(std::string_view s, bool truncated, bool reject_nul) {
  constexpr uint64_t kHigh = 0x8080808080808080ull, kLow = 0x0101010101010101ull;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  static const CleanPrefix clean_prefix = pick_clean_prefix();
  size_t n = s.size(), i = 0;
  while (i < n) {
    if (i + 64 <= n) {
      size_t k = clean_prefix(p + i, n - i, reject_nul);
      i += k;
      if (k > 0) continue;
    }
    if (i + 32 <= n) {
      uint64_t w[4];
      std::memcpy(w, p + i, 32);
      uint64_t high = (w[0] | w[1] | w[2] | w[3]) & kHigh;
      uint64_t zero = 0;
      if (reject_nul) {
        for (uint64_t x : w) zero |= (x - kLow) & ~x;
        zero &= kHigh;
      }
      if ((high | zero) == 0) {
        i += 32;
        continue;
      }
    }
    unsigned c = p[i];
    if (c < 0x80) {
      if (c == 0 && reject_nul) return false;
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

}  // namespace

bool is_valid_utf8(std::string_view s, bool truncated) { return check_text(s, truncated, false); }

ContentKind classify_content(std::span<const std::byte> head, uint64_t size) {
  if (size == 0) return ContentKind::kEmpty;
  std::string_view h = as_chars(head);
  if (h.substr(0, 4) ==
      "\x7f"
      "ELF")
    return ContentKind::kElf;
  if (h.substr(0, 2) == "#!") return ContentKind::kScript;
  std::string_view sniff = h.substr(0, kSniffBytes);
  return check_text(sniff, size > sniff.size(), true) ? ContentKind::kText : ContentKind::kBinary;
}

std::string_view first_line(std::span<const std::byte> head) {
  std::string_view h = as_chars(head).substr(0, kMaxFirstLine);
  return h.substr(0, h.find('\n'));
}

}  // namespace coroner::scan
