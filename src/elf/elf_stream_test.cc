// Tests of ElfStream against elf::parse over the whole file: every ELF file of this machine's
// /usr (fed in random block sizes from 1 byte to 1 MiB, with the production window sizes and with
// tiny ones that force the windowed path), programs built here by gcc, musl-gcc and
// aarch64-linux-gnu-gcc, mutated copies of them, and synthetic layouts the toolchains do not make
// (a dynamic section before its string table, tables past the prefix).
#include "elf/elf_stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "base/error.h"
#include "elf/elf.h"
#include "testing/compile.h"

namespace coroner::elf {
namespace {

using Bytes = std::vector<std::byte>;

std::string dump(const ElfInfo& i) {
  std::string s = std::to_string(i.ei_class) + "/" + std::to_string(i.ei_data) + "/" +
                  std::to_string(i.ei_osabi) + "/" + std::to_string(i.e_type) + "/" +
                  std::to_string(i.e_machine) + "/" + std::to_string(i.e_flags) +
                  " interp=" + i.interp.value_or("-") + " dyn=" + std::to_string(i.has_dynamic) +
                  " needed=";
  for (const auto& n : i.needed) s += n + ",";
  s += " soname=" + i.soname.value_or("-") + " rpath=" + i.rpath.value_or("-") +
       " runpath=" + i.runpath.value_or("-") + " flags=" + std::to_string(i.dt_flags) + "/" +
       std::to_string(i.dt_flags_1) + " verneed=";
  for (const auto& v : i.verneed) {
    s += v.file + "(";
    for (const auto& x : v.versions) s += x + ",";
    s += ")";
  }
  s += " verdef=";
  for (const auto& v : i.verdef) s += v + ",";
  s += " abi=" + i.abi_tag.value_or("-") + " isa=" + std::to_string(i.x86_isa_needed) +
       " kernel_check=" + std::to_string(i.glibc_kernel_check);
  return s;
}

// elf::parse's outcome as text: the summary or the Error.
std::string whole(std::span<const std::byte> file) {
  try {
    return dump(parse(file));
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

struct Streamed {
  std::string outcome;  // as whole(), or "not kept: ..."
  bool not_kept = false;
};

// Feeds `file` to `s` in blocks of random sizes, log-uniform in [1, max_block].
Streamed stream(ElfStream& s, std::span<const std::byte> file, std::mt19937_64& rng,
                size_t max_block = 1 << 20) {
  std::uniform_real_distribution<double> log_size(0, std::log(static_cast<double>(max_block)));
  s.reset(file.size());
  size_t at = 0;
  while (at < file.size()) {
    size_t n = static_cast<size_t>(std::exp(log_size(rng)));
    n = std::clamp<size_t>(n, 1, file.size() - at);
    s.feed(file.subspan(at, n));
    at += n;
  }
  StreamResult r = s.finish();
  if (r.info) return {dump(*r.info), false};
  if (!r.error.empty()) return {"error: " + r.error, false};
  return {"not kept: " + r.not_kept, true};
}

bool is_elf_file(const std::filesystem::path& p) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(std::filesystem::symlink_status(p, ec))) return false;
  FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) return false;
  char magic[4] = {};
  size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && std::memcmp(magic,
                               "\x7f"
                               "ELF",
                               4) == 0;
}

TEST(ElfStream, EveryElfFileOfThisMachineMatchesTheWholeFileParse) {
  std::mt19937_64 rng(42);
  ElfStream production;
  ElfStream tiny(4096, 64 << 10);      // forces windows past the first 4 KiB
  ElfStream header_only(64, 1 << 20);  // every table from a window
  size_t files = 0, windowed = 0, not_kept = 0, big = 0;
  for (const char* dir :
       {"/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/sbin", "/usr/libexec",
        "/usr/lib/i386-linux-gnu", "/usr/aarch64-linux-gnu/lib", "/usr/lib/musl", "/usr/lib/gcc"}) {
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (!is_elf_file(it->path())) continue;
      Bytes file = coroner::testing::read_file(it->path());
      if (file.empty()) continue;
      ++files;
      if (file.size() > ElfStream::kDefaultPrefix) ++big;
      SCOPED_TRACE(it->path().string());
      const std::string want = whole(file);
      Streamed got = stream(production, file, rng);
      EXPECT_EQ(got.outcome, want);  // never "not kept" on a real root
      Streamed small = stream(tiny, file, rng);
      if (small.not_kept) {
        ++not_kept;
      } else {
        EXPECT_EQ(small.outcome, want);
        if (file.size() > 4096) ++windowed;
      }
      Streamed least = stream(header_only, file, rng);
      if (!least.not_kept) {
        EXPECT_EQ(least.outcome, want);
      }
    }
  }
  std::printf("%zu ELF files (%zu over the prefix); 4 KiB prefix: %zu equal, %zu not kept\n", files,
              big, windowed, not_kept);
  EXPECT_GT(files, 500u);
  EXPECT_GT(big, 0u);  // libLLVM, dockerd: the files the windows are for
  EXPECT_GT(windowed, 100u);
}

class ElfStreamBuilt : public ::testing::Test {
 protected:
  static std::string build(const std::string& compiler, const std::vector<std::string>& flags,
                           const std::string& name) {
    static const std::string dir = coroner::testing::make_test_dir("elf_stream_test");
    const std::string out = dir + "/" + name;
    auto err = coroner::testing::compile(compiler, kSource, flags, out);
    if (err) ADD_FAILURE() << name << ": " << *err;
    return out;
  }
  static constexpr const char* kSource =
      "#include <stdio.h>\nint main(void) { puts(\"FATAL: kernel too old\"); return 0; }\n";
};

TEST_F(ElfStreamBuilt, ProgramsOfEveryToolchainMatchInAnyBlockSize) {
  struct Case {
    const char* compiler;
    std::vector<std::string> flags;
    const char* name;
  };
  const std::vector<Case> cases = {
      {"gcc", {}, "gcc-pie"},
      {"gcc", {"-no-pie"}, "gcc-no-pie"},
      {"gcc", {"-static"}, "gcc-static"},
      {"gcc", {"-static-pie"}, "gcc-static-pie"},
      {"gcc", {"-shared", "-fPIC", "-Wl,-soname,libx.so.1", "-Wl,-rpath,/opt/x"}, "libx.so"},
      {"i686-linux-gnu-gcc", {}, "i686"},
      {"i686-linux-gnu-gcc", {"-static"}, "i686-static"},
      {"musl-gcc", {}, "musl-dynamic"},
      {"musl-gcc", {"-static"}, "musl-static"},
      {"aarch64-linux-gnu-gcc", {}, "aarch64"},
      {"aarch64-linux-gnu-gcc", {"-static"}, "aarch64-static"},
  };
  std::mt19937_64 rng(7);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes file = coroner::testing::read_file(build(c.compiler, c.flags, c.name));
    ASSERT_FALSE(file.empty());
    const std::string want = whole(file);
    ASSERT_EQ(want.rfind("error", 0), std::string::npos) << want;
    // The string is in .rodata of every static program: glibc_kernel_check follows it.
    if (std::string(c.name).ends_with("static")) {
      EXPECT_NE(want.find("kernel_check=1"), std::string::npos) << want;
    }
    ElfStream production, tiny(4096, 64 << 10);
    for (size_t max_block : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
      EXPECT_EQ(stream(production, file, rng, max_block).outcome, want);
      Streamed small = stream(tiny, file, rng, max_block);
      EXPECT_FALSE(small.not_kept) << small.outcome;  // the tables of these are in the first 4 KiB
      EXPECT_EQ(small.outcome, want);
    }
  }
}

TEST_F(ElfStreamBuilt, CorruptCopiesGiveTheSameErrors) {
  Bytes orig = coroner::testing::read_file(build("gcc", {"-shared", "-fPIC"}, "libm.so"));
  ASSERT_FALSE(orig.empty());
  std::mt19937_64 rng(11);
  ElfStream production, tiny(4096, 64 << 10);
  size_t errors = 0;
  for (int round = 0; round < 3000; ++round) {
    Bytes file = orig;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      // Mostly in the headers and tables at the front, where a flip changes the parse.
      size_t limit = rng() % 4 == 0 ? file.size() : std::min<size_t>(file.size(), 2048);
      file[rng() % limit] = static_cast<std::byte>(rng());
    }
    if (rng() % 8 == 0) file.resize(rng() % file.size());
    const std::string want = whole(file);
    if (want.starts_with("error")) ++errors;
    ASSERT_EQ(stream(production, file, rng, 1 << 12).outcome, want) << "round " << round;
    Streamed small = stream(tiny, file, rng, 1 << 12);
    if (!small.not_kept) {
      ASSERT_EQ(small.outcome, want) << "round " << round;
    }
  }
  EXPECT_GT(errors, 100u);
}

// A minimal ELF64 LSB shared object: one PT_LOAD mapping the whole file at vaddr 0, a PT_DYNAMIC
// at `dyn_off` naming DT_NEEDED "libfoo.so.1" from a string table at `str_off`.
Bytes synthetic(uint64_t size, uint64_t dyn_off, uint64_t str_off) {
  Bytes f(size);
  auto put = [&](uint64_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) f[off + i] = static_cast<std::byte>(v >> (8 * i));
  };
  std::memcpy(f.data(),
              "\x7f"
              "ELF\x02\x01\x01",
              7);
  put(16, 3, 2);   // ET_DYN
  put(18, 62, 2);  // x86-64
  put(20, 1, 4);
  put(32, 64, 8);  // e_phoff
  put(52, 64, 2);  // e_ehsize
  put(54, 56, 2);  // e_phentsize
  put(56, 2, 2);   // e_phnum
  uint64_t ph = 64;
  put(ph, 1, 4);      // PT_LOAD
  put(ph + 4, 5, 4);  // PF_R | PF_X, as gold and older ld have it
  put(ph + 32, size, 8);
  put(ph + 40, size, 8);
  ph += 56;
  put(ph, 2, 4);  // PT_DYNAMIC
  put(ph + 8, dyn_off, 8);
  put(ph + 16, dyn_off, 8);
  put(ph + 32, 64, 8);
  put(ph + 40, 64, 8);
  const uint64_t dyn[] = {1, 1, 5, str_off, 10, 13, 0, 0};  // NEEDED, STRTAB, STRSZ, NULL
  for (int i = 0; i < 8; ++i) put(dyn_off + 8 * i, dyn[i], 8);
  std::memcpy(f.data() + str_off, "\0libfoo.so.1", 13);
  return f;
}

TEST(ElfStream, DynamicSectionBeforeItsStringTableKeepsTheTable) {
  Bytes file = synthetic(3 << 20, 8192, (2 << 20) + 5);
  const std::string want = whole(file);
  ASSERT_NE(want.find("needed=libfoo.so.1,"), std::string::npos) << want;
  ElfStream tiny(4096, 64 << 10);
  std::mt19937_64 rng(3);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(stream(tiny, file, rng).outcome, want);
  EXPECT_LT(tiny.kept_bytes(), 8192u);
}

TEST(ElfStream, StringTableGoneBeforeTheDynamicSectionIsNotKeptNotWrong) {
  Bytes file = synthetic(3 << 20, (2 << 20) + 8, 65536);
  const std::string want = whole(file);
  ASSERT_NE(want.find("needed=libfoo.so.1,"), std::string::npos) << want;
  ElfStream tiny(4096, 64 << 10);
  std::mt19937_64 rng(4);
  Streamed got = stream(tiny, file, rng);
  EXPECT_TRUE(got.not_kept) << got.outcome;
  EXPECT_NE(got.outcome.find("at offset 0x10000"), std::string::npos) << got.outcome;
  // A prefix that covers the table gives the answer.
  ElfStream enough(128 << 10, 64 << 10);
  EXPECT_EQ(stream(enough, file, rng).outcome, want);
}

TEST(ElfStream, KernelTooOldIsFoundAcrossEveryBlockBoundary) {
  // A static ET_EXEC: no PT_INTERP, no PT_DYNAMIC.
  Bytes file = synthetic(1 << 16, 4096, 8192);
  file[16] = std::byte{2};       // ET_EXEC
  file[64 + 56] = std::byte{6};  // the PT_DYNAMIC becomes a PT_PHDR
  const char kMsg[] = "FATAL: kernel too old";
  std::memcpy(file.data() + 40000, kMsg, sizeof kMsg - 1);
  ASSERT_NE(whole(file).find("kernel_check=1"), std::string::npos);
  ElfStream s(4096, 64 << 10);
  for (size_t split = 39990; split < 40030; ++split) {
    s.reset(file.size());
    s.feed(std::span(file).first(split));
    s.feed(std::span(file).subspan(split));
    StreamResult r = s.finish();
    ASSERT_TRUE(r.info) << r.error << r.not_kept;
    EXPECT_TRUE(r.info->glibc_kernel_check) << split;
  }
  std::mt19937_64 rng(5);
  EXPECT_EQ(stream(s, file, rng, 30).outcome, whole(file));
  file[40000 + 3] = std::byte{'x'};
  EXPECT_EQ(stream(s, file, rng, 30).outcome, whole(file));
  EXPECT_NE(whole(file).find("kernel_check=0"), std::string::npos);
}

TEST(ElfStream, KeepsBoundedBytesOfABigFile) {
  // 48 MiB, the tables at the front: the stream keeps its prefix and the dynamic section.
  Bytes file = synthetic(48 << 20, (47 << 20) + 16, 4096);
  ElfStream s;
  std::mt19937_64 rng(6);
  EXPECT_EQ(stream(s, file, rng).outcome, whole(file));
  EXPECT_LE(s.kept_bytes(), ElfStream::kDefaultPrefix + 64);
}

TEST(ElfStream, AFirstSegmentWithoutCodeIsKeptWhole) {
  // ld -z separate-code: the first PT_LOAD is read-only, the tables may run past the prefix.
  Bytes file = synthetic(1 << 20, (1 << 20) - 128, 6000);
  file[64 + 4] = std::byte{4};  // PF_R
  const std::string want = whole(file);
  ASSERT_NE(want.find("needed=libfoo.so.1,"), std::string::npos) << want;
  std::mt19937_64 rng(8);
  for (size_t max_block : {size_t{1}, size_t{100}, size_t{1} << 20}) {
    ElfStream s(4096, 64 << 10);  // the prefix grows to 8192 bytes, past the table at 6000
    EXPECT_EQ(stream(s, file, rng, max_block).outcome, want);
    EXPECT_LE(s.kept_bytes(), 8192u + 128);
  }
  file[64 + 4] = std::byte{5};  // with code: 4096 bytes, the table is gone
  ElfStream s(4096, 64 << 10);
  EXPECT_TRUE(stream(s, file, rng).not_kept);
}

}  // namespace
}  // namespace coroner::elf
