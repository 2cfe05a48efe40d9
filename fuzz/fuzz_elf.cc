// Fuzz target for elf::parse: any input either parses or throws coroner::Error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/error.h"
#include "elf/elf.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  try {
    coroner::elf::ElfInfo info = coroner::elf::parse(bytes);
    (void)info.is_static();
    (void)coroner::elf::machine_name(info.e_machine);
  } catch (const coroner::Error&) {
  }
  (void)coroner::elf::is_elf(bytes);
  return 0;
}
