// Fuzzes the apk database parser and the Q1/Q2 checksum decoder (src/pkg/apk.h).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "pkg/apk.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  coroner::pkg::decode_apk_checksum(in.substr(0, 64));
  try {
    for (const auto& p : coroner::pkg::parse_apk_installed(in)) {
      for (const auto& f : p.files) {
        if (!f.digest.empty() && f.digest.size() != 40 && f.digest.size() != 64) __builtin_trap();
      }
    }
  } catch (const coroner::Error&) {
  }
  return 0;
}
