// Fuzzes the passwd, group and shadow parsers and USER resolution (src/linux/users.h). The
// input is split at the first two NUL bytes into passwd, group and a USER spec.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/error.h"
#include "linux/users.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\0');
  std::string_view passwd_text = in.substr(0, a);
  std::string_view rest = a == std::string_view::npos ? std::string_view() : in.substr(a + 1);
  size_t b = rest.find('\0');
  std::string_view group_text = rest.substr(0, b);
  std::string_view spec =
      b == std::string_view::npos ? std::string_view("app") : rest.substr(b + 1);
  try {
    using namespace coroner::linux_;
    PasswdFile passwd = parse_passwd(passwd_text);
    GroupFile group = parse_group(group_text);
    parse_shadow(passwd_text);
    resolve_user(spec, passwd, group);
    resolve_user(spec, std::nullopt, group);
    resolve_user(spec, passwd, std::nullopt);
    duplicate_uids(passwd);
    users_without_primary_group(passwd, group);
  } catch (const coroner::Error&) {
  }
  return 0;
}
