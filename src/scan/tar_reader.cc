#include "scan/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <string_view>

#include "base/error.h"
#include "base/text.h"

namespace coroner::scan {

// --- libarchive -------------------------------------------------------------------------------

void TarReader::Free::operator()(archive* a) const { archive_read_free(a); }

TarReader::TarReader(LayerStream& in, std::string prefix, uint64_t base)
    : in_(in),
      prefix_(std::move(prefix)),
      base_(base),
      owner_(archive_read_new()),
      a_(owner_.get()) {
  CORONER_CHECK(a_ != nullptr);
  // Only the tar format and no filters: we decompress ourselves, with ISA-L and libzstd, because
  // libarchive's built-in gzip path (zlib) is ~2.6x slower than ISA-L's inflate, and because the
  // digests must see the exact compressed and uncompressed bytes in the same pass.
  archive_read_support_format_tar(a_);
  // Taking over from the fast path mid-stream: no format bid, which checks the first header
  // more strictly than the tar reader checks later ones (number fields), so the libarchive that
  // would have read the stream from the start would not have bid on this header either.
  if (base_ > 0 && archive_read_set_format(a_, ARCHIVE_FORMAT_TAR) != ARCHIVE_OK) {
    fail("set format");
  }
  if (archive_read_open(a_, this, nullptr, &TarReader::read_callback, nullptr) != ARCHIVE_OK) {
    fail("open");
  }
}

TarReader::~TarReader() = default;

long TarReader::read_callback(archive* a, void* self, const void** buf) {
  auto* r = static_cast<TarReader*>(self);
  if (!r->prefix_given_) {
    r->prefix_given_ = true;
    if (!r->prefix_.empty()) {
      *buf = r->prefix_.data();
      return static_cast<long>(r->prefix_.size());
    }
  }
  // Exceptions must not unwind through libarchive's C frames: keep it, fail the call, and
  // rethrow it in fail().
  try {
    std::span<const std::byte> chunk = r->in_.next();
    *buf = chunk.data();
    return static_cast<long>(chunk.size());
  } catch (...) {
    r->stream_error_ = std::current_exception();
    archive_set_error(a, EIO, "layer stream failed");
    return ARCHIVE_FATAL;
  }
}

void TarReader::fail(const char* what) {
  if (stream_error_) std::rethrow_exception(stream_error_);
  const char* msg = archive_error_string(a_);
  throw Error(std::string("tar: ") + what + " at offset " + std::to_string(header_offset_) + ": " +
              (msg ? msg : "damaged or truncated archive (libarchive gives no detail)"));
}

archive_entry* TarReader::next() {
  warnings_.clear();
  header_offset_ = base_ + static_cast<uint64_t>(archive_filter_bytes(a_, 0));
  archive_entry* e = nullptr;
  int r = archive_read_next_header(a_, &e);
  if (r == ARCHIVE_EOF) return nullptr;
  if (r < ARCHIVE_WARN) fail("header");
  if (r == ARCHIVE_WARN) {
    const char* msg = archive_error_string(a_);
    std::string_view m = msg ? msg : "";
    // libarchive converts pax UTF-8 names to the current locale and warns when it cannot (the
    // C locale); the bytes are kept as they are, which is what we want.
    if (m.find("can't be converted") == std::string_view::npos) warnings_.emplace_back(m);
  }
  // The tar reader has consumed the header blocks (ustar, pax, GNU long names) and none of the
  // content yet, so the position of the stream it reads is where the content starts.
  data_offset_ = base_ + static_cast<uint64_t>(archive_filter_bytes(a_, 0));
  header_offset_ = base_ + static_cast<uint64_t>(archive_read_header_position(a_));
  return e;
}

std::span<const std::byte> TarReader::read_block() {
  std::span<const std::byte> block;
  uint64_t offset = 0;
  if (!read_block_at(block, offset)) return {};
  return block;
}

bool TarReader::read_block_at(std::span<const std::byte>& block, uint64_t& offset) {
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t at = 0;
  int r = archive_read_data_block(a_, &buf, &size, &at);
  if (r == ARCHIVE_EOF) return false;
  if (r < ARCHIVE_WARN) fail("content");
  if (at < 0) {
    throw Error("tar: content at offset " + std::to_string(header_offset_) +
                ": negative sparse offset");
  }
  block = {static_cast<const std::byte*>(buf), size};
  offset = static_cast<uint64_t>(at);
  return true;
}

// --- sparse entries ----------------------------------------------------------------------------

namespace {

constexpr size_t kZeroBlock = 64 * 1024;
const std::byte kZeros[kZeroBlock] = {};

}  // namespace

SparseContent::SparseContent(TarReader& tar, uint64_t size, uint64_t& hole_budget, std::string path)
    : tar_(tar), size_(size), budget_(hole_budget), path_(std::move(path)) {}

void SparseContent::check(uint64_t at, size_t n) const {
  // libarchive keeps invalid map entries in what it reads (archive_entry's sparse list drops
  // them silently), so the blocks themselves are checked.
  if (at < pos_) {
    throw Error(escape(path_) + ": sparse map: data at offset " + std::to_string(at) +
                " overlaps the content before it (up to " + std::to_string(pos_) + ")");
  }
  if (at > size_ || n > size_ - at) {
    throw Error(escape(path_) + ": sparse map: data at offset " + std::to_string(at) + " (" +
                std::to_string(n) + " bytes) is past the file size " + std::to_string(size_));
  }
}

std::span<const std::byte> SparseContent::next() {
  if (!have_data_ && !end_) {
    uint64_t at = 0;
    std::span<const std::byte> b;
    if (!tar_.read_block_at(b, at)) {
      end_ = true;  // a hole up to the size, if any
    } else {
      check(at, b.size());
      data_ = b;
      data_at_ = at;
      have_data_ = true;
    }
  }
  uint64_t hole_end = end_ ? size_ : data_at_;
  if (pos_ < hole_end) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(hole_end - pos_, kZeroBlock));
    if (n > budget_) {
      throw Error(escape(path_) + ": sparse file of " + std::to_string(size_) +
                  " bytes: its holes expand past the limit of zeros that the holes of sparse "
                  "entries may add to one layer (docker and Go's archive/tar never write sparse "
                  "entries)");
    }
    budget_ -= n;
    pos_ += n;
    return {kZeros, n};
  }
  if (!have_data_) return {};
  have_data_ = false;
  pos_ += data_.size();
  return data_;
}

void SparseContent::skip_rest() {
  if (have_data_) pos_ = data_at_ + data_.size();
  have_data_ = false;
  while (!end_) {
    uint64_t at = 0;
    std::span<const std::byte> b;
    if (!tar_.read_block_at(b, at)) break;
    check(at, b.size());
    pos_ = at + b.size();
  }
  end_ = true;
}

namespace {

FileType file_type(archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr) return FileType::kHardlink;
  switch (archive_entry_filetype(e)) {
    case AE_IFDIR:
      return FileType::kDirectory;
    case AE_IFLNK:
      return FileType::kSymlink;
    case AE_IFCHR:
      return FileType::kCharDevice;
    case AE_IFBLK:
      return FileType::kBlockDevice;
    case AE_IFIFO:
      return FileType::kFifo;
    case AE_IFSOCK:
      return FileType::kSocket;
    default:
      return FileType::kRegular;  // libarchive maps unknown typeflags to regular files
  }
}

std::string_view or_empty(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// libarchive reports an xattr twice when both SCHILY.xattr and LIBARCHIVE.xattr records carry
// it: keep one per name, the later value.
void add_xattr(std::vector<std::pair<std::string, std::string>>& xattrs, std::string_view name,
               std::string value) {
  auto same = [&](const auto& kv) { return kv.first == name; };
  auto it = std::find_if(xattrs.begin(), xattrs.end(), same);
  if (it != xattrs.end()) {
    it->second = std::move(value);
  } else {
    xattrs.emplace_back(std::string(name), std::move(value));
  }
}

// Fills `raw` from a libarchive header.
void read_header(archive_entry* e, const TarReader& tar, RawEntry& raw) {
  const char* name = archive_entry_pathname(e);
  if (!name) throw Error("entry without a name at offset " + std::to_string(tar.header_offset()));
  raw.name = name;
  raw.type = file_type(e);
  raw.link = raw.type == FileType::kHardlink  ? or_empty(archive_entry_hardlink(e))
             : raw.type == FileType::kSymlink ? or_empty(archive_entry_symlink(e))
                                              : std::string_view();
  raw.uname = or_empty(archive_entry_uname(e));
  raw.gname = or_empty(archive_entry_gname(e));
  raw.size = archive_entry_size_is_set(e) ? static_cast<uint64_t>(archive_entry_size(e)) : 0;
  raw.data_offset = tar.data_offset();
  raw.mtime = archive_entry_mtime(e);
  raw.uid = static_cast<uint32_t>(archive_entry_uid(e));
  raw.gid = static_cast<uint32_t>(archive_entry_gid(e));
  raw.mode = static_cast<uint32_t>(archive_entry_mode(e));
  raw.dev_major = static_cast<uint32_t>(archive_entry_rdevmajor(e));
  raw.dev_minor = static_cast<uint32_t>(archive_entry_rdevminor(e));
  raw.xattrs.clear();
  if (archive_entry_xattr_reset(e) == 0) return;
  const char* xname;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(e, &xname, &value, &size) == ARCHIVE_OK) {
    add_xattr(raw.xattrs, xname, std::string(static_cast<const char*>(value), size));
  }
}

// --- the fast path: field parsers ------------------------------------------------------------
//
// Why a hand-written header parser: on plain layers libarchive's header path cost ~1 µs per
// entry (checksums, string copies, and a wide-char conversion of every regular file's pathname
// through mbrtowc to look for a trailing '/'), which alone put the scan at ~2x a raw read.
// This path parses only what it fully understands, with every field bounds-checked inside its
// 512-byte block, and hands the stream to libarchive at the first header it does not (see
// tar_reader.h), so odd archives keep libarchive's exact behaviour and messages.

// Bytes of pax or GNU long-name data the fast path reads; longer ones go to libarchive.
constexpr size_t kMaxExt = 64 * 1024;
constexpr size_t kBlock = 512;

// A numeric header field: octal digits after optional spaces, ending in spaces or NULs (empty:
// 0), or GNU base-256 (0x80 then big-endian bytes). Anything else, or a negative base-256
// value: false (libarchive decides).
bool parse_field(const unsigned char* f, size_t n, uint64_t& out) {
  if (f[0] & 0x80) {
    if (f[0] != 0x80) return false;
    uint64_t v = 0;
    for (size_t i = 1; i < n; ++i) {
      if (v >> 55) return false;
      v = v << 8 | f[i];
    }
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    out = v;
    return true;
  }
  size_t i = 0;
  while (i < n && f[i] == ' ') ++i;
  uint64_t v = 0;
  while (i < n && f[i] >= '0' && f[i] <= '7') v = v * 8 + (f[i++] - '0');  // n <= 12: no overflow
  while (i < n && (f[i] == ' ' || f[i] == '\0')) ++i;
  if (i != n) return false;
  out = v;
  return true;
}

// The header checksum (POSIX: unsigned bytes, the checksum field counted as spaces).
bool checksum_ok(const unsigned char* h) {
  uint64_t want;
  if (!parse_field(h + 148, 8, want)) return false;
  uint32_t sum = 8 * ' ';
  for (size_t i = 0; i < 148; ++i) sum += h[i];
  for (size_t i = 156; i < kBlock; ++i) sum += h[i];
  return sum == want;
}

std::string_view cstr(const unsigned char* f, size_t n) {
  const char* p = reinterpret_cast<const char*>(f);
  return {p, strnlen(p, n)};
}

bool parse_decimal(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 18) return false;  // 18 digits: no overflow
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// libarchive's url_decode for xattr names, strictly: false on a '%' not followed by two hex
// digits or on a NUL (libarchive would keep or cut those; it decides then).
bool url_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int a = hex_digit(in[i + 1]), b = hex_digit(in[i + 2]);
      if (a < 0 || b < 0) return false;
      c = static_cast<char>(a << 4 | b);
      i += 2;
    }
    if (c == '\0') return false;
    out += c;
  }
  return !out.empty();
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

}  // namespace

// --- TarScanner -------------------------------------------------------------------------------

TarScanner::TarScanner(LayerStream& in, bool fast) : in_(in), fast_(fast) {}
TarScanner::~TarScanner() = default;

const std::vector<std::string>& TarScanner::warnings() const {
  return lib_ ? lib_->warnings() : no_warnings_;
}

bool TarScanner::next(RawEntry& raw) {
  sparse_ = false;
  // The rest of a sparse entry's map is checked (not expanded), so that a map the scan accepts
  // reads back without an error.
  if (sparse_content_) sparse_content_->skip_rest();
  sparse_content_.reset();
  if (!lib_) {
    if (fast_) {
      if (!skip(left_ + pad_)) {
        throw Error("tar: header at offset " + std::to_string(pos_) +
                    ": truncated archive (it ends inside the content of an entry)");
      }
      left_ = pad_ = 0;
      Fast r = fast_next(raw);
      if (r == Fast::kEntry) return true;
      if (r == Fast::kEnd) return false;
    }
    fall_back();
  }
  return lib_next(raw);
}

bool TarScanner::lib_next(RawEntry& raw) {
  lib_entry_ = lib_->next();
  if (!lib_entry_) return false;
  read_header(lib_entry_, *lib_, raw);
  lib_pos_ = 0;
  sparse_ = archive_entry_sparse_count(lib_entry_) > 0;
  if (sparse_) {
    sparse_content_ =
        std::make_unique<SparseContent>(*lib_, raw.size, hole_budget_, std::string(raw.name));
  }
  return true;
}

void TarScanner::fall_back() {
  std::string prefix = std::move(kept_);
  if (mark_ && chunk_end_ > mark_) {
    prefix.append(reinterpret_cast<const char*>(mark_), static_cast<size_t>(chunk_end_ - mark_));
  }
  cur_ = {};
  in_headers_ = false;
  lib_ = std::make_unique<TarReader>(in_, std::move(prefix), entry_start_);
}

bool TarScanner::next_chunk() {
  if (in_headers_ && mark_ && chunk_end_ > mark_) {
    kept_.append(reinterpret_cast<const char*>(mark_), static_cast<size_t>(chunk_end_ - mark_));
  }
  cur_ = in_.next();
  chunk_end_ = cur_.data() + cur_.size();
  mark_ = cur_.data();
  return !cur_.empty();
}

std::string_view TarScanner::take(size_t n, std::string& tmp) {
  if (cur_.size() >= n) {
    std::string_view v(reinterpret_cast<const char*>(cur_.data()), n);
    cur_ = cur_.subspan(n);
    pos_ += n;
    return v;
  }
  tmp.assign(reinterpret_cast<const char*>(cur_.data()), cur_.size());
  pos_ += cur_.size();
  cur_ = {};
  while (tmp.size() < n) {
    if (!next_chunk()) return {};
    size_t k = std::min(n - tmp.size(), cur_.size());
    tmp.append(reinterpret_cast<const char*>(cur_.data()), k);
    cur_ = cur_.subspan(k);
    pos_ += k;
  }
  return tmp;
}

bool TarScanner::skip(uint64_t n) {
  while (n > 0) {
    if (cur_.empty() && !next_chunk()) return false;
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, cur_.size()));
    cur_ = cur_.subspan(k);
    pos_ += k;
    n -= k;
  }
  return true;
}

std::span<const std::byte> TarScanner::content_view() const {
  if (lib_ || sparse_ || sparse_content_ || left_ == 0 || cur_.empty()) return {};
  return in_.kept(cur_.data(), left_);
}

std::span<const std::byte> TarScanner::read_block() {
  if (sparse_content_) return sparse_content_->next();
  if (lib_) {
    std::span<const std::byte> b;
    uint64_t at = 0;
    if (!lib_->read_block_at(b, at)) return {};
    // Blocks of a file that is not sparse follow each other from 0. A gap is a sparse map whose
    // every region libarchive's entry dropped as invalid (it still reads by that map).
    if (at != lib_pos_) {
      const char* name = lib_entry_ ? archive_entry_pathname(lib_entry_) : nullptr;
      throw Error(escape(name ? name : "") + ": sparse map: data at offset " + std::to_string(at) +
                  " where " + std::to_string(lib_pos_) + " was expected (no valid region)");
    }
    lib_pos_ += b.size();
    return b;
  }
  if (left_ == 0) return {};
  if (cur_.empty() && !next_chunk()) {
    throw Error("tar: content at offset " + std::to_string(pos_) +
                ": truncated archive (it ends inside the content of an entry)");
  }
  size_t k = static_cast<size_t>(std::min<uint64_t>(left_, cur_.size()));
  std::span<const std::byte> b = cur_.first(k);
  cur_ = cur_.subspan(k);
  pos_ += k;
  left_ -= k;
  return b;
}

void TarScanner::read_rest_into(std::span<std::byte> dst) {
  // The digests read `dst` on their thread: done before the caller reuses or frees it, also
  // when the read fails (the caller's buffer goes away while the exception unwinds).
  try {
    read_rest_unsynced(dst);
  } catch (...) {
    in_.sync();
    throw;
  }
  in_.sync();
}

void TarScanner::read_rest_unsynced(std::span<std::byte> dst) {
  size_t k = 0;
  while (k < dst.size()) {
    if (!lib_ && cur_.empty() && left_ > 0 && in_.can_read_direct()) {
      size_t want = static_cast<size_t>(std::min<uint64_t>(left_, dst.size() - k));
      size_t n = in_.read_direct(dst.subspan(k, want));
      if (n == 0) {
        throw Error("tar: content at offset " + std::to_string(pos_) +
                    ": truncated archive (it ends inside the content of an entry)");
      }
      k += n;
      pos_ += n;
      left_ -= n;
      continue;
    }
    std::span<const std::byte> b = read_block();
    if (b.empty() || b.size() > dst.size() - k) {
      throw Error("tar: content at offset " + std::to_string(pos_) +
                  ": the entry's content does not have the size its header says");
    }
    std::memcpy(dst.data() + k, b.data(), b.size());
    k += b.size();
  }
}

std::optional<std::string> invalid_pax_records(std::string_view records) {
  while (!records.empty()) {
    // "LEN KEY=VALUE\n", LEN counting the whole record (Go's parsePAXRecord).
    size_t sp = records.find(' ');
    uint64_t len = 0;
    if (sp == std::string_view::npos || !parse_decimal(records.substr(0, sp), len)) {
      return "a record does not start with its length";
    }
    if (len < 5 || len > records.size() || len <= sp + 1) {
      return "a record's length (" + std::to_string(len) + ") does not fit the " +
             std::to_string(records.size()) + " bytes left";
    }
    std::string_view rec = records.substr(sp + 1, len - sp - 2);
    if (records[len - 1] != '\n') return "a record does not end with a newline";
    records.remove_prefix(len);
    size_t eq = rec.find('=');
    if (eq == std::string_view::npos || eq == 0) return "a record has no \"key=\"";
    std::string_view key = rec.substr(0, eq), v = rec.substr(eq + 1);
    if (has_nul(key)) return "a key holds a NUL byte";
    if ((key == "path" || key == "linkpath" || key == "uname" || key == "gname") && has_nul(v)) {
      return "the " + std::string(key) + " value holds a NUL byte";
    }
  }
  return std::nullopt;
}

// One pax record's effect, as libarchive 3.6's pax_attribute() has it for the fields we keep;
// false for what the fast path leaves to libarchive (sparse files, odd values).
bool TarScanner::parse_pax(std::string_view records) {
  std::string name, value;
  while (!records.empty()) {
    size_t i = 0;
    uint64_t len = 0;
    while (i < records.size() && i < 8 && records[i] >= '0' && records[i] <= '9') {
      len = len * 10 + static_cast<uint64_t>(records[i] - '0');
      ++i;
    }
    if (i == 0 || i >= records.size() || records[i] != ' ' || len > records.size() || len < i + 3 ||
        records[len - 1] != '\n') {
      return false;
    }
    std::string_view rec = records.substr(i + 1, len - i - 2);  // "key=value"
    records.remove_prefix(len);
    size_t eq = rec.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    std::string_view key = rec.substr(0, eq), v = rec.substr(eq + 1);
    if (has_nul(key)) return false;
    auto text = [&](std::string& to, bool& has) {
      if (v.empty() || has_nul(v)) return false;
      to.assign(v);
      has = true;
      return true;
    };
    auto number = [&](uint64_t& to, bool& has) {
      has = true;
      return parse_decimal(v, to);
    };
    bool ok = true;
    if (key == "path") {
      ok = text(pax_path_, has_pax_path_);
    } else if (key == "linkpath") {
      ok = text(pax_link_, has_pax_link_);
    } else if (key == "uname") {
      ok = text(pax_uname_, has_pax_uname_);
    } else if (key == "gname") {
      ok = text(pax_gname_, has_pax_gname_);
    } else if (key == "size") {
      ok = number(pax_size_, has_size_) &&
           pax_size_ <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    } else if (key == "uid") {
      ok = number(pax_uid_, has_uid_);
    } else if (key == "gid") {
      ok = number(pax_gid_, has_gid_);
    } else if (key == "mtime") {
      // [-]seconds[.fraction]: the seconds, truncated toward zero as libarchive does.
      std::string_view s = v;
      bool neg = !s.empty() && s[0] == '-';
      if (neg) s.remove_prefix(1);
      size_t dot = s.find('.');
      std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
      uint64_t secs = 0, f = 0;
      ok = parse_decimal(s.substr(0, dot), secs) && (frac.empty() || parse_decimal(frac, f));
      pax_mtime_ = neg ? -static_cast<int64_t>(secs) : static_cast<int64_t>(secs);
      has_mtime_ = true;
    } else if (key == "SCHILY.devmajor") {
      ok = number(pax_major_, has_major_);
    } else if (key == "SCHILY.devminor") {
      ok = number(pax_minor_, has_minor_);
    } else if (key.starts_with("SCHILY.xattr.")) {
      std::string_view n = key.substr(13);
      ok = !n.empty();
      if (ok) xattrs_.emplace_back(n, v);
    } else if (key.starts_with("LIBARCHIVE.xattr.")) {
      ok = url_decode(key.substr(17), name) && base64_decode(v, value);
      if (ok) xattrs_.emplace_back(name, std::move(value));
    } else if (key.starts_with("GNU.sparse") || key.starts_with("SUN.holes") ||
               key.starts_with("SCHILY.realsize") || key.starts_with("SCHILY.filetype")) {
      ok = false;  // sparse files and type overrides: libarchive
    }
    // Other keys (atime, ctime, comment, charset, hdrcharset, SCHILY.acl/dev/ino/nlink/fflags,
    // LIBARCHIVE.creationtime...) do not change what we keep.
    if (!ok) return false;
  }
  return true;
}

namespace {
bool is_zero_block(std::string_view b) {
  return b.find_first_not_of('\0') == std::string_view::npos;
}
}  // namespace

TarScanner::Fast TarScanner::fast_next(RawEntry& raw) {
  in_headers_ = true;
  kept_.clear();
  mark_ = cur_.data();
  entry_start_ = pos_;
  has_pax_path_ = has_pax_link_ = has_pax_uname_ = has_pax_gname_ = false;
  has_gnu_name_ = has_gnu_link_ = false;
  has_size_ = has_uid_ = has_gid_ = has_mtime_ = has_major_ = has_minor_ = false;
  xattrs_.clear();
  bool seen_pax = false;
  for (int ext = 0;; ++ext) {
    // End of stream, the end-of-archive marker and anything unusual: libarchive.
    if (ext > 8) return Fast::kFallback;
    uint64_t block_at = pos_;
    std::string_view block = take(kBlock, hdr_tmp_);
    // The stream ends on an entry boundary without an end-of-archive marker: libarchive calls
    // that the end too (some writers omit the marker).
    if (block.empty() && pos_ == entry_start_) return Fast::kEnd;
    // Extended headers (pax, GNU long names) with no entry after them, then the end of the
    // archive (no more bytes, or the end marker): Go's archive/tar, which docker and containerd
    // unpack layers with, reads that as the end; libarchive calls the archive damaged.
    if (ext > 0 && (block.empty() || is_zero_block(block))) {
      bool end = block.empty() && pos_ == block_at;
      if (!block.empty()) {
        std::string_view second = take(kBlock, hdr_tmp_);
        end = second.empty() ? pos_ == block_at + kBlock : is_zero_block(second);
      }
      if (!end) return Fast::kFallback;
      end_note_ = "tar: the extended header at offset " + std::to_string(entry_start_) +
                  " has no entry after it, then the archive ends: ignored, as Go's archive/tar "
                  "(docker, containerd) ignores it";
      return Fast::kEnd;
    }
    if (block.empty()) return Fast::kFallback;
    const auto* h = reinterpret_cast<const unsigned char*>(block.data());
    if (!checksum_ok(h)) return Fast::kFallback;  // also the all-zero end-of-archive block
    bool ustar = std::memcmp(h + 257, "ustar\0", 6) == 0;
    bool gnu = std::memcmp(h + 257, "ustar  \0", 8) == 0;
    if (!ustar && !gnu) return Fast::kFallback;
    // Every number field of every header block, the device numbers too: libarchive's format
    // bid checks them all on the first header, so a stricter parse keeps both paths agreeing.
    uint64_t size, mode, uid, gid, mtime, major, minor;
    if (!parse_field(h + 124, 12, size) || !parse_field(h + 100, 8, mode) ||
        !parse_field(h + 108, 8, uid) || !parse_field(h + 116, 8, gid) ||
        !parse_field(h + 136, 12, mtime) || !parse_field(h + 329, 8, major) ||
        !parse_field(h + 337, 8, minor)) {
      return Fast::kFallback;
    }
    char type = static_cast<char>(h[156]);
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
      if (size == 0 || size > kMaxExt) return Fast::kFallback;
      std::string_view data = take(static_cast<size_t>(size), ext_tmp_);
      if (data.empty()) return Fast::kFallback;
      if (type == 'x' || type == 'g') {
        if (std::optional<std::string> why = invalid_pax_records(data)) {
          throw Error(std::string("tar: header at offset ") + std::to_string(block_at) +
                      ": malformed pax extended header: " + *why + kGoRejects);
        }
        if (type == 'g') return Fast::kFallback;  // global records: libarchive
      }
      // Parsed before the padding is skipped: `data` may point into this chunk.
      if (type == 'x') {
        // libarchive applies a second 'x' header before the first one: rare, left to it.
        if (seen_pax || !parse_pax(data)) return Fast::kFallback;
        seen_pax = true;
      } else {
        std::string_view v = data.substr(0, data.find('\0'));
        bool& has = type == 'L' ? has_gnu_name_ : has_gnu_link_;
        if (v.empty() || has) return Fast::kFallback;
        (type == 'L' ? gnu_name_ : gnu_link_).assign(v);
        has = true;
      }
      if (!skip((kBlock - size % kBlock) % kBlock)) return Fast::kFallback;
      continue;
    }

    switch (type) {
      case '0':
      case '\0':
      case '7':
        raw.type = FileType::kRegular;
        break;
      case '1':
        raw.type = FileType::kHardlink;
        break;
      case '2':
        raw.type = FileType::kSymlink;
        break;
      case '3':
        raw.type = FileType::kCharDevice;
        break;
      case '4':
        raw.type = FileType::kBlockDevice;
        break;
      case '5':
        raw.type = FileType::kDirectory;
        break;
      case '6':
        raw.type = FileType::kFifo;
        break;
      default:
        return Fast::kFallback;
    }
    bool device = raw.type == FileType::kCharDevice || raw.type == FileType::kBlockDevice;
    if (!device) major = minor = 0;
    // The name: pax path, else GNU long name, else ustar prefix + "/" + name.
    if (has_pax_path_ && has_gnu_name_) return Fast::kFallback;
    if (has_pax_path_) {
      name_ = pax_path_;
    } else if (has_gnu_name_) {
      name_ = gnu_name_;
    } else {
      std::string_view prefix = ustar ? cstr(h + 345, 155) : std::string_view();
      name_.assign(prefix);
      if (!prefix.empty() && prefix.back() != '/') name_ += '/';
      name_.append(cstr(h, 100));
    }
    if (name_.empty()) return Fast::kFallback;
    // The link: only hardlinks and symlinks have one (libarchive would turn a linkpath on
    // another type into a hardlink).
    bool is_link = raw.type == FileType::kHardlink || raw.type == FileType::kSymlink;
    if (has_pax_link_ && has_gnu_link_) return Fast::kFallback;
    if ((has_pax_link_ || has_gnu_link_) && !is_link) return Fast::kFallback;
    if (is_link) {
      if (has_pax_link_) {
        link_ = pax_link_;
      } else if (has_gnu_link_) {
        link_ = gnu_link_;
      } else {
        link_.assign(cstr(h + 157, 100));
      }
      if (link_.empty()) return Fast::kFallback;
    }
    if (has_size_) size = pax_size_;
    if (raw.type == FileType::kRegular) {
      // libarchive turns a regular entry whose name ends in '/' into a directory (old tars).
      if (name_.back() == '/') return Fast::kFallback;
    } else if (size != 0) {
      return Fast::kFallback;  // content on a link, dir or device: libarchive's heuristics
    }
    raw.name = name_;
    raw.link = is_link ? std::string_view(link_) : std::string_view();
    raw.uname = has_pax_uname_ ? std::string_view(pax_uname_) : cstr(h + 265, 32);
    raw.gname = has_pax_gname_ ? std::string_view(pax_gname_) : cstr(h + 297, 32);
    if (!has_pax_uname_) raw.uname = uname_.assign(raw.uname);  // `h` may be overwritten
    if (!has_pax_gname_) raw.gname = gname_.assign(raw.gname);
    raw.size = size;
    raw.data_offset = pos_;
    raw.mtime = has_mtime_ ? pax_mtime_ : static_cast<int64_t>(mtime);
    raw.uid = static_cast<uint32_t>(has_uid_ ? pax_uid_ : uid);
    raw.gid = static_cast<uint32_t>(has_gid_ ? pax_gid_ : gid);
    raw.mode = static_cast<uint32_t>(mode & 07777);
    raw.dev_major = static_cast<uint32_t>(has_major_ ? pax_major_ : major);
    raw.dev_minor = static_cast<uint32_t>(has_minor_ ? pax_minor_ : minor);
    // libarchive lists xattrs newest record first (it prepends), then read_header() keeps one
    // per name: the same here.
    raw.xattrs.clear();
    for (auto it = xattrs_.rbegin(); it != xattrs_.rend(); ++it) {
      add_xattr(raw.xattrs, it->first, std::move(it->second));
    }
    left_ = size;
    pad_ = (kBlock - size % kBlock) % kBlock;
    in_headers_ = false;
    return Fast::kEntry;
  }
}

}  // namespace coroner::scan
