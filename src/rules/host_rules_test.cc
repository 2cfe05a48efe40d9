#include "rules/host_rules.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "testing/tree_builder.h"

namespace coroner::rules {
namespace {

constexpr const char* kLibDir = "usr/lib/x86_64-linux-gnu";

elf::ElfInfo lib(const std::string& soname, std::vector<std::string> needed = {}) {
  elf::ElfInfo e;
  e.ei_class = 2;
  e.ei_data = 1;
  e.e_type = 3;
  e.e_machine = 62;
  e.has_dynamic = true;
  if (!soname.empty()) e.soname = soname;
  e.needed = std::move(needed);
  return e;
}

elf::ElfInfo prog(std::vector<std::string> needed) {
  elf::ElfInfo e = lib("", std::move(needed));
  e.interp = "/lib64/ld-linux-x86-64.so.2";
  e.dt_flags_1 = 0x08000000;  // DF_1_PIE
  return e;
}

elf::ElfInfo static_prog() {
  elf::ElfInfo e;
  e.ei_class = 2;
  e.ei_data = 1;
  e.e_type = 2;
  e.e_machine = 62;
  return e;
}

// A Debian-like glibc root (merged /usr): ld.so, libc.so.6 of glibc 2.NN tagged for Linux
// 3.2.0, libfoo.so.1, and the program /app/x (ENTRYPOINT) that needs libfoo and libc.
class HostRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ld = lib("ld-linux-x86-64.so.2");
    libc = lib("libc.so.6", {"ld-linux-x86-64.so.2"});
    libc.abi_tag = "3.2.0";
    foo = lib("libfoo.so.1", {"libc.so.6"});
    foo.abi_tag = "3.2.0";
    x = prog({"libfoo.so.1", "libc.so.6"});
    glibc(36);
    info.config.os = "linux";
    info.config.architecture = "amd64";
    info.config.entrypoint = std::vector<std::string>{"/app/x"};
  }

  void glibc(int minor) {
    libc.verdef = {"GLIBC_2.2.5"};
    for (int m = 30; m <= minor; ++m) libc.verdef.push_back("GLIBC_2." + std::to_string(m));
  }

  RuleOutput run(std::string kernel, int level) {
    b.dir("usr").dir("usr/lib").dir(kLibDir).dir("usr/lib64").symlink("lib", "usr/lib");
    b.symlink("lib64", "usr/lib64").dir("etc").dir("app");
    b.file(std::string(kLibDir) + "/ld-linux-x86-64.so.2", 4096, 0755).elf(ld);
    b.symlink("usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    b.file(std::string(kLibDir) + "/libc.so.6", 4096, 0755).elf(libc);
    b.layer();
    b.file(std::string(kLibDir) + "/libfoo.so.1", 4096, 0755).elf(foo);
    b.file("app/x", 4096, 0755).elf(x);
    b.file("app/static", 4096, 0755).elf(st);
    info.layers.resize(b.layers().size());
    for (size_t i = 0; i < info.layers.size(); ++i)
      info.layers[i].digest = "sha256:l" + std::to_string(i);
    tree.emplace(b.build());
    root.emplace(*tree, b.layers());
    exec = linux_::simulate_exec(*root, info.config, {});
    EXPECT_TRUE(exec->verdict.starts) << exec->verdict.predicted_error;
    Host host;
    host.kernel = std::move(kernel);
    host.kernel_from = "--kernel";
    host.x86_64_level = level;
    host.cpu_from = "--cpu";
    return run_rules({*root, info, *exec, kDocker, host});
  }

  static const Finding* find(const RuleOutput& o, std::string_view rule) {
    for (const Finding& f : o.findings)
      if (f.rule == rule) return &f;
    return nullptr;
  }

  elf::ElfInfo ld, libc, foo, x, st = static_prog();
  testing::TreeBuilder b;
  image::ImageInfo info;
  std::optional<fs::Tree> tree;
  std::optional<linux_::RootView> root;
  std::optional<linux_::ExecResult> exec;
};

TEST(HostParse, KernelReleasesUseGlibcEncoding) {
  EXPECT_EQ(kernel_version_code("6.18.44-fc-v669"), 0x06122cu);
  EXPECT_EQ(kernel_version_code("5.10.0-28-amd64"), 0x050a00u);
  EXPECT_EQ(kernel_version_code("3.2"), 0x030200u);
  EXPECT_EQ(kernel_version_code("9"), 0x090000u);
  EXPECT_EQ(kernel_version_code("4.4.300"), 0x0404ffu);  // each part is one byte
  EXPECT_EQ(kernel_version_code("linux"), std::nullopt);
  EXPECT_EQ(kernel_version_code(""), std::nullopt);
  EXPECT_EQ(kernel_version_text(0x090000), "9.0.0");
}

TEST(HostParse, CpuLevelNames) {
  EXPECT_EQ(parse_x86_64_level("x86-64"), 1);
  EXPECT_EQ(parse_x86_64_level("x86-64-v2"), 2);
  EXPECT_EQ(parse_x86_64_level("x86-64-v4"), 4);
  EXPECT_EQ(parse_x86_64_level("v3"), 3);
  EXPECT_EQ(parse_x86_64_level("x86-64-v5"), std::nullopt);
  EXPECT_EQ(parse_x86_64_level("haswell"), std::nullopt);
  EXPECT_EQ(x86_64_level_name(1), "x86-64");
  EXPECT_EQ(x86_64_level_name(3), "x86-64-v3");
  EXPECT_EQ(x86_64_level_of_bits(0x9), 4);
  EXPECT_EQ(x86_64_level_of_bits(0x3), 2);
  EXPECT_EQ(x86_64_level_of_bits(0x10), 0);
}

TEST(HostParse, CpuinfoFlagsGiveGlibcsLevel) {
  const std::string base = "fpu cx8 cmov mmx fxsr sse sse2";
  const std::string v2 = base + " pni ssse3 cx16 sse4_1 sse4_2 popcnt lahf_lm";
  const std::string v3 = v2 + " fma movbe f16c avx avx2 bmi1 bmi2 abm";
  const std::string v4 = v3 + " avx512f avx512dq avx512cd avx512bw avx512vl";
  auto cpu = [](const std::string& flags) {
    return x86_64_level_from_cpuinfo("processor\t: 0\nflags\t\t: " + flags + "\nbugs\t: x\n");
  };
  EXPECT_EQ(cpu(base), 1);
  EXPECT_EQ(cpu(v2), 2);
  EXPECT_EQ(cpu(v3), 3);
  EXPECT_EQ(cpu(v4), 4);
  EXPECT_EQ(cpu(v4.substr(0, v4.size() - 9)), 3);  // no avx512vl
  EXPECT_EQ(cpu(v3 + " avx512f"), 3);
  EXPECT_EQ(x86_64_level_from_cpuinfo("processor\t: 0\n"), 0);
}

TEST_F(HostRulesTest, OldGlibcSkipsALibraryTaggedForANewerKernel) {
  glibc(31);
  foo.abi_tag = "9.0.0";
  RuleOutput o = run("6.1.0-18-amd64", 4);
  const Finding* f = find(o, "kernel-too-old");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->path, "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
  EXPECT_EQ(f->layer_index, 1u);
  EXPECT_NE(f->message.find("Linux 9.0.0"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("kernel 6.1.0-18-amd64 (--kernel)"), std::string::npos);
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.reason, "kernel-too-old");
  EXPECT_EQ(o.verdict.predicted_error,
            "/app/x: error while loading shared libraries: libfoo.so.1: cannot open shared "
            "object file: No such file or directory");
  EXPECT_EQ(o.verdict.predicted_exit, 127);
}

TEST_F(HostRulesTest, OldGlibcOnAKernelBelowItsMinimumIsFatal) {
  glibc(31);
  RuleOutput o = run("3.1.0", 4);
  const Finding* f = find(o, "kernel-too-old");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_NE(f->message.find("glibc 2.31 needs Linux 3.2.0"), std::string::npos) << f->message;
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.predicted_error, "FATAL: kernel too old");
  EXPECT_EQ(o.verdict.predicted_exit, 127);
}

TEST_F(HostRulesTest, Glibc236NoLongerChecksTheKernel) {
  glibc(36);
  foo.abi_tag = "9.0.0";
  RuleOutput o = run("6.1.0", 4);
  const Finding* f = find(o, "kernel-too-old");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_NE(f->message.find("no longer checks"), std::string::npos) << f->message;
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(HostRulesTest, KernelNewEnoughGivesNoFinding) {
  glibc(31);
  RuleOutput o = run("5.10.0", 4);
  EXPECT_EQ(find(o, "kernel-too-old"), nullptr);
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(HostRulesTest, StaticGlibcWithTheCheckAbortsOnAnOldKernel) {
  st.abi_tag = "3.2.0";
  st.glibc_kernel_check = true;
  info.config.entrypoint = std::vector<std::string>{"/app/static"};
  RuleOutput o = run("2.6.32", 4);
  const Finding* f = find(o, "kernel-too-old");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/app/static");
  EXPECT_EQ(o.verdict.predicted_error, "FATAL: kernel too old");
  EXPECT_EQ(o.verdict.predicted_exit, 134);
}

TEST_F(HostRulesTest, StaticWithoutTheCheckIgnoresItsAbiTag) {
  st.abi_tag = "9.0.0";  // glibc >= 2.36 libc.a (or musl): nothing compares it
  info.config.entrypoint = std::vector<std::string>{"/app/static"};
  RuleOutput o = run("6.1.0", 4);
  EXPECT_EQ(find(o, "kernel-too-old"), nullptr);
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(HostRulesTest, ProgramMarkedV4OnAV3HostIsRefusedByLdso) {
  x.x86_isa_needed = 0x9;  // baseline + v4, as -Wl,-z,x86-64-v4 writes it
  RuleOutput o = run("6.1.0", 3);
  const Finding* f = find(o, "cpu-isa-level");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/app/x");
  EXPECT_NE(f->message.find("x86-64-v4"), std::string::npos) << f->message;
  EXPECT_NE(f->message.find("CPU level x86-64-v3 (--cpu)"), std::string::npos) << f->message;
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.reason, "cpu-isa-level");
  EXPECT_EQ(o.verdict.predicted_error, "/app/x: CPU ISA level is lower than required");
  EXPECT_EQ(o.verdict.predicted_exit, 127);
}

TEST_F(HostRulesTest, ProgramMarkedV4OnAV4HostStarts) {
  x.x86_isa_needed = 0x9;
  RuleOutput o = run("6.1.0", 4);
  EXPECT_EQ(find(o, "cpu-isa-level"), nullptr);
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(HostRulesTest, LibraryMarkedAboveTheCpuIsNamedByItsPath) {
  foo.x86_isa_needed = 0x5;  // v3
  RuleOutput o = run("6.1.0", 2);
  const Finding* f = find(o, "cpu-isa-level");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/usr/lib/x86_64-linux-gnu/libfoo.so.1");
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_TRUE(
      o.verdict.predicted_error.ends_with("/libfoo.so.1: CPU ISA level is lower than required"))
      << o.verdict.predicted_error;
}

TEST_F(HostRulesTest, GlibcBuiltForV2StopsOnABaselineCpu) {
  ld.x86_isa_needed = 0x3;  // RHEL 9's ld.so: baseline + v2
  libc.x86_isa_needed = 0x3;
  RuleOutput o = run("6.1.0", 1);
  const Finding* f = find(o, "cpu-isa-level");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
  EXPECT_EQ(o.verdict.predicted_error, "Fatal glibc error: CPU does not support x86-64-v2");
  EXPECT_EQ(o.verdict.predicted_exit, 127);
}

TEST_F(HostRulesTest, GlibcBefore233DoesNotCheckTheMarker) {
  glibc(31);
  x.x86_isa_needed = 0x9;
  RuleOutput o = run("6.1.0", 3);
  const Finding* f = find(o, "cpu-isa-level");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_NE(f->message.find("SIGILL"), std::string::npos) << f->message;
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(HostRulesTest, StaticProgramAboveTheCpuIsAWarning) {
  st.x86_isa_needed = 0x5;
  info.config.entrypoint = std::vector<std::string>{"/app/static"};
  RuleOutput o = run("6.1.0", 2);
  const Finding* f = find(o, "cpu-isa-level");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(HostRulesTest, UnknownHostChecksNothing) {
  glibc(31);
  foo.abi_tag = "9.0.0";
  x.x86_isa_needed = 0x9;
  RuleOutput o = run("", 0);
  EXPECT_EQ(find(o, "kernel-too-old"), nullptr);
  EXPECT_EQ(find(o, "cpu-isa-level"), nullptr);
  EXPECT_TRUE(o.verdict.starts);
}

}  // namespace
}  // namespace coroner::rules
