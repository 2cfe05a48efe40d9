// Fuzzes the ndb Packages.db reader (src/pkg/rpm_ndb.h): SUSE's rpm database.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/error.h"
#include "pkg/rpm_ndb.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  try {
    std::vector<std::string> notes;
    std::vector<coroner::pkg::RpmPackage> pkgs =
        coroner::pkg::read_rpmdb_ndb(std::as_bytes(std::span(data, size)), notes);
    // Each package comes from its own slot (16 bytes) and blob (at least 32 bytes).
    if (pkgs.size() > size / 48) __builtin_trap();
  } catch (const coroner::Error&) {
  }
  return 0;
}
