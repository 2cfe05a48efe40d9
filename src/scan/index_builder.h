// IndexBuilder: turns entries, as a tar header or a folder walk describes them, into a
// LayerIndex: normalised paths in the arena, whiteouts, facts only where needed, content sniffed
// from the blocks the caller streams (one pass, no second read), captured files, and notes.
// Shared by the tar scan (layer_index.cc) and the folder scan (rootfs.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "base/bytes.h"
#include "base/whole_buffer.h"
#include "elf/elf_stream.h"
#include "scan/byte_gate.h"
#include "scan/layer_index.h"
#include "scan/sniff.h"

namespace coroner::scan {

// An entry as read, before normalisation.
struct RawEntry {
  std::string_view name;  // as written in the archive or relative to the folder
  FileType type = FileType::kRegular;
  std::string_view link;  // symlink target as written; hardlink target before normalisation
  std::string_view uname, gname;
  uint64_t size = 0;
  uint64_t data_offset = 0;
  int64_t mtime = 0;
  uint32_t uid = 0, gid = 0, mode = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

class IndexBuilder {
 public:
  IndexBuilder(LayerIndex& out, const ScanOptions& options)
      : out_(out),
        options_(options),
        captured_total_(options.captured_total ? options.captured_total
                                               : std::make_shared<std::atomic<uint64_t>>(0)) {
    if (options_.content_scanner) scanner_ = options_.content_scanner();
  }

  // Adds an entry and returns its index in out.entries, or -1 when it is dropped (with a note).
  // Throws Error naming the entry when its name or hardlink target climbs out of the root.
  int64_t add(RawEntry& raw);

  // Reads the content of entry `i` through `next_block` (returns empty at the end of the
  // content) as far as the sniffers need: the first kSniffBytes for the kind, everything for
  // ELF files (through elf::ElfStream, which keeps bounded windows, not the whole file) and
  // captured files (whole). Stops early otherwise; the caller skips the rest.
  // `read_rest`, when given, reads the rest of the content into a span of exactly that size
  // (TarScanner::read_rest_into): captured contents are then read without a copy per block.
  // `kept`, when not empty, is the whole content as a view for ContentScanner::kept
  // (TarScanner::content_view).
  template <typename NextBlock, typename ReadRest = std::nullptr_t>
  void sniff(int64_t i, NextBlock&& next_block, ReadRest&& read_rest = nullptr,
             std::span<const std::byte> kept = {});

  void note(std::string message);
  // Adds the notes that need the whole layer (duplicate paths).
  void finish();

 private:
  static constexpr size_t kHeadBytes = kSniffBytes;

  // While a whole content, or ELF windows (elf::ElfStream's prefix, up to 32 MiB),
  // larger than kBigBuffer are buffered: a lease on big_buffer_gate(), and the buffers freed
  // once the file is used (not kept for the rest of the layer).
  class BigHold {
   public:
    BigHold(IndexBuilder& b, uint64_t size, bool buffered) : b_(b) {
      if (buffered && size > kBigBuffer) {
        lease_ = big_buffer_gate().acquire(static_cast<size_t>(size));
      }
    }
    ~BigHold() {
      if (lease_) b_.drop_whole();
    }
    BigHold(const BigHold&) = delete;
    BigHold& operator=(const BigHold&) = delete;

   private:
    IndexBuilder& b_;
    ByteGate::Lease lease_;  // given back after drop_whole()
  };

  void drop_whole();
  // Classifies `e` from its head and decides whether the whole content is needed (an ELF file
  // to parse, a captured file).
  bool wants_whole(Entry& e, std::span<const std::byte> head);
  // Records facts and captured content from `content`: the whole content when `whole`, else
  // its head.
  void use_content(Entry& e, std::span<const std::byte> content, bool whole);
  // Records the ELF facts of `e` from elf_ after its last block.
  void use_elf_stream(Entry& e);
  Facts& facts_of(Entry& e);
  std::string_view intern_name(std::string_view s);
  // Hands the matches of the content scanner for entry `i` to the LayerIndex.
  void end_scanner(int64_t i);

  LayerIndex& out_;
  const ScanOptions& options_;
  std::string path_, link_, buf_;
  WholeBuffer whole_{kBigBuffer};        // whole contents read with read_rest
  elf::ElfStream elf_;                   // ELF files not captured: bounded windows
  std::vector<std::string_view> names_;  // interned unames/gnames: few per layer
  // (hash of path, entry index) of every non-whiteout entry; finish() sorts it to find paths
  // written several times (cheaper than a hash map on the per-entry path).
  std::vector<std::pair<uint64_t, uint32_t>> path_hashes_;
  std::unordered_set<std::string> noted_;
  bool capture_ = false, parse_elf_ = false;  // decisions of wants_whole() for this entry
  std::unique_ptr<ContentScanner> scanner_;   // ScanOptions::content_scanner, or null
  std::shared_ptr<std::atomic<uint64_t>> captured_total_;  // against max_captured_total
};

template <typename NextBlock, typename ReadRest>
void IndexBuilder::sniff(int64_t i, NextBlock&& next_block, ReadRest&& read_rest,
                         std::span<const std::byte> kept) {
  if (i < 0) return;
  Entry& e = out_.entries[static_cast<size_t>(i)];
  if (e.type != FileType::kRegular || e.whiteout != Whiteout::kNone) return;
  if (e.size == 0) {
    wants_whole(e, {});
    use_content(e, {}, capture_);
    return;
  }
  // The head, without a copy when the first block holds it.
  size_t want = e.size < kHeadBytes ? static_cast<size_t>(e.size) : kHeadBytes;
  std::span<const std::byte> first = next_block();
  std::span<const std::byte> head = first;
  bool copied = false;
  if (first.size() < want) {
    buf_.assign(reinterpret_cast<const char*>(first.data()), first.size());
    while (buf_.size() < want) {
      std::span<const std::byte> b = next_block();
      if (b.empty()) break;
      buf_.append(reinterpret_cast<const char*>(b.data()), b.size());
    }
    head = {reinterpret_cast<const std::byte*>(buf_.data()), buf_.size()};
    copied = true;
  }
  bool whole = wants_whole(e, head);
  const bool in_place = !kept.empty() && kept.size() == e.size;
  // ELF files are read through elf_'s bounded windows, unless captured (then whole) or whole in
  // place (a mapped plain layer: elf::parse reads the pages it needs, nothing is copied).
  const bool elf_in_place = parse_elf_ && !capture_ && in_place;
  const bool windows = parse_elf_ && !capture_ && !in_place;
  if (windows || elf_in_place) whole = false;
  BigHold hold(*this, windows ? std::min(e.size, elf_.prefix_cap()) : e.size, whole || windows);
  // The content scanner reads on to the end of the file; `head` holds every byte read so far.
  bool scan = scanner_ && scanner_->begin(e.path, e.size, e.kind);
  if (scan && in_place) scanner_->kept(kept);
  if (elf_in_place) use_content(e, kept, true);
  if (!whole && !windows && !scan) {
    if (!elf_in_place) use_content(e, head, false);
    return;
  }
  // The whole content is in the first block: parsed in place (elf::parse, as elf_ would).
  if ((whole || windows) && !scan && !copied && first.size() == e.size) {
    use_content(e, first, true);
    return;
  }
  if constexpr (!std::is_same_v<std::decay_t<ReadRest>, std::nullptr_t>) {
    if (whole && !scan && head.size() < e.size) {
      size_t n = static_cast<size_t>(e.size);
      std::byte* dst = whole_.get(n);
      std::memcpy(dst, head.data(), head.size());
      read_rest(std::span<std::byte>(dst + head.size(), n - head.size()));
      use_content(e, {dst, n}, true);
      return;
    }
  }
  if (scan) scanner_->feed(head);
  if (windows) {
    elf_.reset(e.size);
    elf_.feed(head);
  }
  if (whole) buf_.reserve(static_cast<size_t>(e.size));  // no doubling copies while it grows
  if (whole && !copied) buf_.assign(reinterpret_cast<const char*>(first.data()), first.size());
  if (!whole && !elf_in_place) use_content(e, head, false);  // before blocks overwrite `head`
  for (;;) {
    std::span<const std::byte> b = next_block();
    if (b.empty()) break;
    if (scan) scanner_->feed(b);
    if (windows) elf_.feed(b);
    if (whole) buf_.append(reinterpret_cast<const char*>(b.data()), b.size());
  }
  if (scan) end_scanner(i);
  if (windows) use_elf_stream(e);
  if (whole) use_content(e, as_bytes(buf_), true);
}

}  // namespace coroner::scan
