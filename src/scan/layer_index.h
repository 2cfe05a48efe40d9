// LayerIndex: what one layer holds, collected in a single streaming pass over its tar: every
// entry's metadata, and compact facts about content (ELF summary, script first line, text or
// binary, captured small files the diagnosis needs), never the content itself. Layers are
// scanned in parallel; fs/ merges the indexes. Commands that need whole content re-read one
// entry with read_entry(). The pass: blob -> LayerStream (compression sniffed, ISA-L / libzstd,
// digests on a second thread) -> TarScanner (ustar/pax/GNU fast path, libarchive for the rest) ->
// IndexBuilder (sniff.h).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "elf/elf.h"
#include "image/source.h"

namespace coroner::scan {

enum class FileType : uint8_t {
  kRegular,
  kDirectory,
  kSymlink,
  kHardlink,
  kCharDevice,
  kBlockDevice,
  kFifo,
  kSocket,
};

enum class Whiteout : uint8_t {
  kNone,
  kFile,    // ".wh.NAME": `path` is the deleted NAME (the marker name itself is not kept)
  kOpaque,  // ".wh..wh..opq": `path` is the directory whose lower contents are hidden
};

enum class ContentKind : uint8_t {
  kNone,    // not a regular file
  kEmpty,   // regular, zero bytes
  kElf,     // starts with \x7fELF
  kScript,  // starts with "#!"
  kText,    // no NUL and valid UTF-8 in the first block
  kBinary,
};

// Owns the bytes of paths and names; string_views into it stay valid when the arena moves.
class StringArena {
 public:
  std::string_view add(std::string_view s);
  // Bytes held by the arena's blocks (for memory accounting).
  size_t allocated_bytes() const { return allocated_; }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  size_t used_ = kBlock;
  size_t allocated_ = 0;
};

// An optional value kept on the heap: 8 bytes when empty, where std::optional<T> would hold a
// whole T inline. Copies are deep. Reads like std::optional (bool, *, ->, has_value()).
template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}  // NOLINT(google-explicit-constructor): as std::optional
  Boxed(T v) : p_(std::make_unique<T>(std::move(v))) {}  // NOLINT(google-explicit-constructor)
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }
  Boxed& operator=(T v) {
    p_ = std::make_unique<T>(std::move(v));
    return *this;
  }

  bool has_value() const { return p_ != nullptr; }
  explicit operator bool() const { return p_ != nullptr; }
  // Requires: has_value().
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  void reset() { p_.reset(); }

 private:
  std::unique_ptr<T> p_;
};

// Rare or content-derived facts of an entry, kept out of Entry to keep it small (the ELF summary
// is boxed: scripts, xattrs and devices do not pay for its ~350 bytes).
struct Facts {
  Boxed<elf::ElfInfo> elf;
  std::string elf_error;   // why elf::parse failed (feeds elf-corrupt); empty when it did not
  std::string first_line;  // scripts: line 1 up to 256 bytes, "\r" kept (the kernel keeps it)
  std::vector<std::pair<std::string, std::string>> xattrs;  // security.capability among them
  uint32_t dev_major = 0, dev_minor = 0;
};

// One tar entry: sizeof(Entry) is 112 bytes on 64-bit targets, plus its path in the arena
// (uname/gname are interned; ~140 bytes per entry measured on a 2,700-file layer).
struct Entry {
  static constexpr uint32_t kNoFacts = UINT32_MAX;

  std::string_view path;   // normalised: relative, no "./" or leading "/", no trailing "/"; the
                           // root directory itself is "."
  std::string_view link;   // symlink: target as written; hardlink: normalised target path
  std::string_view uname;  // tar uname/gname as written (may be empty)
  std::string_view gname;
  uint64_t size = 0;         // content bytes (regular files)
  uint64_t data_offset = 0;  // offset of the content in the uncompressed layer stream
  int64_t mtime = 0;
  uint32_t uid = 0, gid = 0;
  uint32_t mode = 0;  // permission bits with setuid/setgid/sticky (07777)
  uint32_t facts = kNoFacts;
  FileType type = FileType::kRegular;
  Whiteout whiteout = Whiteout::kNone;
  ContentKind kind = ContentKind::kNone;
  bool sparse = false;  // a sparse tar entry: `size` is the expanded size, and the content is
                        // not at data_offset (read it with read_entry or open_sparse_entry)
};

// A match of a ContentScanner (ScanOptions::content_scanner): where, which pattern, and a
// redacted form of the matched bytes. Never the matched bytes themselves.
struct ContentMatch {
  uint32_t entry = 0;    // index into LayerIndex::entries
  uint32_t line = 0;     // 1-based line of the match start
  uint16_t rule = 0;     // the scanner's own pattern number (rules/secrets.h: secret_rules())
  std::string redacted;  // e.g. "AKIA…(20)"
};

// Sees the content of regular files while the layer streams (rules/secrets.h implements it for
// secrets). One object per layer scan, used by one thread and reused for every file: begin()
// says whether this file is wanted (from its path, size and sniffed kind), then feed() gets
// every block in order, then end() appends the matches. Files it declines cost nothing more.
// A scanner may complete the `redacted` text of matches it appended (pkg/digest_pass.h hashes on
// a thread of its own) until it is destroyed: the scan destroys it before it returns the
// LayerIndex.
class ContentScanner {
 public:
  virtual ~ContentScanner() = default;
  // The layer this scanner is about to see, when the scan knows it (scan_image; a streamed scan
  // places its layers only after reading them and does not call this).
  virtual void set_layer(uint32_t /*index*/) {}
  virtual bool begin(std::string_view path, uint64_t size, ContentKind kind) = 0;
  // Called after begin() returned true and before the first feed() when the scan has the file's
  // whole content as one view that stays readable until this scanner is destroyed (a mapped
  // plain layer): the scanner may keep the view rather than copy the blocks, and madvise
  // (MADV_DONTNEED) whole pages of it once done (the page cache keeps them). All the views a
  // scanner gets lie in one mapping (its layer's blob), in increasing order, so the pages
  // between two of them are that mapping's too. feed() still gets every block.
  virtual void kept(std::span<const std::byte> /*content*/) {}
  virtual void feed(std::span<const std::byte> block) = 0;
  virtual void end(std::vector<ContentMatch>& out) = 0;  // entry is set by the caller
};

struct LayerIndex {
  uint32_t index = 0;     // position in the image, bottom is 0
  image::LayerDesc desc;  // as the source described it
  std::string diff_id;    // sha256 of the uncompressed stream, as computed (only with verify)
  image::Compression compression = image::Compression::kNone;
  uint64_t compressed_bytes = 0;  // blob bytes read
  uint64_t uncompressed_bytes = 0;
  std::vector<Entry> entries;  // in archive order; duplicates kept (the later wins, noted)
  std::vector<Facts> facts;
  std::map<std::string, std::string, std::less<>> captured;  // path -> whole content
  std::vector<std::string> notes;             // per-file problems that did not stop the scan
  std::vector<ContentMatch> content_matches;  // by entry index; empty without a content_scanner
  StringArena arena;
};

// The default of ScanOptions::max_sparse_holes, which also bounds re-reads of sparse entries
// (open_sparse_entry, read_entry).
inline constexpr uint64_t kMaxSparseHoles = 4ull << 30;

struct ScanOptions {
  // Keep the whole content of regular files for which this returns true (path is normalised),
  // up to max_capture bytes: /etc/passwd, ld.so.cache, dpkg status... for the later stages.
  // Each predicate sets its own, smaller limits; max_capture is the largest any may ask for (an
  // rpm database of a RHEL 8 or CentOS 7 image takes 20-60 MB).
  std::function<bool(std::string_view path, uint64_t size)> capture;
  uint64_t max_capture = 64 << 20;
  // Bound on the bytes captured over all the layers of one scan_image (per layer for a lone
  // scan_layer): each layer keeps its own copy of a file it rewrites (the rpm database of every
  // layer that installs a package), so a hostile image could otherwise make each of hundreds of
  // layers capture max_capture bytes. A capture that would pass it is refused with a note.
  uint64_t max_captured_total = 1ull << 30;
  // The bytes captured so far against max_captured_total, shared by the layers of a scan
  // (scan_image sets it; null: a counter per layer).
  std::shared_ptr<std::atomic<uint64_t>> captured_total;
  // Also keep scripts ("#!" files) and executable text files up to this many bytes (0: none):
  // the exec simulation reads entrypoint scripts (`exec "$@"`) and files without "#!", which a
  // path-based `capture` cannot pick out before the content is sniffed.
  uint64_t capture_scripts_up_to = 0;
  // ELF files up to this size are buffered and parsed; larger ones get a note.
  uint64_t max_elf = 1ull << 30;
  // Compute the blob digest and the diff_id while streaming and compare them with
  // LayerDesc.digest / diff_id when those are set (an Error if they differ). Off: no digests
  // (LayerIndex.diff_id stays empty), for tools that trust their input and for fuzzing.
  bool verify = true;
  // Bound on the uncompressed size of one layer (a compression bomb is an Error, not a hang).
  uint64_t max_uncompressed = 1ull << 40;
  // Bound on the zeros that the holes of sparse entries expand to, per layer, when the scan
  // reads their content (ELF facts, captures, content scanners such as the md5 pass): a tar of
  // a few KiB can declare a file of terabytes. Docker and Go's archive/tar never write sparse
  // entries, so real images stay far below it.
  uint64_t max_sparse_holes = kMaxSparseHoles;
  unsigned threads = 0;  // 0: one per core
  // Progress while the layers stream (cli/ draws it on a terminal): layer position and blob
  // bytes read so far, at most every ~100 ms per layer and once when the layer is done. Called
  // from the scanning threads, so it must be thread-safe. Unset: no calls.
  std::function<void(uint32_t layer, uint64_t bytes)> progress;
  // Content scanning in the same pass (the audit's secrets): called once per layer scan. Unset:
  // no scanner, and the scan reads no more content than it would anyway.
  std::function<std::unique_ptr<ContentScanner>()> content_scanner;
  // Called by scan_image (not by a streamed scan) with each layer's complete index as soon as
  // that layer is done, from the scanning thread: must be thread-safe. Lets a content scanner of
  // a lower layer skip files a finished upper layer replaces (pkg/digest_pass.h).
  std::function<void(const LayerIndex&)> layer_scanned;
  // Parse common tar headers with the hand-written fast path (tar_reader.h); false: libarchive
  // for every header (tests and the fuzzer compare the two).
  bool tar_fast_path = true;
};

// "layer 3 (sha256:1a2b3c4d5e6f…)": how messages name a layer (the index, bottom is 0, and the
// first 12 hex digits of the blob digest when there is one).
std::string layer_context(uint32_t index, std::string_view digest);

// Scans one layer blob (gzip, zstd or plain tar, sniffed by magic). Throws Error "layer N
// (sha256:…): <detail>" on a corrupt, truncated or oversized stream, a digest mismatch, or an
// entry whose name (or hardlink target) has a ".." component. Per-file problems (a corrupt ELF,
// an oversized capture, a bare ".wh." whiteout, duplicate paths) become facts or notes.
LayerIndex scan_layer(ByteStream& blob, const image::LayerDesc& desc, uint32_t index,
                      const ScanOptions& options);

// Scans every layer of `source`, in parallel (options.threads), and returns them bottom first.
// The bottom layer (usually the largest) is started first, then the others from the top down, so
// that upper layers are often done (options.layer_scanned) while the bottom one streams.
// A layer with source.layer_dir(i) is scanned as a folder (rootfs.h). On errors, the one of the
// lowest failing layer is rethrown.
std::vector<LayerIndex> scan_image(const image::ImageSource& source, const ScanOptions& options);

// Streams the content of `entry` of layer `layer` again, in chunks, to `sink`: the layer is
// decompressed again and skipped to entry.data_offset (no tar parsing); a folder layer reads the
// file with O_NOFOLLOW on every component. A hardlink reads its target in the same layer; one
// whose target is in a lower layer is an Error (resolve it through fs/ first). A sparse entry is
// read by parsing the layer's tar again up to it (open_sparse_entry).
void read_entry(const image::ImageSource& source, const LayerIndex& layer, const Entry& entry,
                const std::function<void(std::span<const std::byte>)>& sink);

// The expanded content (entry.size bytes, holes as zeros) of a sparse entry of a tar layer: the
// layer is decompressed and its tar parsed again up to the entry (found by data_offset).
// Requires: entry.sparse, and `entry` is an entry of `layer`.
std::unique_ptr<ByteStream> open_sparse_entry(const image::ImageSource& source,
                                              const LayerIndex& layer, const Entry& entry);

}  // namespace coroner::scan
