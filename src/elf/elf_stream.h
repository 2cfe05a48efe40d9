// ElfStream: the ELF summary (ElfInfo) of a file read once, block by block, keeping bounded
// windows of it instead of the whole file: the first bytes (header, program headers and, in every
// linker's layout, the dynamic symbol, string and version tables), the segments named by the
// program headers (PT_INTERP, PT_DYNAMIC, PT_NOTE, PT_GNU_PROPERTY) and the tables the dynamic
// section points to when it comes first. "FATAL: kernel too old" is searched in the stream.
// The result is elf::parse's, computed by the same code over the windows kept.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/whole_buffer.h"
#include "elf/elf.h"
#include "elf/elf_view.h"

namespace coroner::elf {

// One of: the ElfInfo elf::parse gives for the whole file; the Error message it throws; or, when
// the file needs bytes that were not kept (its tables lie past the kept prefix, before the
// dynamic section that names them), why not.
struct StreamResult {
  std::optional<ElfInfo> info;
  std::string error;
  std::string not_kept;
};

class ElfStream {
 public:
  // The prefix: the tables the dynamic section names sit at the front of the file in the
  // layouts of GNU ld, gold and lld (libLLVM-14's end at 5 MiB of 105, dockerd's at 12 MiB of
  // 72), but the dynamic section that says where they are comes near the end, so the prefix is
  // kept until then. 16 MiB covers every ELF file of a Debian root with LLVM and Docker; when
  // the first PT_LOAD is not executable (ld -z separate-code, the x86 default: that segment
  // holds the tables and relocations, no code), the prefix grows to its end, up to twice that.
  // Files up to the prefix are kept whole, so for them the result is always exact. A prefix of
  // 16 MiB instead of 32 takes the bench image's peak RSS from 64 to 48 MB.
  static constexpr uint64_t kDefaultPrefix = 16 << 20;
  // Windows past the prefix (segments, tables named by a dynamic section that comes first)
  // together keep at most this many bytes.
  static constexpr uint64_t kDefaultWindows = 32 << 20;

  // `prefix` below 64 counts as 64 (the ELF header). Tests and the fuzzer use small ones to make
  // the windows do the work.
  explicit ElfStream(uint64_t prefix = kDefaultPrefix, uint64_t windows = kDefaultWindows);

  // Starts a file of `size` bytes (its buffers' capacity is kept for the next file).
  void reset(uint64_t size);
  // The next bytes of the file, in order.
  void feed(std::span<const std::byte> block);
  // After the last block.
  StreamResult finish();
  // Frees the buffers (after a big file).
  void release();

  // The most bytes the prefix may keep (twice `prefix`).
  uint64_t prefix_cap() const { return 2 * prefix_cap_; }
  // Bytes held now (for tests and the memory budget).
  uint64_t kept_bytes() const;

 private:
  // The prefix's bytes: sized once per file (the prefix length is known from the file size) and
  // kept for the next file, in a WholeBuffer (huge pages: a 32 MiB prefix in 4 KiB pages costs
  // 8k page faults per file).
  class Buffer {
   public:
    // Empties the buffer and makes room for n bytes.
    void reset(size_t n) {
      mem_.get(n);
      size_ = 0;
    }
    // Requires: size() + b.size() <= the n of reset().
    void append(std::span<const std::byte> b);
    void release() {
      mem_.release();
      size_ = 0;
    }
    size_t size() const { return size_; }
    const std::byte* data() const { return mem_.data(); }
    std::span<const std::byte> span() const { return {mem_.data(), size_}; }

   private:
    WholeBuffer mem_{64 << 20};  // kept up to the largest prefix (2 x 32 MiB)
    size_t size_ = 0;
  };

  struct Window {
    uint64_t offset = 0, end = 0;
    std::vector<std::byte> bytes;  // [offset, offset + bytes.size()) of the file, so far
    bool complete() const { return offset + bytes.size() == end; }
  };

  // Keeps [off, off + len) of the file (clipped to the file), when not in the prefix. With
  // `partial`, a window cut to the budget is still kept (the parser reads it as a prefix).
  // False when those bytes are gone or over the budget.
  bool keep(uint64_t off, uint64_t len, bool partial);
  // Learns from the bytes so far what to keep next, and whether the search still matters.
  void plan();
  void search(std::span<const std::byte> block);
  // The kept bytes as chunks of a view of the file.
  internal::FileView view(uint64_t size) const;

  const uint64_t prefix_cap_, windows_cap_;
  uint64_t size_ = 0, pos_ = 0, prefix_end_ = 0, window_bytes_ = 0;
  Buffer prefix_;
  std::vector<Window> windows_;
  std::optional<internal::Layout> layout_;
  bool plan_done_ = false;
  bool search_ = true, found_ = false;
  std::span<const std::byte> block_;  // the block being fed, file bytes [block_start_, pos_)
  uint64_t block_start_ = 0;
  std::string tail_;  // the last bytes before this block, for a match across blocks
};

}  // namespace coroner::elf
