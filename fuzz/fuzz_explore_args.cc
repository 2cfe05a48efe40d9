// Fuzzes the explore/ parsers of find arguments (-size, -perm, dates, globs) and of the image's
// passwd/group names (src/explore/filters.h, users.h). The input is split at NUL bytes into
// the texts each parser takes.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/text.h"
#include "explore/filters.h"
#include "explore/users.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts = coroner::split(in, '\0');
  auto part = [&](size_t i) { return i < parts.size() ? parts[i] : std::string_view(); };
  using namespace coroner::explore;
  IdNames names = IdNames::parse(part(0));
  (void)lookup_id(names, part(1));
  try {
    parse_size_test(part(1)).matches(size);
  } catch (const coroner::Error&) {
  }
  try {
    parse_perm_test(part(2)).matches(static_cast<uint32_t>(size));
  } catch (const coroner::Error&) {
  }
  try {
    (void)parse_utc_date(part(3));
  } catch (const coroner::Error&) {
  }
  if (part(4).size() < 256) (void)glob_match(part(4), part(0).substr(0, 4096));
  return 0;
}
