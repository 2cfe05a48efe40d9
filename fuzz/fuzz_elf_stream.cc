// Fuzz target for elf::ElfStream: the input fed in pseudo-random block sizes (seeded from the
// input) must give exactly what elf::parse gives for the whole input, with the production windows
// (the input fits the prefix) and, with 4 KiB and 64-byte prefixes, the same or "not kept";
// aborts otherwise.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>

#include "base/error.h"
#include "elf/elf.h"
#include "elf/elf_stream.h"

namespace {
constexpr size_t kMaxInputSize = 512 * 1024;

std::string dump(const coroner::elf::ElfInfo& i) {
  std::string s = std::to_string(i.ei_class) + std::to_string(i.ei_data) +
                  std::to_string(i.ei_osabi) + "/" + std::to_string(i.e_type) + "/" +
                  std::to_string(i.e_machine) + "/" + std::to_string(i.e_flags) + "/" +
                  i.interp.value_or("-") + std::to_string(i.has_dynamic) + "/";
  for (const auto& n : i.needed) s += n + ",";
  s += i.soname.value_or("-") + "/" + i.rpath.value_or("-") + "/" + i.runpath.value_or("-") + "/" +
       std::to_string(i.dt_flags) + "/" + std::to_string(i.dt_flags_1) + "/";
  for (const auto& v : i.verneed) {
    s += v.file + "(";
    for (const auto& x : v.versions) s += x + ",";
    s += ")";
  }
  for (const auto& v : i.verdef) s += v + ",";
  s += i.abi_tag.value_or("-") + "/" + std::to_string(i.x86_isa_needed) +
       std::to_string(i.glibc_kernel_check);
  return s;
}

// The outcome as text; `not_kept` set when the stream did not keep what the parse needed.
std::string streamed(coroner::elf::ElfStream& s, std::span<const std::byte> in, uint64_t seed,
                     bool& not_kept) {
  std::mt19937_64 rng(seed);
  s.reset(in.size());
  size_t at = 0;
  while (at < in.size()) {
    size_t n = 1 + static_cast<size_t>(rng() % (rng() % 2 ? 64 : 8192));
    if (n > in.size() - at) n = in.size() - at;
    s.feed(in.subspan(at, n));
    at += n;
  }
  coroner::elf::StreamResult r = s.finish();
  not_kept = !r.not_kept.empty();
  if (r.info) return dump(*r.info);
  return "error: " + r.error;
}

[[noreturn]] void disagree(const std::string& want, const std::string& got) {
  std::fprintf(stderr, "ElfStream disagrees with elf::parse\n want: %s\n got:  %s\n", want.c_str(),
               got.c_str());
  std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > kMaxInputSize) return 0;
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  std::string want;
  try {
    want = dump(coroner::elf::parse(bytes));
  } catch (const coroner::Error& e) {
    want = std::string("error: ") + e.what();
  }
  uint64_t seed = size;
  for (size_t i = 0; i < size && i < 64; ++i) seed = seed * 131 + data[i];
  static coroner::elf::ElfStream production, small(4096, 16 << 10), tiny(64, 4096);
  bool not_kept = false;
  std::string got = streamed(production, bytes, seed, not_kept);
  if (not_kept || got != want) disagree(want, got);
  got = streamed(small, bytes, seed + 1, not_kept);
  if (!not_kept && got != want) disagree(want, got);
  got = streamed(tiny, bytes, seed + 2, not_kept);
  if (!not_kept && got != want) disagree(want, got);
  return 0;
}
