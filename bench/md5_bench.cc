// md5_many's kernels against OpenSSL's one-message-at-a-time md5, on batches shaped like the
// package files the md5 pass hashes (pkg/digest_pass): many small files and a few large ones;
// and Md5Lanes, which takes such files one after another.
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

// A layer's package files as Md5Lanes sees them: one after another, each as soon as the scan has
// it. {files, long}: `files` sized as in make_batch, with a long file (24 MiB) after every
// `files / long` of them (long 0: none), as the bench image's libraries sit among small files.
void BM_Md5Lanes(benchmark::State& state, Md5Kernel kernel) {
  auto kernels = coroner::md5_kernels();
  if (std::find(kernels.begin(), kernels.end(), kernel) == kernels.end())
    return state.SkipWithError("this CPU lacks the kernel's instructions");
  Batch b = make_batch(static_cast<size_t>(state.range(0)), 0);
  size_t every = state.range(1) ? b.bytes.size() / static_cast<size_t>(state.range(1)) : 0;
  std::vector<std::byte> long_file(24 << 20, std::byte{7});
  std::vector<std::span<const std::byte>> order;
  for (size_t i = 0; i < b.bytes.size(); ++i) {
    order.emplace_back(b.bytes[i]);
    if (every && i % every == every / 2) order.emplace_back(long_file);
  }
  size_t total = 0;
  for (const auto& o : order) total += o.size();
  size_t reported = 0;
  for (auto _ : state) {
    coroner::Md5Lanes lanes([&](size_t, const Md5Digest&) { ++reported; }, {}, kernel);
    for (size_t i = 0; i < order.size(); ++i) lanes.add(i, order[i]);
    lanes.finish();
  }
  benchmark::DoNotOptimize(reported);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * total));
}

// {files, size}: 2048 x 4 KiB; 1500 files sized like the bench image's (about 8 MiB); 16 x 1 MiB.
#define SHAPES \
  Args({2048, 4096})->Args({1500, 0})->Args({16, 1 << 20})->Unit(benchmark::kMillisecond)
BENCHMARK(BM_OpenSslMd5)->SHAPES;
BENCHMARK_CAPTURE(BM_Md5Many, scalar, Md5Kernel::kScalar)->SHAPES;
BENCHMARK_CAPTURE(BM_Md5Many, avx2, Md5Kernel::kAvx2)->SHAPES;
BENCHMARK_CAPTURE(BM_Md5Many, avx512, Md5Kernel::kAvx512)->SHAPES;
// {files, long files}: no long file; 4 long files among 1500 (104 MiB in all).
#define STREAMS Args({1500, 0})->Args({1500, 4})->Unit(benchmark::kMillisecond)
BENCHMARK_CAPTURE(BM_Md5Lanes, scalar, Md5Kernel::kScalar)->STREAMS;
BENCHMARK_CAPTURE(BM_Md5Lanes, avx512, Md5Kernel::kAvx512)->STREAMS;

}  // namespace

BENCHMARK_MAIN();
