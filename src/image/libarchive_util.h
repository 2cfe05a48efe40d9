// Internal to image/: RAII owners for libarchive handles and the one-line error text of a
// handle, shared by ref.cc (sniffing) and blob_store.cc (member indexing).
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <string>
#include <string_view>

namespace coroner::image::detail {

struct ArchiveReadFree {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchiveReader = std::unique_ptr<archive, ArchiveReadFree>;

// A reader for tar archives under any compression filter libarchive knows (sniffed by content,
// never by file name). Throws Error when libarchive cannot allocate.
ArchiveReader new_tar_reader();

// archive_error_string, or "truncated or corrupt archive" when libarchive set none.
std::string archive_error(archive* a);

// A member name as tar writes it ("./manifest.json", "/x/") made comparable ("manifest.json",
// "x"): leading "./" and "/" and trailing "/" removed.
std::string normalize_member_name(std::string_view name);

// True for 64 lowercase hex digits.
bool is_hex64(std::string_view s);

}  // namespace coroner::image::detail
