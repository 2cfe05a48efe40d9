// parse_ref on arbitrary strings, without the file system: a fake prober answers from the
// first byte of the path, so every sniffed kind and every split of PATH:SELECTOR is reached.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.h"
#include "image/ref.h"

namespace {

class HashProber : public coroner::image::PathProber {
 public:
  coroner::image::PathKind probe(const std::string& path) const override {
    if (path.empty()) return coroner::image::PathKind::kMissing;
    unsigned h = 0;
    for (char c : path) h = h * 31 + static_cast<unsigned char>(c);
    return static_cast<coroner::image::PathKind>(h % 7);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const HashProber prober;
  try {
    coroner::image::parse_ref(text, prober);
  } catch (const coroner::Error&) {
  }
  coroner::image::is_docker_reference(text);
  return 0;
}
