// Small pure functions of the scan: tar path normalisation, OCI whiteout names, and the content
// sniffers that classify a file from its first bytes (ELF, script, text, binary).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "scan/layer_index.h"

namespace coroner::scan {

// Bytes of a file's head that the text/binary sniffer looks at.
inline constexpr size_t kSniffBytes = 8 * 1024;
// The kernel reads the first BINPRM_BUF_SIZE bytes of a script for the "#!" line.
inline constexpr size_t kMaxFirstLine = 256;

// Writes the normalised form of a tar entry name to `out`: "./" and leading "/" stripped, "//"
// collapsed, "." components dropped, no trailing "/", and "." for the root itself. Throws Error
// on a ".." component (a tar that tries to climb out of the root; containerd refuses it too).
void normalize_path(std::string_view name, std::string& out);

struct WhiteoutName {
  Whiteout kind = Whiteout::kNone;
  std::string target;  // kFile: the deleted path; kOpaque: the directory ("." for the root)
};

// Classifies a normalised path as containerd's applier does (archive/tar.go): a base name of
// exactly ".wh..wh..opq" is an opaque marker for its directory; any other base name starting
// with ".wh." is a whiteout of the rest of the name in the same directory, so ".wh..wh..opqX"
// deletes ".wh..opqX". A bare ".wh." is returned as kFile with an empty target: the caller
// decides (containerd would delete the parent directory itself).
WhiteoutName classify_whiteout(std::string_view path);

// True for valid UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF). When `truncated`,
// an incomplete sequence at the very end is accepted (the head of a longer file was cut there).
bool is_valid_utf8(std::string_view s, bool truncated);

// The kind of a regular file of `size` bytes from its first bytes (`head`, at least
// min(size, kSniffBytes) of them unless the file is shorter than its header says).
ContentKind classify_content(std::span<const std::byte> head, uint64_t size);

// Line 1 of a script up to kMaxFirstLine bytes, without the "\n"; a "\r" stays (the kernel keeps
// it as part of the interpreter name).
std::string_view first_line(std::span<const std::byte> head);

}  // namespace coroner::scan
