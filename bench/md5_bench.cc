// md5_many's kernels against OpenSSL's one-message-at-a-time md5, on batches shaped like the
// package files the md5 pass hashes (pkg/digest_pass): many small files and a few large ones.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>

#include <algorithm>
#include <random>
#include <vector>

#include "base/md5_many.h"

namespace {

using coroner::Md5Digest;
using coroner::Md5Kernel;
using coroner::Md5Message;

struct Batch {
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::span<const std::byte>> pieces;
  std::vector<Md5Message> messages;
  size_t total = 0;
};

// `count` files of `size` bytes each, or (size 0) sizes drawn like the bench image's files
// under 1 MiB: mostly a few KiB, some hundreds of KiB.
Batch make_batch(size_t count, size_t size) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.5, 1.6);  // median ~5 KiB
  Batch b;
  for (size_t i = 0; i < count; ++i) {
    size_t n = size ? size : std::min<size_t>(static_cast<size_t>(dist(rng)), 1 << 20);
    b.bytes.emplace_back(n, std::byte{static_cast<unsigned char>(i)});
    b.total += n;
  }
  for (const auto& v : b.bytes) b.pieces.emplace_back(v);
  for (const auto& p : b.pieces) b.messages.emplace_back(&p, 1);
  return b;
}

void BM_Md5Many(benchmark::State& state, Md5Kernel kernel) {
  auto kernels = coroner::md5_kernels();
  if (std::find(kernels.begin(), kernels.end(), kernel) == kernels.end())
    return state.SkipWithError("this CPU lacks the kernel's instructions");
  Batch b = make_batch(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)));
  std::vector<Md5Digest> out(b.messages.size());
  for (auto _ : state) {
    coroner::md5_many(b.messages, out, kernel);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.total));
}

void BM_OpenSslMd5(benchmark::State& state) {
  Batch b = make_batch(static_cast<size_t>(state.range(0)), static_cast<size_t>(state.range(1)));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  for (auto _ : state) {
    for (const auto& v : b.bytes) EVP_Digest(v.data(), v.size(), md, &n, EVP_md5(), nullptr);
    benchmark::DoNotOptimize(md);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * b.total));
}

// {files, size}: 2048 x 4 KiB; 1500 files sized like the bench image's (about 8 MiB); 16 x 1 MiB.
#define SHAPES \
  Args({2048, 4096})->Args({1500, 0})->Args({16, 1 << 20})->Unit(benchmark::kMillisecond)
BENCHMARK(BM_OpenSslMd5)->SHAPES;
BENCHMARK_CAPTURE(BM_Md5Many, scalar, Md5Kernel::kScalar)->SHAPES;
BENCHMARK_CAPTURE(BM_Md5Many, avx2, Md5Kernel::kAvx2)->SHAPES;
BENCHMARK_CAPTURE(BM_Md5Many, avx512, Md5Kernel::kAvx512)->SHAPES;

}  // namespace

BENCHMARK_MAIN();
