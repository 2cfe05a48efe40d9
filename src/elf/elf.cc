#include "elf/elf.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"
#include "elf/elf_view.h"

namespace coroner::elf {
namespace {

// e_ident and header constants, named as in the gABI.
constexpr uint8_t ELFCLASS32 = 1, ELFCLASS64 = 2;
constexpr uint8_t ELFDATA2LSB = 1, ELFDATA2MSB = 2;
constexpr uint8_t EV_CURRENT = 1;
constexpr uint16_t PN_XNUM = 0xffff;

constexpr uint32_t PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4;
constexpr uint32_t PT_GNU_PROPERTY = 0x6474e553;

constexpr uint64_t DT_NULL = 0, DT_NEEDED = 1, DT_STRTAB = 5, DT_STRSZ = 10, DT_SONAME = 14,
                   DT_RPATH = 15, DT_RUNPATH = 29, DT_FLAGS = 30, DT_FLAGS_1 = 0x6ffffffb,
                   DT_VERDEF = 0x6ffffffc, DT_VERDEFNUM = 0x6ffffffd, DT_VERNEED = 0x6ffffffe,
                   DT_VERNEEDNUM = 0x6fffffff;

constexpr uint32_t NT_GNU_ABI_TAG = 1, NT_GNU_PROPERTY_TYPE_0 = 5;
constexpr uint32_t GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;
constexpr uint32_t ELF_NOTE_OS_LINUX = 0;
constexpr uint16_t VER_FLG_BASE = 0x1;
constexpr uint16_t ET_EXEC = 2;
// glibc's csu/libc-start.c (static) and ld.so print internal::kKernelTooOld through
// DL_SYSDEP_OSCHECK; glibc 2.36 removed the check (commit "Remove kernel version check").
using internal::FileView;

// On-disk sizes of the versioning records; the same in both classes (gABI / LSB symbol versioning).
constexpr uint64_t kVerneedSize = 16, kVernauxSize = 16, kVerdefSize = 20, kVerdauxSize = 8;
// The kernel refuses a PT_INTERP longer than PATH_MAX (fs/binfmt_elf.c).
constexpr uint64_t kMaxInterpSize = 4096;
// All the strings of one file's dynamic section together (libstdc++.so.6 uses about 2 KiB).
constexpr uint64_t kMaxStringBytes = 4 << 20;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

[[noreturn]] void fail(const std::string& detail) { throw Error("ELF: " + detail); }

// Runs `f`, prefixing "ELF: <where>: " to any Error it throws (ByteReader's bounds errors carry
// the offsets, this adds which structure was being read).
template <typename F>
auto in(const std::string& where, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    std::string_view msg = e.what();
    if (msg.starts_with("ELF: ")) msg.remove_prefix(5);
    throw Error("ELF: " + where + ": " + std::string(msg));
  }
}

struct Header {
  bool is64 = false;
  uint64_t e_phoff = 0, e_shoff = 0;
  uint16_t e_phentsize = 0, e_shentsize = 0, e_shnum = 0;
  uint64_t phnum = 0;  // e_phnum, or section 0's sh_info under PN_XNUM
};

struct Phdr {
  uint32_t p_type = 0, p_flags = 0;
  uint64_t p_offset = 0, p_vaddr = 0, p_filesz = 0, p_memsz = 0, p_align = 0;
};

// Reads a word of the file's class: Elf32_Addr/Off/Word vs Elf64_Addr/Off/Xword.
uint64_t read_word(ByteReader& r, bool is64) {
  return is64 ? r.read<uint64_t>() : r.read<uint32_t>();
}

// An integer at `off` of the file.
template <typename T>
T peek(const FileView& v, uint64_t off, bool little) {
  ByteReader r(v.sub(off, sizeof(T)), little);
  return r.read<T>();
}

// The ELF header is the file's first 64 bytes at most (52 in ELF32): `r` reads the file's first
// min(size, 64) bytes, so its bounds errors name the same offsets and size as over the whole file.
Header read_header(ByteReader& r, const FileView& v, ElfInfo& info) {
  if (!is_elf(r.sub(0, std::min<uint64_t>(r.size(), 4)))) fail("bad magic (not an ELF file)");
  auto ident = r.sub(0, 16);
  info.ei_class = static_cast<uint8_t>(ident[4]);
  info.ei_data = static_cast<uint8_t>(ident[5]);
  info.ei_osabi = static_cast<uint8_t>(ident[7]);
  if (info.ei_class != ELFCLASS32 && info.ei_class != ELFCLASS64)
    fail("unknown EI_CLASS " + std::to_string(info.ei_class));
  if (info.ei_data != ELFDATA2LSB && info.ei_data != ELFDATA2MSB)
    fail("unknown EI_DATA " + std::to_string(info.ei_data));
  if (static_cast<uint8_t>(ident[6]) != EV_CURRENT)
    fail("unknown EI_VERSION " + std::to_string(static_cast<uint8_t>(ident[6])));

  Header h;
  h.is64 = info.ei_class == ELFCLASS64;
  r.set_little_endian(info.ei_data == ELFDATA2LSB);
  r.seek(16);
  info.e_type = r.read<uint16_t>();
  info.e_machine = r.read<uint16_t>();
  r.skip(4);             // e_version
  read_word(r, h.is64);  // e_entry
  h.e_phoff = read_word(r, h.is64);
  h.e_shoff = read_word(r, h.is64);
  info.e_flags = r.read<uint32_t>();
  r.skip(2);  // e_ehsize
  h.e_phentsize = r.read<uint16_t>();
  uint16_t e_phnum = r.read<uint16_t>();
  h.e_shentsize = r.read<uint16_t>();
  h.e_shnum = r.read<uint16_t>();
  h.phnum = e_phnum;

  const uint16_t want_ph = h.is64 ? 56 : 32, want_sh = h.is64 ? 64 : 40;
  if (e_phnum != 0 && h.e_phentsize != want_ph)
    fail("e_phentsize " + std::to_string(h.e_phentsize) + " should be " + std::to_string(want_ph));
  bool has_shdrs = h.e_shoff != 0;
  if (has_shdrs && h.e_shentsize != want_sh)
    fail("e_shentsize " + std::to_string(h.e_shentsize) + " should be " + std::to_string(want_sh));

  // gABI: with e_shoff set, the whole section header table must be in the file (section 0
  // always exists; e_shnum == 0 means the real count is in its sh_size). We read no section but
  // section 0, yet a table past the end means the file was cut short.
  if (has_shdrs) {
    uint64_t shnum = h.e_shnum;
    if (shnum == 0) {
      shnum = in("section header 0", [&] {
        return h.is64 ? peek<uint64_t>(v, checked_add(h.e_shoff, 32), r.little_endian())
                      : peek<uint32_t>(v, checked_add(h.e_shoff, 20), r.little_endian());
      });
    }
    in("section headers at " + hex(h.e_shoff) + " (" + std::to_string(shnum) + " x " +
           std::to_string(want_sh) + ")",
       [&] { v.check(h.e_shoff, checked_mul(shnum, want_sh)); });
  }

  // gABI: when the program header count does not fit e_phnum it is PN_XNUM, and the real count is
  // in the sh_info of section 0.
  if (e_phnum == PN_XNUM) {
    if (!has_shdrs) fail("e_phnum is PN_XNUM but there is no section header 0");
    h.phnum = in("section header 0", [&] {
      return peek<uint32_t>(v, checked_add(h.e_shoff, h.is64 ? 44 : 28), r.little_endian());
    });
    if (h.phnum != 0 && h.e_phentsize != want_ph)
      fail("e_phentsize " + std::to_string(h.e_phentsize) + " should be " +
           std::to_string(want_ph));
  }
  return h;
}

std::vector<Phdr> read_phdrs(const FileView& v, bool little, const Header& h) {
  if (h.phnum == 0) return {};
  // Check the whole table against the file before allocating for it.
  ByteReader r(in("program headers at " + hex(h.e_phoff) + " (" + std::to_string(h.phnum) + " x " +
                      std::to_string(h.e_phentsize) + ")",
                  [&] { return v.sub(h.e_phoff, checked_mul(h.phnum, h.e_phentsize)); }),
               little);
  std::vector<Phdr> out(h.phnum);
  for (uint64_t i = 0; i < h.phnum; ++i) {
    r.seek(i * h.e_phentsize);
    Phdr& p = out[i];
    p.p_type = r.read<uint32_t>();
    if (h.is64) {
      p.p_flags = r.read<uint32_t>();
      p.p_offset = r.read<uint64_t>();
      p.p_vaddr = r.read<uint64_t>();
      r.skip(8);  // p_paddr
      p.p_filesz = r.read<uint64_t>();
      p.p_memsz = r.read<uint64_t>();
      p.p_align = r.read<uint64_t>();
    } else {
      p.p_offset = r.read<uint32_t>();
      p.p_vaddr = r.read<uint32_t>();
      r.skip(4);  // p_paddr
      p.p_filesz = r.read<uint32_t>();
      p.p_memsz = r.read<uint32_t>();
      p.p_flags = r.read<uint32_t>();
      p.p_align = r.read<uint32_t>();
    }
  }
  return out;
}

// Every segment whose bytes we (or the kernel) read must lie in the file: a truncated file is an
// Error here rather than at some later read.
void check_segments(const FileView& v, const std::vector<Phdr>& phdrs) {
  for (size_t i = 0; i < phdrs.size(); ++i) {
    const Phdr& p = phdrs[i];
    if (p.p_type != PT_LOAD && p.p_type != PT_DYNAMIC && p.p_type != PT_INTERP &&
        p.p_type != PT_NOTE && p.p_type != PT_GNU_PROPERTY)
      continue;
    if (p.p_filesz == 0) continue;  // e.g. a .bss-only PT_LOAD: no file bytes, any p_offset
    in("program header " + std::to_string(i) + " (p_type " + hex(p.p_type) + ")",
       [&] { v.check(p.p_offset, p.p_filesz); });
  }
}

// Dynamic entries hold virtual addresses. Maps [vaddr, ...) to the file bytes of the PT_LOAD
// segment that contains it, from vaddr to the end of that segment's file image (the part past
// p_filesz is zero-filled memory with no bytes in the file). Requires: check_segments passed.
std::span<const std::byte> map_vaddr(const FileView& v, const std::vector<Phdr>& phdrs,
                                     uint64_t vaddr, const char* what) {
  for (const Phdr& p : phdrs) {
    if (p.p_type != PT_LOAD) continue;
    if (vaddr < p.p_vaddr || vaddr - p.p_vaddr >= p.p_filesz) continue;
    uint64_t delta = vaddr - p.p_vaddr;
    return v.sub_prefix(p.p_offset + delta, p.p_filesz - delta);
  }
  fail(std::string(what) + " address " + hex(vaddr) + " is outside every PT_LOAD segment");
}

// The dynamic string table [DT_STRTAB, DT_STRTAB + DT_STRSZ). A string's offset must be below
// DT_STRSZ and it must end with a NUL inside the table. Many records may name the same long
// string, so the bytes copied out are budgeted: without that, a 512 KiB file whose 30,000
// DT_NEEDED entries all name one 400 KiB string would make us copy 12 GB.
class StringTable {
 public:
  explicit StringTable(std::span<const std::byte> bytes) : bytes_(bytes) {}

  std::string get(uint64_t off, const char* what) {
    std::string s = in(std::string(what) + " string at DT_STRTAB+" + hex(off),
                       [&] { return std::string(ByteReader(bytes_).cstr_at(off)); });
    if (s.size() > budget_)
      fail(std::string(what) + ": strings read from DT_STRTAB exceed " +
           std::to_string(kMaxStringBytes) + " bytes");
    budget_ -= s.size();
    return s;
  }

 private:
  std::span<const std::byte> bytes_;
  uint64_t budget_ = kMaxStringBytes;
};

struct Dynamic {
  std::vector<uint64_t> needed;
  std::optional<uint64_t> soname, rpath, runpath, strtab, strsz, verneed, verneednum, verdef,
      verdefnum;
};

Dynamic read_dynamic(const FileView& file, bool little, const Phdr& p, bool is64, ElfInfo& info) {
  Dynamic d;
  const uint64_t entsize = is64 ? 16 : 8;
  ByteReader r(file.sub(p.p_offset, p.p_filesz), little);
  // The count is bounded by p_filesz, which check_segments held to the file size.
  const uint64_t count = p.p_filesz / entsize;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t tag = read_word(r, is64), val = read_word(r, is64);
    if (!is64) tag = static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(tag)));
    if (tag == DT_NULL) break;
    // Later entries override earlier ones, as glibc's _dl_dynamic fills l_info[tag] in order.
    switch (tag) {
      case DT_NEEDED:
        d.needed.push_back(val);
        break;
      case DT_SONAME:
        d.soname = val;
        break;
      case DT_RPATH:
        d.rpath = val;
        break;
      case DT_RUNPATH:
        d.runpath = val;
        break;
      case DT_STRTAB:
        d.strtab = val;
        break;
      case DT_STRSZ:
        d.strsz = val;
        break;
      case DT_FLAGS:
        info.dt_flags = val;
        break;
      case DT_FLAGS_1:
        info.dt_flags_1 = val;
        break;
      case DT_VERNEED:
        d.verneed = val;
        break;
      case DT_VERNEEDNUM:
        d.verneednum = val;
        break;
      case DT_VERDEF:
        d.verdef = val;
        break;
      case DT_VERDEFNUM:
        d.verdefnum = val;
        break;
      default:
        break;
    }
  }
  return d;
}

// The string table as [DT_STRTAB, DT_STRTAB + DT_STRSZ), which must lie in one PT_LOAD.
std::span<const std::byte> string_table(const FileView& r, const std::vector<Phdr>& phdrs,
                                        const Dynamic& d) {
  if (!d.strtab) fail("dynamic section has strings but no DT_STRTAB");
  auto bytes = map_vaddr(r, phdrs, *d.strtab, "DT_STRTAB");
  if (!d.strsz) return bytes;
  if (*d.strsz > bytes.size())
    fail("DT_STRSZ " + hex(*d.strsz) + " at DT_STRTAB " + hex(*d.strtab) +
         " exceeds its segment (" + hex(bytes.size()) + " bytes left)");
  return bytes.first(*d.strsz);
}

// .gnu.version_r: DT_VERNEEDNUM Elf_Verneed records chained by vn_next (relative byte offsets),
// each with vn_cnt Elf_Vernaux chained by vna_next. Offsets only move forward (unsigned, checked
// 64-bit), so the walk ends; a chain that ends (next == 0) before its count is reached would make
// a naive count-driven reader revisit one record forever, and is an Error here.
std::vector<VersionNeed> read_verneed(std::span<const std::byte> bytes, bool little,
                                      StringTable& strtab, uint64_t num) {
  ByteReader r(bytes, little);
  if (num > bytes.size() / kVerneedSize)
    fail("DT_VERNEEDNUM " + std::to_string(num) + " does not fit in " + hex(bytes.size()) +
         " bytes");
  // Records do not overlap in a well-formed table, so all the Vernaux of all the Verneed fit in
  // what the Verneed leave; this keeps the walk linear in the file size.
  uint64_t aux_left = (bytes.size() - num * kVerneedSize) / kVernauxSize;
  std::vector<VersionNeed> out;
  uint64_t off = 0;
  for (uint64_t i = 0; i < num; ++i) {
    in("Elf_Verneed " + std::to_string(i) + " at +" + hex(off), [&] {
      r.seek(off);
      uint16_t vn_version = r.read<uint16_t>(), vn_cnt = r.read<uint16_t>();
      uint32_t vn_file = r.read<uint32_t>(), vn_aux = r.read<uint32_t>(),
               vn_next = r.read<uint32_t>();
      // glibc's _dl_check_map_versions refuses any other version ("unsupported version").
      if (vn_version != 1) fail("vn_version " + std::to_string(vn_version) + " is not 1");
      VersionNeed need{strtab.get(vn_file, "vn_file"), {}};
      uint64_t aux = checked_add(off, vn_aux);
      if (vn_cnt > aux_left)
        fail("vn_cnt " + std::to_string(vn_cnt) + " does not fit in the bytes left");
      aux_left -= vn_cnt;
      for (uint16_t j = 0; j < vn_cnt; ++j) {
        r.seek(aux);
        r.skip(8);  // vna_hash, vna_flags, vna_other
        uint32_t vna_name = r.read<uint32_t>(), vna_next = r.read<uint32_t>();
        need.versions.push_back(strtab.get(vna_name, "vna_name"));
        if (j + 1 < vn_cnt && vna_next == 0)
          fail("vna_next chain ends after " + std::to_string(j + 1) + " of vn_cnt " +
               std::to_string(vn_cnt));
        aux = checked_add(aux, vna_next);
      }
      out.push_back(std::move(need));
      if (i + 1 < num && vn_next == 0)
        fail("vn_next chain ends after " + std::to_string(i + 1) + " of DT_VERNEEDNUM " +
             std::to_string(num));
      off = checked_add(off, vn_next);
    });
  }
  return out;
}

// .gnu.version_d: DT_VERDEFNUM Elf_Verdef records chained by vd_next, each with vd_cnt
// Elf_Verdaux chained by vda_next; the first Verdaux names the version, the others its parents.
// The VER_FLG_BASE record (vd_ndx 1) names the file itself and is not a version it defines.
std::vector<std::string> read_verdef(std::span<const std::byte> bytes, bool little,
                                     StringTable& strtab, uint64_t num) {
  ByteReader r(bytes, little);
  if (num > bytes.size() / kVerdefSize)
    fail("DT_VERDEFNUM " + std::to_string(num) + " does not fit in " + hex(bytes.size()) +
         " bytes");
  uint64_t aux_left = (bytes.size() - num * kVerdefSize) / kVerdauxSize;  // as in read_verneed
  std::vector<std::string> out;
  uint64_t off = 0;
  for (uint64_t i = 0; i < num; ++i) {
    in("Elf_Verdef " + std::to_string(i) + " at +" + hex(off), [&] {
      r.seek(off);
      uint16_t vd_version = r.read<uint16_t>(), vd_flags = r.read<uint16_t>(),
               vd_ndx = r.read<uint16_t>(), vd_cnt = r.read<uint16_t>();
      r.skip(4);  // vd_hash
      uint32_t vd_aux = r.read<uint32_t>(), vd_next = r.read<uint32_t>();
      if (vd_version != 1) fail("vd_version " + std::to_string(vd_version) + " is not 1");
      if (vd_cnt > aux_left)
        fail("vd_cnt " + std::to_string(vd_cnt) + " does not fit in the bytes left");
      aux_left -= vd_cnt;
      uint64_t aux = checked_add(off, vd_aux);
      for (uint16_t j = 0; j < vd_cnt; ++j) {
        r.seek(aux);
        uint32_t vda_name = r.read<uint32_t>(), vda_next = r.read<uint32_t>();
        std::string name = strtab.get(vda_name, "vda_name");
        if (j == 0 && vd_ndx > 1 && !(vd_flags & VER_FLG_BASE)) out.push_back(std::move(name));
        if (j + 1 < vd_cnt && vda_next == 0)
          fail("vda_next chain ends after " + std::to_string(j + 1) + " of vd_cnt " +
               std::to_string(vd_cnt));
        aux = checked_add(aux, vda_next);
      }
      if (i + 1 < num && vd_next == 0)
        fail("vd_next chain ends after " + std::to_string(i + 1) + " of DT_VERDEFNUM " +
             std::to_string(num));
      off = checked_add(off, vd_next);
    });
  }
  return out;
}

uint64_t align_up(uint64_t v, uint64_t a) { return checked_add(v, a - 1) & ~(a - 1); }

// NT_GNU_PROPERTY_TYPE_0: an array of (pr_type, pr_datasz, data), each padded to 8 bytes on
// ELF64 and 4 on ELF32 (the x86-64 psABI / Linux Extensions to gABI).
void read_properties(std::span<const std::byte> desc, bool little, bool is64, ElfInfo& info) {
  ByteReader r(desc, little);
  const uint64_t align = is64 ? 8 : 4;
  while (r.remaining() >= 8) {
    uint32_t pr_type = r.read<uint32_t>(), pr_datasz = r.read<uint32_t>();
    auto data = r.bytes(pr_datasz);
    if (pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED && pr_datasz == 4)
      info.x86_isa_needed |= ByteReader(data, little).read<uint32_t>();
    uint64_t pad = align_up(pr_datasz, align) - pr_datasz;
    r.skip(std::min<uint64_t>(pad, r.remaining()));
  }
}

// Notes in one PT_NOTE or PT_GNU_PROPERTY segment: (namesz, descsz, type, name, desc), name and
// desc each padded to the note alignment, which is 8 when p_align is 8 (gABI 2018 update, as
// glibc's _dl_process_pt_note and the kernel read .note.gnu.property) and 4 otherwise.
void read_notes(const FileView& file, bool little, const Phdr& p, bool is64, ElfInfo& info) {
  ByteReader r(file.sub(p.p_offset, p.p_filesz), little);
  const uint64_t align = p.p_align == 8 ? 8 : 4;
  while (r.remaining() >= 12) {
    uint64_t at = r.offset();
    in("note at " + hex(p.p_offset + at), [&] {
      uint32_t namesz = r.read<uint32_t>(), descsz = r.read<uint32_t>(), type = r.read<uint32_t>();
      auto name = as_chars(r.bytes(namesz));
      r.seek(std::min<uint64_t>(align_up(r.offset(), align), r.size()));
      auto desc = r.bytes(descsz);
      r.seek(std::min<uint64_t>(align_up(r.offset(), align), r.size()));
      if (name != std::string_view("GNU\0", 4)) return;
      // glibc's open_verify matches {namesz 4, descsz 16, type 1, "GNU"} and uses the first.
      if (type == NT_GNU_ABI_TAG && descsz == 16 && !info.abi_tag) {
        ByteReader d(desc, little);
        uint32_t os = d.read<uint32_t>(), major = d.read<uint32_t>(), minor = d.read<uint32_t>(),
                 patch = d.read<uint32_t>();
        if (os == ELF_NOTE_OS_LINUX)
          info.abi_tag =
              std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
      } else if (type == NT_GNU_PROPERTY_TYPE_0) {
        read_properties(desc, little, is64, info);
      }
    });
  }
}

// PT_INTERP: the kernel (fs/binfmt_elf.c) refuses p_filesz < 2 or > PATH_MAX and a last byte
// that is not NUL; the path is what precedes the first NUL.
std::string read_interp(const FileView& r, const Phdr& p) {
  if (p.p_filesz < 2 || p.p_filesz > kMaxInterpSize)
    fail("PT_INTERP size " + std::to_string(p.p_filesz) + " out of range");
  auto bytes = r.sub(p.p_offset, p.p_filesz);
  if (bytes.back() != std::byte{0})
    fail("PT_INTERP at " + hex(p.p_offset) + " is not NUL-terminated within p_filesz " +
         hex(p.p_filesz));
  return std::string(ByteReader(bytes).cstr_at(0));
}

void read_dynamic_info(const FileView& r, bool little, const std::vector<Phdr>& phdrs,
                       const Phdr& dyn, bool is64, ElfInfo& info) {
  Dynamic d = in("PT_DYNAMIC at " + hex(dyn.p_offset),
                 [&] { return read_dynamic(r, little, dyn, is64, info); });
  bool has_strings = !d.needed.empty() || d.soname || d.rpath || d.runpath ||
                     (d.verneed && d.verneednum.value_or(0)) ||
                     (d.verdef && d.verdefnum.value_or(0));
  if (!has_strings) return;
  StringTable strtab(string_table(r, phdrs, d));
  for (uint64_t off : d.needed) info.needed.push_back(strtab.get(off, "DT_NEEDED"));
  if (d.soname) info.soname = strtab.get(*d.soname, "DT_SONAME");
  if (d.rpath) info.rpath = strtab.get(*d.rpath, "DT_RPATH");
  if (d.runpath) info.runpath = strtab.get(*d.runpath, "DT_RUNPATH");
  if (d.verneed && d.verneednum.value_or(0)) {
    auto bytes = map_vaddr(r, phdrs, *d.verneed, "DT_VERNEED");
    info.verneed = in("DT_VERNEED at " + hex(*d.verneed),
                      [&] { return read_verneed(bytes, little, strtab, *d.verneednum); });
  }
  if (d.verdef && d.verdefnum.value_or(0)) {
    auto bytes = map_vaddr(r, phdrs, *d.verdef, "DT_VERDEF");
    info.verdef = in("DT_VERDEF at " + hex(*d.verdef),
                     [&] { return read_verdef(bytes, little, strtab, *d.verdefnum); });
  }
}

ElfInfo parse_checked(const FileView& v, bool kernel_too_old) {
  ElfInfo info;
  ByteReader r(v.sub_prefix(0, std::min<uint64_t>(v.size(), 64)));
  Header h = in("header", [&] { return read_header(r, v, info); });
  const bool little = r.little_endian();
  std::vector<Phdr> phdrs = read_phdrs(v, little, h);
  check_segments(v, phdrs);

  const Phdr* dyn = nullptr;
  for (const Phdr& p : phdrs) {
    switch (p.p_type) {
      case PT_INTERP:
        // The kernel uses the first PT_INTERP. Separate debug files (objcopy --only-keep-debug,
        // /usr/lib/debug/.build-id/...) keep the program headers with p_filesz 0: such a
        // PT_INTERP names nothing, and those files are never run, so it is skipped rather than
        // reported as corrupt.
        if (!info.interp && p.p_filesz != 0) info.interp = read_interp(v, p);
        break;
      case PT_DYNAMIC:
        if (!dyn) dyn = &p;
        break;
      case PT_NOTE:
      case PT_GNU_PROPERTY:
        read_notes(v, little, p, h.is64, info);
        break;
      default:
        break;
    }
  }
  info.has_dynamic = dyn != nullptr;
  if (dyn) read_dynamic_info(v, little, phdrs, *dyn, h.is64, info);
  if (info.is_static() && (info.e_type == ET_EXEC || info.is_static_pie())) {
    info.glibc_kernel_check = kernel_too_old;
  }
  return info;
}

}  // namespace

namespace internal {

FileView::FileView(std::span<const std::byte> whole) : size_(whole.size()), chunks_{{0, whole}} {}

FileView::FileView(uint64_t size, std::vector<Chunk> chunks)
    : size_(size), chunks_(std::move(chunks)) {}

void FileView::check(uint64_t off, uint64_t len) const {
  if (off > size_ || len > size_ - off) {
    // ByteReader::sub's wording over the whole file.
    char buf[160];
    std::snprintf(buf, sizeof buf, "read of %llu bytes at offset 0x%llx exceeds size 0x%llx",
                  static_cast<unsigned long long>(len), static_cast<unsigned long long>(off),
                  static_cast<unsigned long long>(size_));
    throw Error(buf);
  }
}

std::span<const std::byte> FileView::sub(uint64_t off, uint64_t len) const {
  check(off, len);
  if (len == 0) return {};
  for (const Chunk& c : chunks_) {
    if (off >= c.offset && off - c.offset <= c.bytes.size() &&
        len <= c.bytes.size() - (off - c.offset))
      return c.bytes.subspan(off - c.offset, len);
  }
  throw NotKept{off, len};
}

std::span<const std::byte> FileView::sub_prefix(uint64_t off, uint64_t len) const {
  check(off, len);
  if (len == 0) return {};
  std::span<const std::byte> best;
  for (const Chunk& c : chunks_) {
    if (off < c.offset || off - c.offset >= c.bytes.size()) continue;
    auto s = c.bytes.subspan(off - c.offset);
    if (s.size() >= len) return s.first(len);
    if (s.size() > best.size()) best = s;
  }
  if (best.empty()) throw NotKept{off, len};
  truncated_ = true;
  return best;
}

Layout read_layout(const FileView& file) {
  ElfInfo info;
  ByteReader r(file.sub_prefix(0, std::min<uint64_t>(file.size(), 64)));
  Header h = in("header", [&] { return read_header(r, file, info); });
  Layout out;
  out.e_type = info.e_type;
  out.is64 = h.is64;
  out.little = r.little_endian();
  out.phoff = h.e_phoff;
  out.phnum = h.phnum;
  out.phentsize = h.e_phentsize;
  out.shoff = h.e_shoff;
  for (const Phdr& p : read_phdrs(file, out.little, h))
    out.segments.push_back({p.p_type, p.p_flags, p.p_offset, p.p_vaddr, p.p_filesz});
  return out;
}

std::optional<Mapped> map_address(const Layout& layout, uint64_t vaddr) {
  for (const Segment& s : layout.segments) {
    if (s.type != PT_LOAD) continue;
    if (vaddr < s.vaddr || vaddr - s.vaddr >= s.filesz) continue;
    uint64_t delta = vaddr - s.vaddr;
    return Mapped{s.offset + delta, s.filesz - delta};
  }
  return std::nullopt;
}

DynamicRefs read_dynamic_refs(const FileView& file, const Layout& layout, const Segment& dynamic) {
  Phdr p;
  p.p_type = dynamic.type;
  p.p_offset = dynamic.offset;
  p.p_vaddr = dynamic.vaddr;
  p.p_filesz = dynamic.filesz;
  ElfInfo info;
  Dynamic d = read_dynamic(file, layout.little, p, layout.is64, info);
  DynamicRefs out;
  out.strtab = d.strtab;
  out.strsz = d.strsz;
  out.verneed = d.verneed;
  out.verdef = d.verdef;
  out.has_needed = !d.needed.empty();
  out.flags_1 = info.dt_flags_1;
  return out;
}

ElfInfo parse_view(const FileView& file, bool kernel_too_old) {
  try {
    return parse_checked(file, kernel_too_old);
  } catch (const Error& e) {
    std::string_view msg = e.what();
    if (msg.starts_with("ELF: ")) throw;
    throw Error("ELF: " + std::string(msg));
  }
}

}  // namespace internal

bool is_elf(std::span<const std::byte> head) {
  return head.size() >= 4 && as_chars(head.first(4)) ==
                                 "\x7f"
                                 "ELF";
}

ElfInfo parse(std::span<const std::byte> file) {
  // A view of the whole file never throws NotKept.
  ElfInfo info = internal::parse_view(FileView(file), false);
  if (info.is_static() && (info.e_type == ET_EXEC || info.is_static_pie())) {
    std::string_view bytes = as_chars(file), pattern = internal::kKernelTooOld;
    info.glibc_kernel_check = std::search(bytes.begin(), bytes.end(),
                                          std::boyer_moore_horspool_searcher(
                                              pattern.begin(), pattern.end())) != bytes.end();
  }
  return info;
}

std::string machine_name(uint16_t e_machine) {
  switch (e_machine) {
    case 2:
      return "SPARC";
    case 3:
      return "i386";
    case 8:
      return "MIPS";
    case 18:
      return "SPARC32PLUS";
    case 20:
      return "PowerPC";
    case 21:
      return "PowerPC64";
    case 22:
      return "s390";
    case 40:
      return "ARM";
    case 42:
      return "SuperH";
    case 43:
      return "SPARC V9";
    case 50:
      return "IA-64";
    case 62:
      return "x86-64";
    case 183:
      return "AArch64";
    case 243:
      return "RISC-V";
    case 247:
      return "BPF";
    case 258:
      return "LoongArch";
    default:
      return "machine " + hex(e_machine);
  }
}

}  // namespace coroner::elf
