// Tar headers of a layer stream, in two readers behind one interface (TarScanner):
// - a hand-written fast path for the common headers (ustar and GNU ustar blocks, pax 'x'
//   records for the fields we keep, GNU 'L'/'K' long names), reading content in place;
// - libarchive's tar reader (TarReader) for everything else, and for every malformed or unusual
//   header: the fast path hands the stream over, from the first header block of that entry on.
// TarReader maps libarchive's status ladder to C++: ARCHIVE_WARN becomes a note, FAILED and FATAL
// an Error, and an Error thrown by the stream inside the callback crosses libarchive's C frames
// as a stored exception.
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scan/index_builder.h"
#include "scan/layer_stream.h"

struct archive;
struct archive_entry;

namespace coroner::scan {

class TarReader {
 public:
  // Reads `prefix` first, then the rest of `in`; offsets are counted from `base` (the offset of
  // prefix[0] in the uncompressed stream). Requires: `in` outlives this object.
  explicit TarReader(LayerStream& in, std::string prefix = {}, uint64_t base = 0);
  ~TarReader();
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // The next header, or nullptr at the end-of-archive marker. The entry is owned by libarchive
  // and valid until the next call. Throws Error on a corrupt or truncated archive.
  archive_entry* next();
  // The next block of the current entry's content, pointing into the stream's buffer (no copy);
  // empty at the end of the entry.
  std::span<const std::byte> read_block();
  // The same with the block's offset in the entry's content, which has gaps (holes) for a
  // sparse entry. False at the end of the entry.
  bool read_block_at(std::span<const std::byte>& block, uint64_t& offset);
  // Offset of the current entry's content in the uncompressed stream (after next()).
  uint64_t data_offset() const { return data_offset_; }
  // Offset of the current header (for messages).
  uint64_t header_offset() const { return header_offset_; }
  // Warnings libarchive reported for the current header (ARCHIVE_WARN), already de-duplicated
  // per entry; cleared by next().
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  static long read_callback(archive* a, void* self, const void** buf);
  [[noreturn]] void fail(const char* what);

  struct Free {
    void operator()(archive* a) const;
  };

  LayerStream& in_;
  std::string prefix_;
  bool prefix_given_ = false;
  uint64_t base_ = 0;
  std::unique_ptr<archive, Free> owner_;  // owns a_ from its creation, also if open fails
  archive* a_;
  std::exception_ptr stream_error_;
  uint64_t data_offset_ = 0;
  uint64_t header_offset_ = 0;
  std::vector<std::string> warnings_;
};

// The expanded content of a sparse entry (GNU sparse 0.0, 0.1 and 1.0 in pax, old GNU 'S'),
// from libarchive's (offset, data) blocks: holes become zeros. The sparse map is hostile input:
// blocks must go forward and stay inside the entry's size (an Error naming `path` otherwise;
// TarScanner checks the whole map of every sparse entry, also when its content is not read),
// and every hole byte is charged to `hole_budget` (an Error once it is spent), so a tiny tar
// cannot expand into terabytes of zeros.
class SparseContent {
 public:
  // Requires: `tar` and `hole_budget` outlive this object; `tar` is at the entry's header.
  SparseContent(TarReader& tar, uint64_t size, uint64_t& hole_budget, std::string path);
  // The next block (zeros for a hole: a view of a static buffer); empty at the end, after
  // exactly `size` bytes.
  std::span<const std::byte> next();
  // Reads the rest of the entry without expanding the holes, checking the map.
  void skip_rest();

 private:
  // Throws unless a data block of `n` bytes at `at` follows what came before and fits the size.
  void check(uint64_t at, size_t n) const;

  TarReader& tar_;
  uint64_t size_;
  uint64_t& budget_;
  std::string path_;
  uint64_t pos_ = 0;                 // bytes of the expanded content returned so far
  std::span<const std::byte> data_;  // a data block not yet returned (after the hole before it)
  uint64_t data_at_ = 0;             // its offset
  bool have_data_ = false, end_ = false;
};

// The entries of a tar stream as RawEntry values, through the fast path while the headers allow
// it and through libarchive from the first header that does not (see the top of this file).
// Why the records of a pax extended header (the data of an 'x' or 'g' entry) are malformed, by
// the rules of Go's archive/tar (parsePAXRecord, validPAXRecord), which docker and containerd
// unpack layers with: "LEN KEY=VALUE\n" records that fill the data exactly, no NUL in a key, nor
// in a path, linkpath, uname or gname value. nullopt when they are well formed.
std::optional<std::string> invalid_pax_records(std::string_view records);
// What an Error about such a header adds.
inline constexpr const char* kGoRejects =
    " (docker and containerd unpack layers with Go's archive/tar, which rejects it)";

class TarScanner {
 public:
  // Requires: `in` outlives this object. `fast` false: libarchive only (tests and fuzzing
  // compare the two).
  explicit TarScanner(LayerStream& in, bool fast = true);
  ~TarScanner();
  TarScanner(const TarScanner&) = delete;
  TarScanner& operator=(const TarScanner&) = delete;

  // Reads the next header into `raw` (its views stay valid until the next call); false at the
  // end-of-archive marker or at the end of the stream on a header boundary. Skips what is left
  // of the previous entry's content. Throws Error on a corrupt or truncated archive.
  bool next(RawEntry& raw);
  // True when the current entry is a sparse file: read_block() gives its expanded content.
  bool sparse() const { return sparse_; }
  // Bytes of holes all sparse entries may expand to together (SparseContent); unlimited unless
  // set.
  void limit_holes(uint64_t n) { hole_budget_ = n; }
  // The next block of the current entry's content (no copy); empty at its end.
  std::span<const std::byte> read_block();
  // The current entry's whole content as one view that stays readable until the LayerStream is
  // destroyed (LayerStream::kept), before its first read_block(); empty when the stream cannot
  // give that (compressed, not mapped, sparse, read by libarchive).
  std::span<const std::byte> content_view() const;
  // Reads the rest of the current entry's content into `dst` (exactly left() bytes), straight
  // from the blob where the stream allows it (LayerStream::read_direct), else block by block.
  // Throws Error if the stream ends first.
  void read_rest_into(std::span<std::byte> dst);
  // Warnings about the current header (from libarchive), cleared by next().
  const std::vector<std::string>& warnings() const;
  // After next() returned false: what the end of the archive ignored (extended headers with no
  // entry after them), else empty.
  const std::string& end_note() const { return end_note_; }
  // True once libarchive reads the stream (for tests and benchmarks).
  bool fell_back() const { return lib_ != nullptr; }

 private:
  void read_rest_unsynced(std::span<std::byte> dst);
  enum class Fast { kEntry, kEnd, kFallback };

  Fast fast_next(RawEntry& raw);
  bool lib_next(RawEntry& raw);
  void fall_back();
  // Makes the next chunk current; false at the end of the stream. Keeps the bytes of the
  // current entry's headers for a hand-over to libarchive.
  bool next_chunk();
  // `n` contiguous bytes (a view into the chunk or a copy in `tmp`), or empty if the stream
  // ends first. Requires: n <= max_ext_ + 512.
  std::string_view take(size_t n, std::string& tmp);
  // Skips `n` bytes; false if the stream ends first.
  bool skip(uint64_t n);
  bool parse_pax(std::string_view records);

  LayerStream& in_;
  std::unique_ptr<TarReader> lib_;
  archive_entry* lib_entry_ = nullptr;
  bool fast_ = true;
  bool sparse_ = false;
  std::unique_ptr<SparseContent> sparse_content_;  // the current entry's, when sparse_
  uint64_t hole_budget_ = UINT64_MAX;
  uint64_t lib_pos_ = 0;  // content bytes of the current libarchive entry read so far

  // Fast path state.
  std::span<const std::byte> cur_;  // unread rest of the current chunk
  const std::byte* chunk_end_ = nullptr;
  uint64_t pos_ = 0;                 // stream offset of cur_.data()
  uint64_t left_ = 0;                // content bytes of the current entry not yet read
  uint64_t pad_ = 0;                 // padding after the content
  uint64_t entry_start_ = 0;         // stream offset of the current entry's first header block
  const std::byte* mark_ = nullptr;  // where this entry's headers start in the current chunk
  std::string kept_;                 // this entry's header bytes from earlier chunks
  bool in_headers_ = false;
  std::string hdr_tmp_, ext_tmp_;  // headers and extension data that straddle chunks
  std::string name_, link_, uname_, gname_;
  // Pax and GNU extension values for the next entry.
  std::string pax_path_, pax_link_, pax_uname_, pax_gname_, gnu_name_, gnu_link_;
  bool has_pax_path_ = false, has_pax_link_ = false, has_pax_uname_ = false, has_pax_gname_ = false,
       has_gnu_name_ = false, has_gnu_link_ = false;
  bool has_size_ = false, has_uid_ = false, has_gid_ = false, has_mtime_ = false;
  bool has_major_ = false, has_minor_ = false;
  uint64_t pax_size_ = 0, pax_uid_ = 0, pax_gid_ = 0, pax_major_ = 0, pax_minor_ = 0;
  int64_t pax_mtime_ = 0;
  std::vector<std::pair<std::string, std::string>> xattrs_;
  std::vector<std::string> no_warnings_;
  std::string end_note_;
};

}  // namespace coroner::scan
