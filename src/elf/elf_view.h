// Internal to src/elf: the file as elf.cc's parser sees it. Either the whole file in memory
// (elf::parse) or the windows of it that elf_stream.cc kept while the file streamed past: the
// parser reads only through this view, so both give the same ElfInfo, and a read of bytes that
// were not kept is a NotKept (not an Error: the file is not corrupt, the window was too small).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "elf/elf.h"

namespace coroner::elf::internal {

// Thrown (not derived from Error, so no `in()` context wrapper catches it) when the parser needs
// bytes of the file that the windowed reader did not keep.
struct NotKept {
  uint64_t offset = 0, length = 0;
};

// A kept window: the file bytes [offset, offset + bytes.size()).
struct Chunk {
  uint64_t offset = 0;
  std::span<const std::byte> bytes;
};

class FileView {
 public:
  // The whole file.
  explicit FileView(std::span<const std::byte> whole);
  // A file of `size` bytes of which only `chunks` are known. Requires: chunks lie in the file.
  FileView(uint64_t size, std::vector<Chunk> chunks);

  uint64_t size() const { return size_; }
  // Error, with ByteReader's wording over the whole file, when [off, off+len) is not in the file.
  void check(uint64_t off, uint64_t len) const;
  // The bytes [off, off+len): Error when not in the file, NotKept when not kept.
  std::span<const std::byte> sub(uint64_t off, uint64_t len) const;
  // Like sub, but when only a part starting at `off` is kept, that part, and truncated() becomes
  // true. For the tables the parser reads through a span running to the end of a segment (the
  // string table, the version records) of which it uses only the first bytes: a parse that
  // succeeds on the shorter span read the same bytes as on the whole span; one that fails may
  // have failed only for the missing part, which finish() reports as NotKept.
  std::span<const std::byte> sub_prefix(uint64_t off, uint64_t len) const;
  bool truncated() const { return truncated_; }

 private:
  uint64_t size_ = 0;
  std::vector<Chunk> chunks_;
  mutable bool truncated_ = false;
};

// elf::parse over a view; `kernel_too_old` says whether the file holds "FATAL: kernel too old"
// (searched by the caller, who has seen every byte). Throws Error as elf::parse does, or
// NotKept.
ElfInfo parse_view(const FileView& file, bool kernel_too_old);

// What the windowed reader needs to know early, read by the parser's own code (so with its
// checks): the header and program headers, then the first PT_DYNAMIC's references. Both throw
// Error or NotKept.
struct Segment {
  uint32_t type = 0, flags = 0;
  uint64_t offset = 0, vaddr = 0, filesz = 0;
};
struct Layout {
  uint16_t e_type = 0;
  bool is64 = false, little = true;
  uint64_t phoff = 0, phnum = 0, phentsize = 0, shoff = 0;
  std::vector<Segment> segments;
};
Layout read_layout(const FileView& file);
// The file offset of virtual address `vaddr` and the file bytes left in its PT_LOAD from there,
// or nullopt when no PT_LOAD maps it.
struct Mapped {
  uint64_t offset = 0, length = 0;
};
std::optional<Mapped> map_address(const Layout& layout, uint64_t vaddr);
struct DynamicRefs {
  std::optional<uint64_t> strtab, strsz, verneed, verdef;
  bool has_needed = false;
  uint64_t flags_1 = 0;
};
// Requires: `dynamic` is a PT_DYNAMIC of `layout`.
DynamicRefs read_dynamic_refs(const FileView& file, const Layout& layout, const Segment& dynamic);

// The string glibc_kernel_check looks for.
inline constexpr char kKernelTooOld[] = "FATAL: kernel too old";

}  // namespace coroner::elf::internal
