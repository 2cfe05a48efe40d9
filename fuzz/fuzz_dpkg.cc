// Fuzzes the dpkg database parsers (src/pkg/dpkg.h). The input is split at NUL bytes into a
// status file, a .list, a .md5sums, a .conffiles and a diversions file; each is parsed alone.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "pkg/dpkg.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;

std::string_view next_part(std::string_view& in) {
  size_t nul = in.find('\0');
  std::string_view part = in.substr(0, nul);
  in = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
  return part;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  using namespace coroner::pkg;
  auto guarded = [](auto&& f) {
    try {
      f();
    } catch (const coroner::Error&) {
    }
  };
  std::string_view status = next_part(in), list = next_part(in), md5 = next_part(in),
                   conf = next_part(in), div = next_part(in);
  guarded([&] {
    for (const DpkgPackage& p : parse_status(status)) {
      (void)state_name(p.state);
      (void)p.installed();
    }
  });
  guarded([&] { parse_list(list); });
  guarded([&] { parse_md5sums(md5); });
  guarded([&] { parse_conffiles(conf); });
  guarded([&] { parse_diversions(div); });
  return 0;
}
