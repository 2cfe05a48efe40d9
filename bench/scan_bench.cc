// Layer scan throughput against its own lower bounds, in the same run: memcpy (what reading a
// plain blob from memory costs), raw ISA-L inflate, raw zstd and SHA-256. Every benchmark
// reports bytes/second of the *uncompressed* layer, so the ratios compare directly:
//   scan_layer(plain, verify=false) vs Memcpy          target <= 1.5x
//   scan_layer(gzip,  verify=false) vs IsalInflate     target <= 1.2x
//   scan_layer(zstd,  verify=false) vs ZstdDecompress  target <= 1.2x
//   scan_layer(plain file, verify=false) vs ReadFile (read(2) from the page cache)
// verify=true adds the blob and diff_id SHA-256 (~1.2-1.8 GB/s per core with SHA-NI), hashed on
// a second thread: "CPU" is the scanning thread's time only, "Time" is wall time.
// The layer: 64 MiB, ~2700 files, 3/4 text-like (compressible), 1/4 random (incompressible).
// With CORONER_BENCH_TAR=PATH (a real layer or root tar, e.g. the cached Debian roots in
// /var/cache/coroner-tests), BM_ReadRealTar and BM_ScanRealTar compare a scan of it with reading
// it, and BM_RealTarMemory reports the bytes per entry of the LayerIndex and of the merged
// fs::Tree, and the peak RSS of the process.
#include <benchmark/benchmark.h>
#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/stream.h"
#include "fs/tree.h"
#include "scan/layer_index.h"
#include "testing/layer_builder.h"

namespace {

using coroner::testing::LayerBuilder;

constexpr size_t kLayerBytes = 64 << 20;
constexpr size_t kChunk = 1 << 20;

struct Layer {
  std::string tar, gz, zst;
  size_t files = 0;
};

const Layer& layer() {
  static const Layer l = [] {
    std::mt19937_64 rng(42);
    static const char* kWords[] = {"the ",   "layer ", "coroner ", "scan ",
                                   "entry ", "file ",  "usr/lib ", "libc.so.6 ",
                                   "=",      "\n",     "0x1f ",    "config "};
    LayerBuilder b;
    Layer out;
    size_t total = 0;
    for (size_t i = 0; total < kLayerBytes; ++i) {
      size_t size = std::min<size_t>(rng() % 32768 + (i % 50 == 0 ? 400000 : 0), 1 << 20);
      std::string content;
      content.reserve(size);
      if (i % 4 == 3) {
        while (content.size() < size) {
          uint64_t r = rng();
          content.append(reinterpret_cast<const char*>(&r), 8);
        }
      } else {
        while (content.size() < size) content += kWords[rng() % 12];
      }
      content.resize(size);
      if (i % 100 == 0) b.dir("usr/share/d" + std::to_string(i));
      b.file("usr/share/d" + std::to_string(i / 100 * 100) + "/file" + std::to_string(i),
             std::move(content));
      total += size;
      ++out.files;
    }
    out.tar = b.tar();
    out.gz = coroner::testing::gzip(out.tar, 1);
    out.zst = coroner::testing::zstd(out.tar, 3);
    return out;
  }();
  return l;
}

void BM_Memcpy(benchmark::State& state) {
  const std::string& src = layer().tar;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  for (auto _ : state) {
    for (size_t off = 0; off < src.size(); off += kChunk) {
      size_t n = std::min(kChunk, src.size() - off);
      std::memcpy(buf.get(), src.data() + off, n);
      benchmark::DoNotOptimize(buf.get());
    }
  }
  state.SetBytesProcessed(state.iterations() * src.size());
}

// The plain layer as a file in the page cache: what a docker-archive or OCI layout blob costs.
const std::string& layer_file() {
  static const std::string path = [] {
    std::string p = "/tmp/coroner_scan_bench_" + std::to_string(::getpid()) + ".tar";
    std::ofstream(p, std::ios::binary) << layer().tar;
    return p;
  }();
  return path;
}

void BM_ReadFile(benchmark::State& state) {
  std::unique_ptr<std::byte[]> buf(new std::byte[kChunk]);
  for (auto _ : state) {
    auto stream = coroner::open_file_stream(layer_file());
    while (stream->read({buf.get(), kChunk}) > 0) benchmark::DoNotOptimize(buf.get());
  }
  state.SetBytesProcessed(state.iterations() * layer().tar.size());
}

void BM_ScanLayerFile(benchmark::State& state) {
  coroner::scan::ScanOptions options;
  options.verify = state.range(0) != 0;
  for (auto _ : state) {
    auto stream = coroner::open_file_stream(layer_file());
    coroner::scan::LayerIndex index = coroner::scan::scan_layer(*stream, {}, 0, options);
    benchmark::DoNotOptimize(index.entries.data());
  }
  state.SetBytesProcessed(state.iterations() * layer().tar.size());
}

void BM_IsalInflate(benchmark::State& state) {
  const std::string& gz = layer().gz;
  std::unique_ptr<uint8_t[]> out(new uint8_t[kChunk]);
  for (auto _ : state) {
    inflate_state st;
    isal_inflate_init(&st);
    st.crc_flag = ISAL_GZIP;
    st.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(gz.data()));
    st.avail_in = static_cast<uint32_t>(gz.size());
    while (st.block_state != ISAL_BLOCK_FINISH) {
      st.next_out = out.get();
      st.avail_out = kChunk;
      if (isal_inflate(&st) != ISAL_DECOMP_OK) state.SkipWithError("inflate");
      benchmark::DoNotOptimize(out.get());
    }
  }
  state.SetBytesProcessed(state.iterations() * layer().tar.size());
}

void BM_ZstdDecompress(benchmark::State& state) {
  const std::string& zs = layer().zst;
  std::unique_ptr<char[]> out(new char[kChunk]);
  ZSTD_DStream* ds = ZSTD_createDStream();
  for (auto _ : state) {
    ZSTD_initDStream(ds);
    ZSTD_inBuffer in{zs.data(), zs.size(), 0};
    size_t r = 1;
    while (r != 0) {
      ZSTD_outBuffer o{out.get(), kChunk, 0};
      r = ZSTD_decompressStream(ds, &o, &in);
      if (ZSTD_isError(r)) state.SkipWithError("zstd");
      benchmark::DoNotOptimize(out.get());
    }
  }
  ZSTD_freeDStream(ds);
  state.SetBytesProcessed(state.iterations() * layer().tar.size());
}

void BM_Sha256(benchmark::State& state) {
  const std::string& src = layer().tar;
  for (auto _ : state) benchmark::DoNotOptimize(coroner::sha256_digest(coroner::as_bytes(src)));
  state.SetBytesProcessed(state.iterations() * src.size());
}

// Arg 0: 0 plain, 1 gzip, 2 zstd. Arg 1: verify (digests) off/on.
void BM_ScanLayer(benchmark::State& state) {
  const Layer& l = layer();
  const std::string& blob = state.range(0) == 0 ? l.tar : state.range(0) == 1 ? l.gz : l.zst;
  coroner::scan::ScanOptions options;
  options.verify = state.range(1) != 0;
  size_t entries = 0, bytes = 0;
  for (auto _ : state) {
    auto stream = coroner::open_memory_stream(coroner::as_bytes(blob), "bench");
    coroner::scan::LayerIndex index = coroner::scan::scan_layer(*stream, {}, 0, options);
    entries = index.entries.size();
    bytes = index.entries.capacity() * sizeof(coroner::scan::Entry) +
            index.arena.allocated_bytes() + index.facts.capacity() * sizeof(coroner::scan::Facts);
    benchmark::DoNotOptimize(index.entries.data());
  }
  state.SetBytesProcessed(state.iterations() * l.tar.size());
  state.counters["entries"] = static_cast<double>(entries);
  state.counters["bytes_per_entry"] = static_cast<double>(bytes) / static_cast<double>(entries);
  state.counters["sizeof_Entry"] = sizeof(coroner::scan::Entry);
}

const char* real_tar() { return std::getenv("CORONER_BENCH_TAR"); }

uint64_t file_size(const char* path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  return static_cast<uint64_t>(f.tellg());
}

void BM_ReadRealTar(benchmark::State& state) {
  if (!real_tar()) return state.SkipWithError("CORONER_BENCH_TAR is not set");
  std::unique_ptr<std::byte[]> buf(new std::byte[kChunk]);
  for (auto _ : state) {
    auto stream = coroner::open_file_stream(real_tar());
    while (stream->read({buf.get(), kChunk}) > 0) benchmark::DoNotOptimize(buf.get());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(file_size(real_tar())));
}

void BM_ScanRealTar(benchmark::State& state) {
  if (!real_tar()) return state.SkipWithError("CORONER_BENCH_TAR is not set");
  coroner::scan::ScanOptions options;
  options.verify = false;
  options.tar_fast_path = state.range(0) != 0;
  size_t entries = 0;
  for (auto _ : state) {
    auto stream = coroner::open_file_stream(real_tar());
    coroner::scan::LayerIndex index = coroner::scan::scan_layer(*stream, {}, 0, options);
    entries = index.entries.size();
    benchmark::DoNotOptimize(index.entries.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(file_size(real_tar())));
  state.counters["entries"] = static_cast<double>(entries);
}

// Heap bytes of a LayerIndex: entries, facts (and what they own), arena, captured files, notes.
size_t index_bytes(const coroner::scan::LayerIndex& l) {
  size_t b = l.entries.capacity() * sizeof(coroner::scan::Entry) + l.arena.allocated_bytes() +
             l.facts.capacity() * sizeof(coroner::scan::Facts);
  for (const coroner::scan::Facts& f : l.facts) {
    b += f.first_line.capacity() + f.elf_error.capacity();
    if (f.elf) b += sizeof(coroner::elf::ElfInfo);  // boxed (Facts holds a pointer)
    for (const auto& [k, v] : f.xattrs) b += k.capacity() + v.capacity();
  }
  for (const auto& [k, v] : l.captured) b += k.capacity() + v.capacity() + 64;
  for (const std::string& n : l.notes) b += n.capacity();
  return b;
}

// One scan and merge of the real tar: bytes per entry of the index, of the tree, and peak RSS
// (of the whole benchmark process, so run it alone: --benchmark_filter=RealTarMemory).
void BM_RealTarMemory(benchmark::State& state) {
  if (!real_tar()) return state.SkipWithError("CORONER_BENCH_TAR is not set");
  coroner::scan::ScanOptions options;
  options.verify = false;
  size_t entries = 0, ib = 0, tb = 0, largest = 0, facts = 0, elfs = 0;
  for (auto _ : state) {
    auto stream = coroner::open_file_stream(real_tar());
    std::vector<coroner::scan::LayerIndex> layers;
    layers.push_back(coroner::scan::scan_layer(*stream, {}, 0, options));
    coroner::fs::Tree tree = coroner::fs::Tree::build(layers);
    entries = layers[0].entries.size();
    ib = index_bytes(layers[0]);
    facts = layers[0].facts.size();
    elfs = static_cast<size_t>(std::count_if(layers[0].facts.begin(), layers[0].facts.end(),
                                             [](const auto& f) { return bool(f.elf); }));
    tb = tree.memory_bytes();
    for (const coroner::scan::Entry& e : layers[0].entries)
      largest = std::max<size_t>(largest, e.size);
    benchmark::DoNotOptimize(tree);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double n = static_cast<double>(entries);
  state.counters["entries"] = n;
  state.counters["index_B_per_entry"] = static_cast<double>(ib) / n;
  state.counters["tree_B_per_entry"] = static_cast<double>(tb) / n;
  state.counters["total_B_per_entry"] = static_cast<double>(ib + tb) / n;
  state.counters["largest_file_MiB"] = static_cast<double>(largest) / (1 << 20);
  state.counters["peak_rss_MiB"] = static_cast<double>(ru.ru_maxrss) / 1024;
  state.counters["facts"] = static_cast<double>(facts);
  state.counters["elf_facts"] = static_cast<double>(elfs);
  state.counters["sizeof_Facts"] = sizeof(coroner::scan::Facts);
}

}  // namespace

BENCHMARK(BM_ReadRealTar)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanRealTar)->Arg(1)->Arg(0)->ArgName("fast")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RealTarMemory)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Memcpy)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadFile)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanLayerFile)->Arg(0)->Arg(1)->ArgName("verify")->Unit(benchmark::kMillisecond);
BENCHMARK(BM_IsalInflate)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ZstdDecompress)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sha256)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScanLayer)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->ArgNames({"codec", "verify"})
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
