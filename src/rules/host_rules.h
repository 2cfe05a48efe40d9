// The start-up hazards that depend on the host that runs the container, which the image cannot
// tell: kernel-too-old (glibc <= 2.35 compares the running kernel with NT_GNU_ABI_TAG notes) and
// cpu-isa-level (glibc >= 2.33 ld.so compares the CPU's x86-64 level with each object's
// GNU_PROPERTY_X86_ISA_1_NEEDED). The host is explicit (Host: `--kernel`, `--cpu`, by default
// this machine's), and each finding names the values it assumed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::rules {

struct RuleInput;
struct RuleOutput;

// The kernel and CPU the container is assumed to run on. Empty/0: unknown, the rule is skipped.
struct Host {
  std::string kernel;       // a release as `uname -r` prints it: "6.1.0-18-amd64"
  std::string kernel_from;  // where it came from: "--kernel", "this machine's uname -r"
  int x86_64_level = 0;     // 1 = x86-64 (baseline), 2..4 = x86-64-v2..v4; 0 unknown
  std::string cpu_from;     // "--cpu", "this machine's /proc/cpuinfo"
};

// glibc's encoding of a kernel release (_dl_discover_osversion): up to three dot-separated
// numbers, each in one byte, major << 16 | minor << 8 | patch; "6.18.44-fc" -> 0x06122c.
// nullopt when the release does not start with a number.
std::optional<uint32_t> kernel_version_code(std::string_view release);
// "9.0.0" from 0x090000.
std::string kernel_version_text(uint32_t code);

// "x86-64", "x86-64-v1" (= baseline), "x86-64-v2".."x86-64-v4", or "v1".."v4" -> 1..4.
std::optional<int> parse_x86_64_level(std::string_view name);
// "x86-64" for 1, "x86-64-vN" otherwise.
std::string x86_64_level_name(int level);
// The level glibc's get_isa_level() would compute from the "flags" line of /proc/cpuinfo
// (sysdeps/x86/get-isa-level.h; lzcnt is "abm", sse3 is "pni"); 0 when there is no flags line.
int x86_64_level_from_cpuinfo(std::string_view cpuinfo);
// The highest level whose GNU_PROPERTY_X86_ISA_1_NEEDED bit is set (bit 0 baseline = 1,
// bit 1 = 2, bit 2 = 3, bit 3 = 4); 0 when no known bit is set.
int x86_64_level_of_bits(uint32_t bits);

// This machine: uname(2) release and /proc/cpuinfo (x86-64 only; elsewhere the level is 0).
Host this_host();

// Adds the kernel-too-old and cpu-isa-level findings for the programs the exec simulation
// starts, and sets the verdict when the assumed host makes glibc refuse to start (the finding
// is then an error). `created_by` is created_by_of_layers(input.info). Does nothing when the
// exec simulation already fails.
void check_host(const RuleInput& input, const std::vector<std::string>& created_by,
                RuleOutput& output);

}  // namespace coroner::rules
