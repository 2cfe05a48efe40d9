// Fuzzes the rpm header parser (src/pkg/rpm.h): the blobs of the sqlite rpmdb's Packages table;
// and the capability text (FILECAPS) and security.capability decoders, on the input itself.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/error.h"
#include "linux/capabilities.h"
#include "pkg/rpm.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)coroner::linux_::parse_cap_text(text);
  (void)coroner::linux_::decode_vfs_cap(text);
  try {
    coroner::pkg::RpmPackage p =
        coroner::pkg::parse_rpm_header(std::as_bytes(std::span(data, size)));
    if (p.name.empty()) __builtin_trap();
    (void)p.evr();
    (void)p.source();
    for (const auto& f : p.files) {
      if (f.path.size() > size) __builtin_trap();  // every byte of a path comes from the input
      (void)coroner::linux_::parse_cap_text(f.caps);
    }
  } catch (const coroner::Error&) {
  }
  return 0;
}
