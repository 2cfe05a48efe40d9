#include "scan/tar_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <cerrno>
#include <string_view>

#include "base/error.h"

namespace coroner::scan {

void TarReader::Free::operator()(archive* a) const { archive_read_free(a); }

TarReader::TarReader(LayerStream& in) : in_(in), owner_(archive_read_new()), a_(owner_.get()) {
  CORONER_CHECK(a_ != nullptr);
  // Only the tar format and no filters: we decompress ourselves, with ISA-L and libzstd, because
  // libarchive's built-in gzip path (zlib) is ~2.6x slower than ISA-L's inflate, and because the
  // digests must see the exact compressed and uncompressed bytes in the same pass.
  archive_read_support_format_tar(a_);
  if (archive_read_open(a_, this, nullptr, &TarReader::read_callback, nullptr) != ARCHIVE_OK) {
    fail("open");
  }
}

TarReader::~TarReader() = default;

long TarReader::read_callback(archive* a, void* self, const void** buf) {
  auto* r = static_cast<TarReader*>(self);
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
              (msg ? msg : "unknown libarchive error"));
}

archive_entry* TarReader::next() {
  warnings_.clear();
  header_offset_ = static_cast<uint64_t>(archive_filter_bytes(a_, 0));
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
  data_offset_ = static_cast<uint64_t>(archive_filter_bytes(a_, 0));
  header_offset_ = static_cast<uint64_t>(archive_read_header_position(a_));
  return e;
}

std::span<const std::byte> TarReader::read_block() {
  const void* buf = nullptr;
  size_t size = 0;
  la_int64_t offset = 0;
  int r = archive_read_data_block(a_, &buf, &size, &offset);
  if (r == ARCHIVE_EOF) return {};
  if (r < ARCHIVE_WARN) fail("content");
  return {static_cast<const std::byte*>(buf), size};
}

}  // namespace coroner::scan
