// Fuzzes the BerkeleyDB hash reader (src/pkg/rpm_bdb.h): rpm's Packages of CentOS/RHEL 7 and 8.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "pkg/rpm_bdb.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  auto bytes = std::as_bytes(std::span(data, size));
  try {
    coroner::pkg::BdbHash h = coroner::pkg::read_bdb_hash(bytes);
    // Each page is read once: the records never hold more bytes than the input.
    size_t total = 0;
    for (const auto& r : h.records) total += r.key.size() + r.value.size();
    if (total > size) __builtin_trap();
  } catch (const coroner::Error&) {
  }
  try {
    std::vector<std::string> notes;
    (void)coroner::pkg::read_rpmdb_bdb(bytes, notes);
  } catch (const coroner::Error&) {
  }
  return 0;
}
