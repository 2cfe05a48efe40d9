// Fuzzes the ld.so.cache parser and the ld.so lookup over what it returns
// (src/linux/ld_cache.h), plus the ld.so.conf and musl path parsers over the same bytes.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/error.h"
#include "linux/ld_cache.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  using namespace coroner::linux_;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    LdCache cache = parse_ld_cache(bytes);
    for (const LdCacheEntry& e : cache.entries) {
      lookup(cache, e.soname, 0x303);
      lookup(cache, e.soname, 0x903);
      describe_entry(e);
    }
    lookup(cache, "libc.so.6", 3);
  } catch (const coroner::Error&) {
  }
  // The same bytes as /etc/ld.so.conf that includes itself and a conf.d of two files.
  auto read = [&](const std::string& p) -> std::optional<std::string> {
    if (p == "/etc/ld.so.conf" || p == "/etc/ld.so.conf.d/a.conf" ||
        p == "/etc/ld.so.conf.d/b.conf") {
      return std::string(text);
    }
    return std::nullopt;
  };
  auto list = [](const std::string& d) -> std::optional<std::vector<std::string>> {
    if (d == "/etc/ld.so.conf.d") return std::vector<std::string>{"a.conf", ".hidden", "b.conf"};
    if (d == "/etc") return std::vector<std::string>{"ld.so.conf", "ld.so.conf.d"};
    return std::nullopt;
  };
  parse_ld_so_conf("/etc/ld.so.conf", read, list);
  parse_musl_path(text);
  if (size > 1) glob_match(text.substr(0, size / 2), text.substr(size / 2));
  return 0;
}
