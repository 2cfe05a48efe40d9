// Throughput of the secret scanner (rules/secrets.h) on one core: the embedded Hyperscan
// database fed 64 KiB blocks, as the scan does. Text: config/source-like lines with a token every
// ~64 KiB; binary: random bytes. Files of 1 MiB and of 4 KiB (per-file begin/end overhead).
// Target: >= 1 GB/s per core (issue 5).
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <string>

#include "rules/secrets.h"

namespace {

std::string text_data(size_t n) {
  static const char* kLines[] = {
      "listen 8080;\n",
      "    server_name example.com www.example.com;\n",
      "def handler(event, context):\n",
      "        return {\"status\": 200, \"body\": json.dumps(x)}\n",
      "export PATH=/usr/local/bin:$PATH\n",
      "# Copyright 2024 The Authors. All rights reserved.\n",
      "LogLevel warn\n",
      "    if (err != nil) { return fmt.Errorf(\"open %s: %w\", path, err) }\n"};
  std::mt19937 rng(42);
  std::string s;
  while (s.size() < n) {
    s += kLines[rng() % 8];
    if (rng() % 1500 == 0) s += "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n";
  }
  s.resize(n);
  return s;
}

std::string binary_data(size_t n) {
  std::mt19937_64 rng(7);
  std::string s(n, '\0');
  for (size_t i = 0; i + 8 <= n; i += 8) {
    uint64_t v = rng();
    std::memcpy(&s[i], &v, 8);
  }
  return s;
}

void scan_files(benchmark::State& state, const std::string& data, size_t file_size) {
  auto scanner = coroner::rules::make_secret_scanner(coroner::rules::secret_rules(), true);
  std::vector<coroner::scan::ContentMatch> out;
  constexpr size_t kBlock = 64 * 1024;
  for (auto _ : state) {
    for (size_t f = 0; f < data.size(); f += file_size) {
      size_t end = std::min(data.size(), f + file_size);
      scanner->begin("f", end - f, coroner::scan::ContentKind::kText);
      for (size_t i = f; i < end; i += kBlock) {
        size_t len = std::min(kBlock, end - i);
        scanner->feed(std::as_bytes(std::span<const char>(data.data() + i, len)));
      }
      out.clear();
      scanner->end(out);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * data.size()));
}

void BM_SecretsText1MiB(benchmark::State& s) { scan_files(s, text_data(64 << 20), 1 << 20); }
void BM_SecretsText4KiB(benchmark::State& s) { scan_files(s, text_data(64 << 20), 4096); }
void BM_SecretsBinary1MiB(benchmark::State& s) { scan_files(s, binary_data(64 << 20), 1 << 20); }
BENCHMARK(BM_SecretsText1MiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SecretsText4KiB)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SecretsBinary1MiB)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
