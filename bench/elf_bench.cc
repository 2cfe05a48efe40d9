// Google Benchmark: elf::parse on whole files already in memory, the host's libc.so.6 (verdef
// with ~40 versions) and a big binary (the host's libstdc++.so.6, or the file named by
// $CORONER_BENCH_ELF). Reading the file is outside the timed loop.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "elf/elf.h"

namespace {

std::vector<std::byte> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

void parse_file(benchmark::State& state, const std::string& path) {
  std::vector<std::byte> file = slurp(path);
  if (file.empty()) {
    state.SkipWithError(("cannot read " + path).c_str());
    return;
  }
  for (auto _ : state) {
    coroner::elf::ElfInfo info = coroner::elf::parse(file);
    benchmark::DoNotOptimize(info);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(file.size()));
}

void BM_ParseLibc(benchmark::State& state) { parse_file(state, "/lib/x86_64-linux-gnu/libc.so.6"); }
BENCHMARK(BM_ParseLibc);

void BM_ParseBigBinary(benchmark::State& state) {
  const char* env = std::getenv("CORONER_BENCH_ELF");
  parse_file(state, env && *env ? env : "/usr/lib/x86_64-linux-gnu/libstdc++.so.6");
}
BENCHMARK(BM_ParseBigBinary);

}  // namespace

BENCHMARK_MAIN();
