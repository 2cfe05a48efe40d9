// Fuzzes pkg::spdx_expression (src/pkg/spdx_license.h): license fields of package databases.
// Whatever it accepts, it writes in canonical form, which it must accept again unchanged.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pkg/spdx_license.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<std::string> e = coroner::pkg::spdx_expression(text);
  if (e && coroner::pkg::spdx_expression(*e) != e) __builtin_trap();
  return 0;
}
