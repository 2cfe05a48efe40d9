// Tests of elf::parse on real binaries built at test time by gcc, i686-linux-gnu-gcc, musl-gcc and
// aarch64-linux-gnu-gcc (LSB and, with -mbig-endian, MSB), and on the host's libc.so.6 and
// libstdc++.so.6, each compared with `readelf -W -h -l -d -V -n` rather than with hard-coded
// toolchain-dependent values; then on malformed files made by mutating those binaries' bytes.
#include "elf/elf.h"

#include <elf.h>  // the system's gABI structs, used only to find fields to corrupt
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/error.h"
#include "testing/compile.h"

namespace coroner::elf {
namespace {

using coroner::testing::compile;
using coroner::testing::read_file;
using coroner::testing::run_command;
using Bytes = std::vector<std::byte>;

constexpr const char* kHello = R"(#include <stdio.h>
int main(void) { puts("hello"); return 0; }
)";
constexpr const char* kHelloCxx = R"(#include <iostream>
int main() { std::cout << "hello" << std::endl; }
)";
constexpr const char* kLib = R"(int foo_old(void) { return 1; }
int foo_new(void) { return 2; }
)";
constexpr const char* kLibMap = R"(FOO_1.0 { global: foo_old; local: *; };
FOO_2.0 { global: foo_new; } FOO_1.0;
)";
constexpr const char* kUseLib = R"(int foo_new(void);
int main(void) { return foo_new(); }
)";
// Freestanding, for the big-endian aarch64 toolchain, which has no big-endian libc.
constexpr const char* kBareLib = "int foo_new(void) { return 2; }\n";
constexpr const char* kBareUse = "int foo_new(void);\nvoid _start(void) { foo_new(); }\n";

constexpr uint64_t kDf1Nodeflib = 0x800, kDf1Pie = 0x08000000;

// What readelf says about a file.
struct Readelf {
  std::string elf_class, data;
  std::optional<std::string> interp, soname, rpath, runpath;
  std::vector<std::string> needed, flags_1;
  std::vector<VersionNeed> verneed;
  std::vector<std::string> verdef;
  std::optional<std::string> abi_tag;
  uint32_t isa_needed = 0;
};

std::string between(const std::string& line, char open, char close) {
  auto a = line.find(open), b = line.rfind(close);
  if (a == std::string::npos || b == std::string::npos || b <= a) return {};
  return line.substr(a + 1, b - a - 1);
}

std::string field_after(const std::string& line, const std::string& key) {
  auto a = line.find(key);
  if (a == std::string::npos) return {};
  std::istringstream in(line.substr(a + key.size()));
  std::string word;
  in >> word;
  return word;
}

Readelf run_readelf(const std::string& path) {
  auto r = run_command({"readelf", "-W", "-h", "-l", "-d", "-V", "-n", path});
  Readelf out;
  if (!r || r->exit_code != 0) {
    ADD_FAILURE() << "readelf " << path << " failed: " << (r ? r->output : "not installed");
    return out;
  }
  enum { kNone, kNeed, kDef } mode = kNone;
  std::istringstream lines(r->output);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("Class:") != std::string::npos) out.elf_class = field_after(line, "Class:");
    if (line.find("  Data:") != std::string::npos) out.data = line.substr(line.find(',') + 2);
    if (line.find("Requesting program interpreter:") != std::string::npos)
      out.interp = between(": " + field_after(line, "interpreter:"), ' ', ']');
    if (line.find("(NEEDED)") != std::string::npos) out.needed.push_back(between(line, '[', ']'));
    if (line.find("(SONAME)") != std::string::npos) out.soname = between(line, '[', ']');
    if (line.find("(RPATH)") != std::string::npos) out.rpath = between(line, '[', ']');
    if (line.find("(RUNPATH)") != std::string::npos) out.runpath = between(line, '[', ']');
    if (line.find("(FLAGS_1)") != std::string::npos) {
      std::istringstream words(line.substr(line.find("Flags:") + 6));
      for (std::string w; words >> w;) out.flags_1.push_back(w);
    }
    if (line.find("OS: Linux, ABI:") != std::string::npos) out.abi_tag = field_after(line, "ABI:");
    if (line.find("x86 ISA needed:") != std::string::npos) {
      if (line.find("baseline") != std::string::npos) out.isa_needed |= 1;
      if (line.find("x86-64-v2") != std::string::npos) out.isa_needed |= 2;
      if (line.find("x86-64-v3") != std::string::npos) out.isa_needed |= 4;
      if (line.find("x86-64-v4") != std::string::npos) out.isa_needed |= 8;
    }
    if (line.starts_with("Displaying notes")) mode = kNone;  // stapsdt notes also have "Name:"
    if (line.starts_with("Version needs section")) mode = kNeed;
    if (line.starts_with("Version definition section")) mode = kDef;
    if (line.starts_with("Version symbols section")) mode = kNone;
    if (mode == kNeed && line.find("File:") != std::string::npos)
      out.verneed.push_back({field_after(line, "File:"), {}});
    if (mode == kNeed && line.find("Name:") != std::string::npos && !out.verneed.empty())
      out.verneed.back().versions.push_back(field_after(line, "Name:"));
    if (mode == kDef && line.find("Rev:") != std::string::npos &&
        field_after(line, "Flags:") != "BASE" && std::stoi(field_after(line, "Index:")) > 1)
      out.verdef.push_back(field_after(line, "Name:"));
  }
  return out;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Every binary is built once for the whole suite; a failed build is recorded and reported by the
// tests that need it (with the compiler's message), so a missing toolchain fails loudly.
class ElfTest : public ::testing::Test {
 protected:
  struct Built {
    std::string path;
    std::optional<std::string> error;
  };

  struct Recipe {
    std::string compiler;
    const char* source;
    std::vector<std::string> flags;
    std::string out;                // path under dir_
    std::vector<std::string> deps;  // recipes to build first
  };

  static void SetUpTestSuite() {
    dir_ = coroner::testing::make_test_dir("elf_test");
    std::filesystem::create_directories(dir_ + "/lib");
    std::filesystem::create_directories(dir_ + "/bin");
    std::ofstream(dir_ + "/foo.map") << kLibMap;
    built_["host-libc"] = {"/lib/x86_64-linux-gnu/libc.so.6", std::nullopt};
    built_["host-libstdc++"] = {"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", std::nullopt};
  }

  // Set CORONER_KEEP_TMP=1 to keep the built binaries for a look with readelf.
  static void TearDownTestSuite() {
    const char* keep = std::getenv("CORONER_KEEP_TMP");
    if (!(keep && *keep == '1') && !dir_.empty()) std::filesystem::remove_all(dir_);
    built_.clear();
  }

  // Every binary the tests use, by name. Each is built on first use only, since ctest runs every
  // test in its own process.
  static std::map<std::string, Recipe> recipes() {
    return [] {
      const std::string map = "-Wl,--version-script," + dir_ + "/foo.map";
      const std::string lib = dir_ + "/lib/libfoo.so.1", be_lib = dir_ + "/lib/libbe.so.1";
      const std::string be = "-mbig-endian", a64 = "aarch64-linux-gnu-gcc";
      std::map<std::string, Recipe> m;
      m["gcc-pie"] = {"gcc", kHello, {"-fPIE", "-pie"}, "gcc-pie", {}};
      m["gcc-no-pie"] = {"gcc", kHello, {"-no-pie"}, "gcc-no-pie", {}};
      m["gcc-static"] = {"gcc", kHello, {"-static"}, "gcc-static", {}};
      m["gcc-static-pie"] = {"gcc", kHello, {"-static-pie"}, "gcc-static-pie", {}};
      m["g++"] = {"g++", kHelloCxx, {}, "g++", {}};
      m["i686"] = {"i686-linux-gnu-gcc", kHello, {}, "i686", {}};
      m["musl-dynamic"] = {"musl-gcc", kHello, {}, "musl-dynamic", {}};
      m["musl-static"] = {"musl-gcc", kHello, {"-static"}, "musl-static", {}};
      m["aarch64"] = {a64, kHello, {}, "aarch64", {}};
      m["nodeflib"] = {"gcc", kHello, {"-Wl,-z,nodefaultlib"}, "nodeflib", {}};
      m["libfoo"] = {
          "gcc", kLib, {"-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", map}, "lib/libfoo.so.1", {}};
      m["use-rpath"] = {"gcc",
                        kUseLib,
                        {lib, "-Wl,-rpath,$ORIGIN/../lib", "-Wl,--disable-new-dtags"},
                        "bin/use-rpath",
                        {"libfoo"}};
      m["use-runpath"] = {"gcc",
                          kUseLib,
                          {lib, "-Wl,-rpath,$ORIGIN/../lib", "-Wl,--enable-new-dtags"},
                          "bin/use-runpath",
                          {"libfoo"}};
      m["be-lib"] = {a64,
                     kBareLib,
                     {be, "-nostdlib", "-shared", "-fPIC", "-Wl,-soname,libbe.so.1", map},
                     "lib/libbe.so.1",
                     {}};
      m["be-exe"] = {a64,
                     kBareUse,
                     {be, "-nostdlib", "-Wl,-dynamic-linker,/lib/ld-linux-aarch64_be.so.1", be_lib},
                     "be-exe",
                     {"be-lib"}};
      return m;
    }();
  }

  // Builds `name` (and what it links against) unless done already.
  static const Built& ensure(const std::string& name) {
    if (auto it = built_.find(name); it != built_.end()) return it->second;
    const Recipe r = recipes().at(name);
    for (const std::string& dep : r.deps) {
      if (const Built& d = ensure(dep); d.error) return built_[name] = {"", d.error};
    }
    std::string out = dir_ + "/" + r.out;
    return built_[name] = {out, compile(r.compiler, r.source, r.flags, out)};
  }

  static std::vector<std::string> all_names() {
    std::vector<std::string> names{"host-libc", "host-libstdc++"};
    for (const auto& [name, recipe] : recipes()) names.push_back(name);
    return names;
  }

  // The file's bytes, or a test failure naming why it was not built.
  static Bytes bytes_of(const std::string& name) {
    const Built& b = ensure(name);
    if (b.error) {
      ADD_FAILURE() << name << " was not built: " << *b.error;
      return {};
    }
    Bytes out = read_file(b.path);
    if (out.empty()) ADD_FAILURE() << "cannot read " << b.path;
    return out;
  }
  static std::string path_of(const std::string& name) { return ensure(name).path; }

  static inline std::string dir_;
  static inline std::map<std::string, Built> built_;
};

// Parses `name` and checks every field readelf also reports.
void expect_matches_readelf(const std::string& path, const Bytes& file, const ElfInfo& info) {
  SCOPED_TRACE(path);
  Readelf want = run_readelf(path);
  EXPECT_EQ(want.elf_class, info.ei_class == 2 ? "ELF64" : "ELF32");
  EXPECT_EQ(want.data, info.ei_data == 1 ? "little endian" : "big endian");
  EXPECT_EQ(want.interp, info.interp);
  EXPECT_EQ(want.needed, info.needed);
  EXPECT_EQ(want.soname, info.soname);
  EXPECT_EQ(want.rpath, info.rpath);
  EXPECT_EQ(want.runpath, info.runpath);
  EXPECT_EQ(has(want.flags_1, "PIE"), (info.dt_flags_1 & kDf1Pie) != 0);
  EXPECT_EQ(has(want.flags_1, "NODEFLIB"), (info.dt_flags_1 & kDf1Nodeflib) != 0);
  ASSERT_EQ(want.verneed.size(), info.verneed.size());
  for (size_t i = 0; i < want.verneed.size(); ++i) {
    EXPECT_EQ(want.verneed[i].file, info.verneed[i].file);
    EXPECT_EQ(want.verneed[i].versions, info.verneed[i].versions);
  }
  EXPECT_EQ(want.verdef, info.verdef);
  EXPECT_EQ(want.abi_tag, info.abi_tag);
  EXPECT_EQ(want.isa_needed, info.x86_isa_needed);
  EXPECT_FALSE(file.empty());
}

TEST_F(ElfTest, EveryBuiltBinaryMatchesReadelf) {
  for (const std::string& name : all_names()) {
    SCOPED_TRACE(name);
    Bytes file = bytes_of(name);
    if (file.empty()) continue;
    ElfInfo info;
    ASSERT_NO_THROW(info = parse(file));
    expect_matches_readelf(path_of(name), file, info);
  }
}

TEST_F(ElfTest, DynamicPieHasInterpAndLibc) {
  ElfInfo info = parse(bytes_of("gcc-pie"));
  EXPECT_EQ(info.ei_class, 2);
  EXPECT_EQ(info.e_machine, 62);
  EXPECT_EQ(info.e_type, 3);  // ET_DYN
  EXPECT_TRUE(info.interp.has_value());
  EXPECT_TRUE(has(info.needed, "libc.so.6"));
  EXPECT_TRUE(info.dt_flags_1 & kDf1Pie);
  EXPECT_FALSE(info.is_static());
  EXPECT_FALSE(info.is_static_pie());
  ASSERT_FALSE(info.verneed.empty());
  EXPECT_EQ(info.verneed[0].file, "libc.so.6");
}

TEST_F(ElfTest, NoPieIsExecType) {
  ElfInfo info = parse(bytes_of("gcc-no-pie"));
  EXPECT_EQ(info.e_type, 2);  // ET_EXEC
  EXPECT_TRUE(info.interp.has_value());
  EXPECT_FALSE(info.dt_flags_1 & kDf1Pie);
}

TEST_F(ElfTest, StaticHasNoInterpNorDynamic) {
  for (const char* name : {"gcc-static", "musl-static"}) {
    SCOPED_TRACE(name);
    ElfInfo info = parse(bytes_of(name));
    EXPECT_TRUE(info.is_static());
    EXPECT_FALSE(info.is_static_pie());
    EXPECT_FALSE(info.has_dynamic);
    EXPECT_TRUE(info.needed.empty());
  }
}

TEST_F(ElfTest, StaticPieIsDetected) {
  ElfInfo info = parse(bytes_of("gcc-static-pie"));
  EXPECT_TRUE(info.is_static());
  EXPECT_TRUE(info.is_static_pie());
  EXPECT_TRUE(info.has_dynamic);
}

TEST_F(ElfTest, I686IsElf32Lsb) {
  ElfInfo info = parse(bytes_of("i686"));
  EXPECT_EQ(info.ei_class, 1);
  EXPECT_EQ(info.ei_data, 1);
  EXPECT_EQ(info.e_machine, 3);
  EXPECT_EQ(machine_name(info.e_machine), "i386");
  EXPECT_EQ(info.interp, "/lib/ld-linux.so.2");
  EXPECT_TRUE(has(info.needed, "libc.so.6"));
}

// ELF32 comes from i686-linux-gnu-gcc above: Debian's gcc-multilib (gcc -m32) conflicts with
// gcc-aarch64-linux-gnu, which the ARM cases need, so it is not installed.

TEST_F(ElfTest, MuslDynamicNeedsMuslLoader) {
  ElfInfo info = parse(bytes_of("musl-dynamic"));
  ASSERT_TRUE(info.interp.has_value());
  EXPECT_NE(info.interp->find("ld-musl-x86_64.so.1"), std::string::npos);
  EXPECT_TRUE(info.verneed.empty());  // musl has no symbol versioning
}

TEST_F(ElfTest, Aarch64Machine) {
  ElfInfo info = parse(bytes_of("aarch64"));
  EXPECT_EQ(info.e_machine, 183);
  EXPECT_EQ(machine_name(info.e_machine), "AArch64");
  EXPECT_EQ(info.interp, "/lib/ld-linux-aarch64.so.1");
}

TEST_F(ElfTest, BigEndianAarch64ReadsVersionsAndNeeded) {
  ElfInfo lib = parse(bytes_of("be-lib"));
  EXPECT_EQ(lib.ei_data, 2);
  EXPECT_EQ(lib.soname, "libbe.so.1");
  EXPECT_EQ(lib.verdef, (std::vector<std::string>{"FOO_1.0", "FOO_2.0"}));
  ElfInfo exe = parse(bytes_of("be-exe"));
  EXPECT_EQ(exe.ei_data, 2);
  EXPECT_EQ(exe.interp, "/lib/ld-linux-aarch64_be.so.1");
  EXPECT_EQ(exe.needed, std::vector<std::string>{"libbe.so.1"});
  ASSERT_EQ(exe.verneed.size(), 1u);
  EXPECT_EQ(exe.verneed[0].versions, std::vector<std::string>{"FOO_2.0"});
}

TEST_F(ElfTest, SharedLibraryHasSonameAndVersionScriptVersions) {
  ElfInfo info = parse(bytes_of("libfoo"));
  EXPECT_EQ(info.soname, "libfoo.so.1");
  EXPECT_EQ(info.verdef, (std::vector<std::string>{"FOO_1.0", "FOO_2.0"}));
  EXPECT_FALSE(info.interp.has_value());
}

TEST_F(ElfTest, DisableNewDtagsWritesRpath) {
  ElfInfo info = parse(bytes_of("use-rpath"));
  EXPECT_EQ(info.rpath, "$ORIGIN/../lib");
  EXPECT_FALSE(info.runpath.has_value());
  EXPECT_TRUE(has(info.needed, "libfoo.so.1"));
}

TEST_F(ElfTest, EnableNewDtagsWritesRunpathAndNeedsFooVersion) {
  ElfInfo info = parse(bytes_of("use-runpath"));
  EXPECT_EQ(info.runpath, "$ORIGIN/../lib");
  EXPECT_FALSE(info.rpath.has_value());
  auto it = std::find_if(info.verneed.begin(), info.verneed.end(),
                         [](const VersionNeed& n) { return n.file == "libfoo.so.1"; });
  ASSERT_NE(it, info.verneed.end());
  EXPECT_EQ(it->versions, std::vector<std::string>{"FOO_2.0"});
}

TEST_F(ElfTest, NodefaultlibSetsDf1Nodeflib) {
  EXPECT_TRUE(parse(bytes_of("nodeflib")).dt_flags_1 & kDf1Nodeflib);
  EXPECT_FALSE(parse(bytes_of("gcc-pie")).dt_flags_1 & kDf1Nodeflib);
}

TEST_F(ElfTest, HostLibcDefinesGlibcVersions) {
  ElfInfo info = parse(bytes_of("host-libc"));
  EXPECT_EQ(info.soname, "libc.so.6");
  EXPECT_TRUE(has(info.verdef, "GLIBC_2.2.5"));
  EXPECT_TRUE(has(info.verdef, "GLIBC_2.34"));
  EXPECT_FALSE(has(info.verdef, "libc.so.6"));  // the VER_FLG_BASE entry names the file
  EXPECT_TRUE(info.abi_tag.has_value());
}

TEST_F(ElfTest, HostLibstdcxxDefinesGlibcxxAndNeedsGlibc) {
  ElfInfo info = parse(bytes_of("host-libstdc++"));
  EXPECT_TRUE(has(info.verdef, "GLIBCXX_3.4"));
  EXPECT_TRUE(has(info.verdef, "GLIBCXX_3.4.30"));
  EXPECT_TRUE(has(info.verdef, "CXXABI_1.3"));
  auto libc = std::find_if(info.verneed.begin(), info.verneed.end(),
                           [](const VersionNeed& n) { return n.file == "libc.so.6"; });
  ASSERT_NE(libc, info.verneed.end());
  EXPECT_TRUE(has(libc->versions, "GLIBC_2.2.5"));
}

TEST(ElfBasics, IsElfChecksMagic) {
  std::string good =
      "\x7f"
      "ELF\x02\x01";
  EXPECT_TRUE(is_elf(coroner::as_bytes(good)));
  EXPECT_FALSE(
      is_elf(coroner::as_bytes(std::string_view("\x7f"
                                                "EL"))));
  EXPECT_FALSE(is_elf(coroner::as_bytes(std::string_view("#!/bin/sh\n"))));
  EXPECT_FALSE(is_elf({}));
}

TEST(ElfBasics, MachineNames) {
  EXPECT_EQ(machine_name(62), "x86-64");
  EXPECT_EQ(machine_name(183), "AArch64");
  EXPECT_EQ(machine_name(40), "ARM");
  EXPECT_EQ(machine_name(3), "i386");
  EXPECT_EQ(machine_name(243), "RISC-V");
  EXPECT_EQ(machine_name(21), "PowerPC64");
  EXPECT_EQ(machine_name(22), "s390");
  EXPECT_EQ(machine_name(8), "MIPS");
  EXPECT_EQ(machine_name(258), "LoongArch");
  EXPECT_EQ(machine_name(0x1234), "machine 0x1234");
}

TEST(ElfBasics, NotElfAndEmptyAreErrors) {
  EXPECT_THROW(parse({}), Error);
  EXPECT_THROW(parse(coroner::as_bytes(std::string_view("#!/bin/sh\necho hi\n"))), Error);
}

// ---- Malformed files, made by mutating a real LSB ELF64 binary. ----

template <typename T>
T get(const Bytes& b, uint64_t off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}
template <typename T>
void put(Bytes& b, uint64_t off, T v) {
  std::memcpy(b.data() + off, &v, sizeof v);
}

uint64_t phdr_at(const Bytes& b, size_t i) {
  return get<Elf64_Ehdr>(b, 0).e_phoff + i * sizeof(Elf64_Phdr);
}
size_t phnum(const Bytes& b) { return get<Elf64_Ehdr>(b, 0).e_phnum; }
std::optional<size_t> find_phdr(const Bytes& b, uint32_t type) {
  for (size_t i = 0; i < phnum(b); ++i)
    if (get<Elf64_Phdr>(b, phdr_at(b, i)).p_type == type) return i;
  return std::nullopt;
}
uint64_t vaddr_to_off(const Bytes& b, uint64_t vaddr) {
  for (size_t i = 0; i < phnum(b); ++i) {
    auto p = get<Elf64_Phdr>(b, phdr_at(b, i));
    if (p.p_type == PT_LOAD && vaddr >= p.p_vaddr && vaddr < p.p_vaddr + p.p_filesz)
      return p.p_offset + (vaddr - p.p_vaddr);
  }
  ADD_FAILURE() << "vaddr not mapped";
  return 0;
}
// File offset of the Elf64_Dyn with `tag` (the first one).
std::optional<uint64_t> find_dyn(const Bytes& b, int64_t tag) {
  auto i = find_phdr(b, PT_DYNAMIC);
  if (!i) return std::nullopt;
  auto p = get<Elf64_Phdr>(b, phdr_at(b, *i));
  for (uint64_t off = p.p_offset; off + 16 <= p.p_offset + p.p_filesz; off += 16) {
    auto d = get<Elf64_Dyn>(b, off);
    if (d.d_tag == tag) return off;
    if (d.d_tag == DT_NULL) break;
  }
  return std::nullopt;
}
uint64_t dyn_val(const Bytes& b, int64_t tag) {
  auto off = find_dyn(b, tag);
  if (!off) ADD_FAILURE() << "no dynamic tag " << tag;
  return off ? get<Elf64_Dyn>(b, *off).d_un.d_val : 0;
}
void set_dyn(Bytes& b, int64_t tag, uint64_t val) {
  auto off = find_dyn(b, tag);
  ASSERT_TRUE(off.has_value()) << "no dynamic tag " << tag;
  put<uint64_t>(b, *off + 8, val);
}

// Parses and expects an Error whose message starts with "ELF: " and contains `needle`.
void expect_error(const Bytes& b, const std::string& needle = {}) {
  try {
    parse(b);
    ADD_FAILURE() << "no Error (wanted: " << needle << ")";
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_TRUE(msg.starts_with("ELF: ")) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST_F(ElfTest, TruncatedAtEveryOffsetIsAnError) {
  for (const char* name : {"gcc-pie", "use-runpath", "libfoo", "i686", "be-exe", "musl-dynamic"}) {
    SCOPED_TRACE(name);
    Bytes full = bytes_of(name);
    ASSERT_NO_THROW(parse(full));
    int parsed = 0;
    for (size_t n = 0; n < full.size(); ++n) {
      try {
        parse(std::span(full).first(n));
        ++parsed;
      } catch (const Error& e) {
        ASSERT_TRUE(std::string_view(e.what()).starts_with("ELF: ")) << e.what();
      }
    }
    EXPECT_EQ(parsed, 0);
  }
}

TEST_F(ElfTest, HeaderOnlyFileNamesTheProgramHeaders) {
  Bytes b = bytes_of("gcc-pie");
  b.resize(64);
  expect_error(b, "exceeds size 0x40");
}

TEST_F(ElfTest, HugeEPhoffOrEPhnumIsAnError) {
  Bytes orig = bytes_of("gcc-pie");
  Bytes b = orig;
  put<uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), ~uint64_t{0} - 8);
  expect_error(b, "program headers");
  b = orig;
  put<uint64_t>(b, offsetof(Elf64_Ehdr, e_phoff), b.size());
  expect_error(b, "program headers");
  b = orig;
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), 0xfffe);
  expect_error(b, "program headers");
}

TEST_F(ElfTest, WrongEntrySizesAndIdentAreErrors) {
  Bytes orig = bytes_of("gcc-pie");
  Bytes b = orig;
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phentsize), 32);
  expect_error(b, "e_phentsize 32 should be 56");
  b = orig;
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_shentsize), 40);
  expect_error(b, "e_shentsize 40 should be 64");
  b = orig;
  b[4] = std::byte{3};
  expect_error(b, "EI_CLASS");
  b = orig;
  b[5] = std::byte{0};
  expect_error(b, "EI_DATA");
  b = orig;
  b[6] = std::byte{2};
  expect_error(b, "EI_VERSION");
}

TEST_F(ElfTest, PnXnumTakesTheCountFromSectionZero) {
  Bytes b = bytes_of("use-runpath");
  ElfInfo want = parse(b);
  auto eh = get<Elf64_Ehdr>(b, 0);
  put<uint16_t>(b, offsetof(Elf64_Ehdr, e_phnum), PN_XNUM);
  put<uint32_t>(b, eh.e_shoff + offsetof(Elf64_Shdr, sh_info), eh.e_phnum);
  ElfInfo got = parse(b);
  EXPECT_EQ(got.needed, want.needed);
  EXPECT_EQ(got.interp, want.interp);
  EXPECT_EQ(got.runpath, want.runpath);

  put<uint32_t>(b, eh.e_shoff + offsetof(Elf64_Shdr, sh_info), 0xffffffff);
  expect_error(b, "program headers");
  put<uint64_t>(b, offsetof(Elf64_Ehdr, e_shoff), 0);
  expect_error(b, "PN_XNUM");
}

TEST_F(ElfTest, HugeSegmentOffsetsAndSizesAreErrors) {
  Bytes orig = bytes_of("gcc-pie");
  for (uint32_t type : {PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE}) {
    SCOPED_TRACE(type);
    auto i = find_phdr(orig, type);
    ASSERT_TRUE(i.has_value());
    uint64_t ph = phdr_at(orig, *i);
    for (uint64_t v : {uint64_t{0xffffffffffffff00}, uint64_t{orig.size()}, uint64_t{1} << 40}) {
      Bytes b = orig;
      put<uint64_t>(b, ph + offsetof(Elf64_Phdr, p_offset), v);
      if (type == PT_LOAD || v != orig.size()) expect_error(b, "program header");
      b = orig;
      put<uint64_t>(b, ph + offsetof(Elf64_Phdr, p_filesz), v);
      uint64_t p_offset = get<Elf64_Phdr>(orig, ph).p_offset;
      if (v > orig.size() - p_offset) expect_error(b);
    }
  }
}

TEST_F(ElfTest, StrtabOutsideEveryLoadIsAnError) {
  Bytes b = bytes_of("gcc-pie");
  set_dyn(b, DT_STRTAB, 0xdead0000000);
  expect_error(b, "DT_STRTAB address 0xdead0000000 is outside every PT_LOAD");
}

TEST_F(ElfTest, StringsMustLieWithinStrsz) {
  Bytes orig = bytes_of("gcc-pie");
  Bytes b = orig;
  set_dyn(b, DT_STRSZ, 0x7fffffffffff);
  expect_error(b, "DT_STRSZ");
  b = orig;
  set_dyn(b, DT_STRSZ, 1);
  expect_error(b, "DT_NEEDED string");
  b = orig;
  set_dyn(b, DT_NEEDED, 0xffffffff);
  expect_error(b, "DT_NEEDED string at DT_STRTAB+0xffffffff");
}

TEST_F(ElfTest, UnterminatedStringAtStrtabEndIsAnError) {
  Bytes b = bytes_of("gcc-pie");
  uint64_t strtab = vaddr_to_off(b, dyn_val(b, DT_STRTAB));
  uint64_t strsz = dyn_val(b, DT_STRSZ);
  // Turn every NUL of the table into 'x': no string ends inside DT_STRSZ any more.
  for (uint64_t i = 0; i < strsz; ++i)
    if (b[strtab + i] == std::byte{0}) b[strtab + i] = std::byte{'x'};
  expect_error(b, "unterminated");
}

TEST_F(ElfTest, UnterminatedInterpIsAnError) {
  Bytes b = bytes_of("gcc-pie");
  auto p = get<Elf64_Phdr>(b, phdr_at(b, *find_phdr(b, PT_INTERP)));
  b[p.p_offset + p.p_filesz - 1] = std::byte{'x'};
  expect_error(b, "PT_INTERP");
}

TEST_F(ElfTest, VerneedChainThatLoopsIsAnError) {
  Bytes orig = bytes_of("use-runpath");
  ASSERT_GE(dyn_val(orig, DT_VERNEEDNUM), 2u);
  uint64_t vn = vaddr_to_off(orig, dyn_val(orig, DT_VERNEED));
  // vn_next = 0 on the first record: a count-driven reader would read record 0 again and again.
  Bytes b = orig;
  put<uint32_t>(b, vn + offsetof(Elf64_Verneed, vn_next), 0);
  expect_error(b, "vn_next chain ends after 1 of DT_VERNEEDNUM");
  // The same for the Vernaux chain of the first record with two or more versions.
  b = orig;
  bool found = false;
  for (uint64_t off = vn;;) {
    auto rec = get<Elf64_Verneed>(b, off);
    if (rec.vn_cnt >= 2) {
      put<uint32_t>(b, off + rec.vn_aux + offsetof(Elf64_Vernaux, vna_next), 0);
      found = true;
      break;
    }
    if (rec.vn_next == 0) break;
    off += rec.vn_next;
  }
  ASSERT_TRUE(found) << "no Verneed with two versions";
  expect_error(b, "vna_next chain ends");
  // Counts that cannot fit the bytes left are refused before any loop.
  b = orig;
  put<uint16_t>(b, vn + offsetof(Elf64_Verneed, vn_cnt), 0xffff);
  expect_error(b, "vn_cnt 65535 does not fit");
  b = orig;
  set_dyn(b, DT_VERNEEDNUM, 0xffffffffffff);
  expect_error(b, "DT_VERNEEDNUM");
  b = orig;
  set_dyn(b, DT_VERNEED, 0x10);
  expect_error(b, "DT_VERNEED");
  b = orig;
  put<uint16_t>(b, vn + offsetof(Elf64_Verneed, vn_version), 7);
  expect_error(b, "vn_version 7");
}

TEST_F(ElfTest, VerdefChainThatLoopsIsAnError) {
  Bytes orig = bytes_of("libfoo");
  uint64_t vd = vaddr_to_off(orig, dyn_val(orig, DT_VERDEF));
  Bytes b = orig;
  put<uint32_t>(b, vd + offsetof(Elf64_Verdef, vd_next), 0);
  expect_error(b, "vd_next chain ends after 1 of DT_VERDEFNUM");
  b = orig;
  set_dyn(b, DT_VERDEFNUM, 0x100000000);
  expect_error(b, "DT_VERDEFNUM");
  b = orig;
  put<uint16_t>(b, vd + offsetof(Elf64_Verdef, vd_cnt), 0xffff);
  expect_error(b, "vd_cnt");
}

// Many dynamic entries naming one long string: the bytes copied out are budgeted, so a small
// file cannot make the parser copy gigabytes.
TEST_F(ElfTest, StringBytesAreBudgeted) {
  std::string rsp = dir_ + "/long-runpath.rsp";
  std::ofstream(rsp) << "-rpath /" << std::string(400000, 'a') << "\n";
  std::string out = dir_ + "/long-runpath.so";
  ASSERT_EQ(compile("gcc", kLib, {"-shared", "-fPIC", "-Wl,@" + rsp}, out), std::nullopt);
  Bytes b = read_file(out);
  ASSERT_EQ(parse(b).runpath->size(), 400001u);  // one copy is fine

  uint64_t runpath = dyn_val(b, DT_RUNPATH);
  auto p = get<Elf64_Phdr>(b, phdr_at(b, *find_phdr(b, PT_DYNAMIC)));
  int n = 0;
  for (uint64_t off = p.p_offset; off + 16 <= p.p_offset + p.p_filesz; off += 16) {
    int64_t tag = get<int64_t>(b, off);
    if (tag == DT_NULL) break;
    if (tag == DT_STRTAB || tag == DT_STRSZ) continue;
    put<int64_t>(b, off, DT_NEEDED);
    put<uint64_t>(b, off + 8, runpath);
    ++n;
  }
  ASSERT_GE(n, 11);  // 11 x 400 KB > 4 MiB
  expect_error(b, "strings read from DT_STRTAB exceed");
}

// Rewrites an LSB file as MSB: every field elf::parse reads is byte-swapped (header, program
// headers, dynamic entries, GNU notes, verneed and verdef records). No toolchain here emits ELF32
// MSB, so this is how the ELF32 MSB layout is tested against real i686 output.
template <typename T>
void swap_at(Bytes& b, uint64_t off) {
  std::reverse(b.begin() + off, b.begin() + off + sizeof(T));
}

Bytes to_msb(Bytes b) {
  const bool is64 = b[4] == std::byte{2};
  const uint64_t w = is64 ? 8 : 4;
  auto word = [&](uint64_t off) { return is64 ? get<uint64_t>(b, off) : get<uint32_t>(b, off); };
  auto swap_word = [&](uint64_t off) {
    is64 ? swap_at<uint64_t>(b, off) : swap_at<uint32_t>(b, off);
  };
  const uint64_t phoff = word(24 + w), phentsize = get<uint16_t>(b, 24 + 3 * w + 6),
                 phcount = get<uint16_t>(b, 24 + 3 * w + 8);
  std::vector<std::array<uint64_t, 5>> phdrs;  // type, offset, vaddr, filesz, align (LSB values)
  for (uint64_t i = 0; i < phcount; ++i) {
    uint64_t ph = phoff + i * phentsize;
    if (is64) {
      phdrs.push_back({get<uint32_t>(b, ph), get<uint64_t>(b, ph + 8), get<uint64_t>(b, ph + 16),
                       get<uint64_t>(b, ph + 32), get<uint64_t>(b, ph + 48)});
      swap_at<uint32_t>(b, ph);
      swap_at<uint32_t>(b, ph + 4);
      for (uint64_t f = 8; f < 56; f += 8) swap_at<uint64_t>(b, ph + f);
    } else {
      phdrs.push_back({get<uint32_t>(b, ph), get<uint32_t>(b, ph + 4), get<uint32_t>(b, ph + 8),
                       get<uint32_t>(b, ph + 16), get<uint32_t>(b, ph + 28)});
      for (uint64_t f = 0; f < 32; f += 4) swap_at<uint32_t>(b, ph + f);
    }
  }
  auto to_off = [&](uint64_t vaddr) {
    for (const auto& p : phdrs)
      if (p[0] == PT_LOAD && vaddr >= p[2] && vaddr < p[2] + p[3]) return p[1] + (vaddr - p[2]);
    ADD_FAILURE() << "vaddr not mapped";
    return uint64_t{0};
  };
  uint64_t verneed = 0, verneednum = 0, verdef = 0, verdefnum = 0;
  for (const auto& p : phdrs) {
    if (p[0] == PT_DYNAMIC) {
      for (uint64_t off = p[1]; off + 2 * w <= p[1] + p[3]; off += 2 * w) {
        uint64_t tag = word(off), val = word(off + w);
        if (tag == DT_VERNEED) verneed = val;
        if (tag == DT_VERNEEDNUM) verneednum = val;
        if (tag == DT_VERDEF) verdef = val;
        if (tag == DT_VERDEFNUM) verdefnum = val;
        swap_word(off);
        swap_word(off + w);
        if (tag == DT_NULL) break;
      }
    }
    if (p[0] == PT_NOTE) {  // PT_GNU_PROPERTY is another p_type over the same bytes
      uint64_t align = p[4] == 8 ? 8 : 4;
      for (uint64_t off = p[1]; off + 12 <= p[1] + p[3];) {
        uint32_t namesz = get<uint32_t>(b, off), descsz = get<uint32_t>(b, off + 4),
                 type = get<uint32_t>(b, off + 8);
        for (uint64_t f = 0; f < 12; f += 4) swap_at<uint32_t>(b, off + f);
        uint64_t desc = (off + 12 + namesz + align - 1) & ~(align - 1);
        if (type == NT_GNU_ABI_TAG || type == NT_GNU_PROPERTY_TYPE_0)
          for (uint64_t f = 0; f + 4 <= descsz; f += 4) swap_at<uint32_t>(b, desc + f);
        off = (desc + descsz + align - 1) & ~(align - 1);
      }
    }
  }
  for (uint64_t i = 0, off = verneed ? to_off(verneed) : 0; i < verneednum; ++i) {
    auto vn = get<Elf64_Verneed>(b, off);  // the same layout in both classes
    for (uint64_t j = 0, aux = off + vn.vn_aux; j < vn.vn_cnt; ++j) {
      auto vna = get<Elf64_Vernaux>(b, aux);
      swap_at<uint32_t>(b, aux);
      swap_at<uint16_t>(b, aux + 4);
      swap_at<uint16_t>(b, aux + 6);
      swap_at<uint32_t>(b, aux + 8);
      swap_at<uint32_t>(b, aux + 12);
      aux += vna.vna_next;
    }
    swap_at<uint16_t>(b, off);
    swap_at<uint16_t>(b, off + 2);
    for (uint64_t f = 4; f < 16; f += 4) swap_at<uint32_t>(b, off + f);
    off += vn.vn_next;
  }
  for (uint64_t i = 0, off = verdef ? to_off(verdef) : 0; i < verdefnum; ++i) {
    auto vd = get<Elf64_Verdef>(b, off);
    for (uint64_t j = 0, aux = off + vd.vd_aux; j < vd.vd_cnt; ++j) {
      auto vda = get<Elf64_Verdaux>(b, aux);
      swap_at<uint32_t>(b, aux);
      swap_at<uint32_t>(b, aux + 4);
      aux += vda.vda_next;
    }
    for (uint64_t f = 0; f < 8; f += 2) swap_at<uint16_t>(b, off + f);
    for (uint64_t f = 8; f < 20; f += 4) swap_at<uint32_t>(b, off + f);
    off += vd.vd_next;
  }
  // The header last: the walks above read its LSB values.
  b[5] = std::byte{2};
  for (uint64_t f : {16, 18}) swap_at<uint16_t>(b, f);
  swap_at<uint32_t>(b, 20);
  for (uint64_t f = 24; f < 24 + 3 * w; f += w) swap_word(f);
  swap_at<uint32_t>(b, 24 + 3 * w);
  for (uint64_t f = 24 + 3 * w + 4; f < 24 + 3 * w + 16; f += 2) swap_at<uint16_t>(b, f);
  return b;
}

TEST_F(ElfTest, MsbCopiesParseLikeTheirLsbOriginals) {
  for (const char* name : {"i686", "gcc-pie", "use-runpath", "libfoo", "host-libc"}) {
    SCOPED_TRACE(name);
    Bytes lsb = bytes_of(name);
    ElfInfo want = parse(lsb), got;
    ASSERT_NO_THROW(got = parse(to_msb(lsb)));
    EXPECT_EQ(got.ei_data, 2);
    EXPECT_EQ(got.ei_class, want.ei_class);
    EXPECT_EQ(got.e_machine, want.e_machine);
    EXPECT_EQ(got.e_type, want.e_type);
    EXPECT_EQ(got.interp, want.interp);
    EXPECT_EQ(got.needed, want.needed);
    EXPECT_EQ(got.soname, want.soname);
    EXPECT_EQ(got.runpath, want.runpath);
    EXPECT_EQ(got.dt_flags_1, want.dt_flags_1);
    ASSERT_EQ(got.verneed.size(), want.verneed.size());
    for (size_t i = 0; i < want.verneed.size(); ++i) {
      EXPECT_EQ(got.verneed[i].file, want.verneed[i].file);
      EXPECT_EQ(got.verneed[i].versions, want.verneed[i].versions);
    }
    EXPECT_EQ(got.verdef, want.verdef);
    EXPECT_EQ(got.abi_tag, want.abi_tag);
    EXPECT_EQ(got.x86_isa_needed, want.x86_isa_needed);
  }
}

TEST_F(ElfTest, Elf32MsbTruncatedAtEveryOffsetIsAnError) {
  Bytes full = to_msb(bytes_of("i686"));
  ASSERT_NO_THROW(parse(full));
  for (size_t n = 0; n < full.size(); ++n)
    EXPECT_THROW(parse(std::span(full).first(n)), Error) << n;
}

// Random byte flips in the headers and dynamic data: each parse returns or throws Error, never
// anything else (under ASan/UBSan in the sanitizer job, never a crash).
TEST_F(ElfTest, RandomCorruptionIsAnErrorOrAResult) {
  Bytes orig = bytes_of("use-runpath");
  std::mt19937 rng(42);
  uint64_t limit = std::min<uint64_t>(orig.size(), 0x1000);
  int errors = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    Bytes b = orig;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) b[rng() % limit] = static_cast<std::byte>(rng());
    try {
      parse(b);
    } catch (const Error&) {
      ++errors;
    }
  }
  EXPECT_GT(errors, 0);
}

// ---- GNU notes, from ELF files built byte by byte: one PT_NOTE (or PT_GNU_PROPERTY). ----

// Appends a 32-bit little-endian word.
void word(Bytes& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

// A note: namesz, descsz, type, name (padded to `align`), desc words (padded to `align`).
Bytes note(uint32_t type, std::string_view name, const std::vector<uint32_t>& desc,
           uint64_t align = 4) {
  Bytes b;
  word(b, static_cast<uint32_t>(name.size()));
  word(b, static_cast<uint32_t>(desc.size() * 4));
  word(b, type);
  for (char c : name) b.push_back(static_cast<std::byte>(c));
  while (b.size() % align) b.push_back(std::byte{0});
  for (uint32_t w : desc) word(b, w);
  while (b.size() % align) b.push_back(std::byte{0});
  return b;
}
const std::string_view kGnu("GNU\0", 4);

// ELF64 LSB ET_EXEC x86-64: header, one program header of `p_type` over `notes`, then `tail`.
Bytes elf_with_notes(const Bytes& notes, uint64_t p_align = 4, uint32_t p_type = PT_NOTE,
                     std::string_view tail = {}) {
  Bytes b(64 + 56, std::byte{0});
  const char ident[] = {'\x7f', 'E', 'L', 'F', 2, 1, 1};
  std::memcpy(b.data(), ident, sizeof ident);
  put<uint16_t>(b, 16, 2);   // ET_EXEC
  put<uint16_t>(b, 18, 62);  // EM_X86_64
  put<uint32_t>(b, 20, 1);
  put<uint64_t>(b, 32, 64);  // e_phoff
  put<uint16_t>(b, 52, 64);  // e_ehsize
  put<uint16_t>(b, 54, 56);  // e_phentsize
  put<uint16_t>(b, 56, 1);   // e_phnum
  put<uint32_t>(b, 64, p_type);
  put<uint64_t>(b, 64 + 8, 120);  // p_offset
  put<uint64_t>(b, 64 + 32, notes.size());
  put<uint64_t>(b, 64 + 40, notes.size());
  put<uint64_t>(b, 64 + 48, p_align);
  b.insert(b.end(), notes.begin(), notes.end());
  for (char c : tail) b.push_back(static_cast<std::byte>(c));
  return b;
}

Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

constexpr uint32_t kIsaNeeded = 0xc0008002, kIsaUsed = 0xc0010002;

TEST(ElfNotes, AbiTagGivesTheMinimumKernel) {
  ElfInfo info = parse(elf_with_notes(note(NT_GNU_ABI_TAG, kGnu, {0, 3, 2, 0})));
  EXPECT_EQ(info.abi_tag, "3.2.0");
  EXPECT_EQ(info.x86_isa_needed, 0u);
}

TEST(ElfNotes, FirstAbiTagWinsAsInGlibcsOpenVerify) {
  // crt1.o's note comes first in a static link; a second, hand-written one is not what glibc
  // compares.
  ElfInfo info = parse(elf_with_notes(
      cat({note(NT_GNU_ABI_TAG, kGnu, {0, 3, 2, 0}), note(NT_GNU_ABI_TAG, kGnu, {0, 9, 0, 0})})));
  EXPECT_EQ(info.abi_tag, "3.2.0");
}

TEST(ElfNotes, AbiTagOfOtherOsOrVendorOrSizeIsIgnored) {
  EXPECT_FALSE(parse(elf_with_notes(note(NT_GNU_ABI_TAG, kGnu, {3, 12, 0, 0}))).abi_tag);
  EXPECT_FALSE(
      parse(elf_with_notes(note(NT_GNU_ABI_TAG, std::string_view("XYZ\0", 4), {0, 9, 0, 0})))
          .abi_tag);
  EXPECT_FALSE(parse(elf_with_notes(note(NT_GNU_ABI_TAG, kGnu, {0, 9, 0, 0, 0}))).abi_tag);
  // A build-id before the tag is skipped.
  ElfInfo info = parse(elf_with_notes(
      cat({note(3, kGnu, {1, 2, 3, 4, 5}), note(NT_GNU_ABI_TAG, kGnu, {0, 4, 19, 7})})));
  EXPECT_EQ(info.abi_tag, "4.19.7");
}

TEST(ElfNotes, IsaNeededFromGnuPropertyNote) {
  // pr_type, pr_datasz 4, data, padded to 8 on ELF64: baseline + v3 needed, v4 used.
  Bytes n = note(NT_GNU_PROPERTY_TYPE_0, kGnu, {kIsaUsed - 1, 4, 0xf, 0, kIsaNeeded, 4, 0x5, 0}, 8);
  for (uint32_t type : {uint32_t{PT_NOTE}, uint32_t{0x6474e553}}) {  // PT_GNU_PROPERTY
    SCOPED_TRACE(type);
    ElfInfo info = parse(elf_with_notes(n, 8, type));
    EXPECT_EQ(info.x86_isa_needed, 0x5u);
    EXPECT_FALSE(info.abi_tag);
  }
}

TEST(ElfNotes, IsaUsedIsNotNeeded) {
  ElfInfo info =
      parse(elf_with_notes(note(NT_GNU_PROPERTY_TYPE_0, kGnu, {kIsaUsed, 4, 0xf, 0}, 8), 8));
  EXPECT_EQ(info.x86_isa_needed, 0u);
}

TEST(ElfNotes, TruncatedNotesAreErrors) {
  Bytes full = elf_with_notes(note(NT_GNU_PROPERTY_TYPE_0, kGnu, {kIsaNeeded, 4, 0x9, 0}, 8), 8);
  ASSERT_EQ(parse(full).x86_isa_needed, 0x9u);
  // p_filesz past the end of the file, then a note whose descsz runs past p_filesz.
  for (size_t n = 120; n < full.size(); ++n)
    EXPECT_THROW(parse(std::span(full).first(n)), Error) << n;
  Bytes bad = full;
  put<uint32_t>(bad, 120 + 4, 64);  // descsz 64 in a 32-byte segment
  EXPECT_THROW(parse(bad), Error);
  Bytes huge = full;
  put<uint32_t>(huge, 120, 0xfffffff0);  // namesz
  EXPECT_THROW(parse(huge), Error);
}

TEST(ElfNotes, PropertyWithAnOddSizeIsSkipped) {
  // pr_datasz 2 for ISA_1_NEEDED: glibc stops reading the note; nothing is recorded.
  ElfInfo info =
      parse(elf_with_notes(note(NT_GNU_PROPERTY_TYPE_0, kGnu, {kIsaNeeded, 2, 0x9, 0}, 8), 8));
  EXPECT_EQ(info.x86_isa_needed, 0u);
}

TEST(ElfNotes, StaticProgramWithGlibcsKernelCheckIsFlagged) {
  Bytes tag = note(NT_GNU_ABI_TAG, kGnu, {0, 3, 2, 0});
  EXPECT_TRUE(
      parse(elf_with_notes(tag, 4, PT_NOTE, "..FATAL: kernel too old\n..")).glibc_kernel_check);
  EXPECT_FALSE(parse(elf_with_notes(tag, 4, PT_NOTE, "FATAL: kernel too")).glibc_kernel_check);
}

TEST_F(ElfTest, RealStaticGlibcAndLinkerMarkers) {
  // Debian 12's glibc 2.36 dropped the kernel check: its static programs do not hold the text.
  EXPECT_FALSE(parse(bytes_of("gcc-static")).glibc_kernel_check);
  EXPECT_FALSE(parse(bytes_of("musl-static")).glibc_kernel_check);
  const std::string out = dir_ + "/v4";
  auto err = compile("gcc", kHello, {"-Wl,-z,x86-64-v4"}, out);
  ASSERT_FALSE(err) << *err;
  ElfInfo info = parse(read_file(out));
  EXPECT_EQ(info.x86_isa_needed & 0x8, 0x8u);
  expect_matches_readelf(out, read_file(out), info);
}

}  // namespace
}  // namespace coroner::elf
