// ELF reader: the facts the loader and exec simulations need, from a whole file in memory.
// Header, program headers (PT_INTERP, PT_DYNAMIC, PT_NOTE, PT_GNU_PROPERTY), the dynamic section
// (DT_NEEDED, DT_SONAME, DT_RPATH, DT_RUNPATH, DT_FLAGS, DT_FLAGS_1) and the symbol versioning
// tables (DT_VERNEED, DT_VERDEF), found through the dynamic section so they work in stripped
// files. Nothing else: no symbols, no relocations. Malformed input throws Error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace coroner::elf {

// A library and the versions required from it (.gnu.version_r: vn_file and its vna_name list).
struct VersionNeed {
  std::string file;
  std::vector<std::string> versions;
};

struct ElfInfo {
  uint8_t ei_class = 0;  // ELFCLASS32 = 1, ELFCLASS64 = 2
  uint8_t ei_data = 0;   // ELFDATA2LSB = 1, ELFDATA2MSB = 2
  uint8_t ei_osabi = 0;
  uint16_t e_type = 0;  // ET_EXEC = 2, ET_DYN = 3
  uint16_t e_machine = 0;
  uint32_t e_flags = 0;  // ARM EABI version and float ABI, RISC-V float ABI, MIPS ABI

  std::optional<std::string> interp;  // PT_INTERP, without the trailing NUL
  bool has_dynamic = false;           // PT_DYNAMIC present
  std::vector<std::string> needed;    // DT_NEEDED in order
  std::optional<std::string> soname, rpath, runpath;
  uint64_t dt_flags = 0;    // DT_FLAGS (DF_ORIGIN...)
  uint64_t dt_flags_1 = 0;  // DT_FLAGS_1 (DF_1_NODEFLIB = 0x800, DF_1_PIE = 0x08000000)
  std::vector<VersionNeed> verneed;
  std::vector<std::string> verdef;  // version names this object defines (vd_ndx > 1)

  // NT_GNU_ABI_TAG minimum kernel, e.g. "3.2.0": the first Linux note of the 16-byte form, the
  // one glibc's open_verify compares (glibc <= 2.35 skips a library whose tag is above the
  // running kernel).
  std::optional<std::string> abi_tag;
  uint32_t x86_isa_needed = 0;  // GNU_PROPERTY_X86_ISA_1_NEEDED bits (v2 = 2, v3 = 4, v4 = 8)
  // A static executable that holds glibc's "FATAL: kernel too old" (glibc <= 2.35 libc.a: its
  // start-up compares the running kernel with the minimum it was configured for).
  bool glibc_kernel_check = false;

  bool is_static() const { return !interp && needed.empty(); }
  // static-pie: ET_DYN, no PT_INTERP, DF_1_PIE.
  bool is_static_pie() const { return e_type == 3 && !interp && (dt_flags_1 & 0x08000000); }
};

// True when `head` starts with the ELF magic.
bool is_elf(std::span<const std::byte> head);

// Parses a whole ELF file. Throws Error "ELF: <detail>" on anything malformed (offsets past the
// end, counts that do not fit, unterminated strings, unknown class or data encoding).
ElfInfo parse(std::span<const std::byte> file);

// "x86-64", "AArch64", "ARM", "i386"... for messages; "machine 0x1234" for unknown values.
std::string machine_name(uint16_t e_machine);

}  // namespace coroner::elf
