// Micro-benchmarks of fs/: merging ~100k entries over 3 layers (a distro base, a package layer
// that rewrites part of it, an app layer with whiteouts), and looking up / resolving paths in the
// merged Tree. Counters: nodes, bytes_per_node (Tree::memory_bytes() / node_count()).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fs/resolve.h"
#include "fs/tree.h"
#include "testing/tree_builder.h"

namespace {

using coroner::fs::Tree;
using coroner::testing::TreeBuilder;

// ~100k entries: 90k in the base (2,000 dirs of 45 files), 9k rewritten in layer 1, 1k app
// files plus whiteouts in layer 2. Paths look like "usr/share/pkgNNN/dirM/fileK".
const TreeBuilder& image() {
  static const TreeBuilder* b = [] {
    auto* tb = new TreeBuilder();
    tb->dir("usr").dir("usr/share").dir("usr/lib").symlink("lib", "usr/lib");
    for (int p = 0; p < 200; ++p) {
      std::string pkg = "usr/share/pkg" + std::to_string(p);
      tb->dir(pkg);
      for (int d = 0; d < 10; ++d) {
        std::string dir = pkg + "/dir" + std::to_string(d);
        tb->dir(dir);
        for (int f = 0; f < 45; ++f) tb->file(dir + "/file" + std::to_string(f), 1000 + f);
      }
    }
    tb->layer();
    for (int p = 0; p < 200; p += 10) {
      for (int d = 0; d < 10; ++d) {
        std::string dir = "usr/share/pkg" + std::to_string(p) + "/dir" + std::to_string(d);
        for (int f = 0; f < 45; ++f) tb->file(dir + "/file" + std::to_string(f), 2000);
      }
    }
    tb->layer();
    for (int p = 1; p < 200; p += 20) tb->whiteout("usr/share/pkg" + std::to_string(p));
    for (int f = 0; f < 1000; ++f) tb->file("lib/app/mod" + std::to_string(f) + ".so", 5000);
    return tb;
  }();
  return *b;
}

size_t entry_count() {
  size_t n = 0;
  for (const auto& l : image().layers()) n += l.entries.size();
  return n;
}

void BM_Merge(benchmark::State& state) {
  const TreeBuilder& b = image();
  size_t nodes = 0, bytes = 0;
  for (auto _ : state) {
    Tree t = b.build();
    nodes = t.node_count();
    bytes = t.memory_bytes();
    benchmark::DoNotOptimize(t);
  }
  state.counters["entries"] = static_cast<double>(entry_count());
  state.counters["nodes"] = static_cast<double>(nodes);
  state.counters["bytes_per_node"] = static_cast<double>(bytes) / static_cast<double>(nodes);
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(entry_count()));
}
BENCHMARK(BM_Merge)->Unit(benchmark::kMillisecond);

void BM_Lookup(benchmark::State& state) {
  static const Tree t = image().build();
  std::vector<std::string> paths;
  for (int i = 0; i < 1000; ++i) {
    paths.push_back("/usr/share/pkg" + std::to_string(i % 200) + "/dir" + std::to_string(i % 10) +
                    "/file" + std::to_string(i % 45));
  }
  for (auto _ : state) {
    for (const auto& p : paths) benchmark::DoNotOptimize(t.lookup(p));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(paths.size()));
}
BENCHMARK(BM_Lookup);

void BM_ResolveThroughSymlink(benchmark::State& state) {
  static const Tree t = image().build();
  std::vector<std::string> paths;
  for (int i = 0; i < 1000; ++i) paths.push_back("/lib/app/mod" + std::to_string(i) + ".so");
  for (auto _ : state) {
    for (const auto& p : paths) benchmark::DoNotOptimize(coroner::fs::resolve(t, p));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(paths.size()));
}
BENCHMARK(BM_ResolveThroughSymlink);

}  // namespace

BENCHMARK_MAIN();
