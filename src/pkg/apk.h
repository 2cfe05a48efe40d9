// Alpine's package database, /lib/apk/db/installed: one stanza per package of "X:value" lines
// (P name, V version, A arch, o origin, I installed size, S package size, L license, F a
// directory, M its owner and mode, R a file in the last F, a its owner and mode, Z its
// checksum). Checksums are "Q1" + base64 of a SHA-1 ("Q2": SHA-256), as apk-tools writes them
// (apk_blob_push_csum). A pure parser; malformed input throws Error("apk db: line N: ...").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::pkg {

struct ApkFile {
  std::string path;  // absolute ("/lib/libz.so.1.3")
  // Hex digest of the content: SHA-1 for Q1 (40 digits), SHA-256 for Q2 (64); empty if no Z:.
  std::string digest;
  std::optional<uint32_t> uid, gid, mode;  // from "a:uid:gid:mode" (octal mode)
};

struct ApkPackage {
  std::string name;                        // P
  std::string version;                     // V
  std::string arch;                        // A
  std::string origin;                      // o: the source package
  std::string license;                     // L
  std::optional<uint64_t> installed_size;  // I, bytes
  std::optional<uint64_t> size;            // S, bytes of the .apk
  std::vector<std::string> dirs;           // F, absolute
  std::vector<ApkFile> files;
  uint32_t line = 0;
};

std::vector<ApkPackage> parse_apk_installed(std::string_view text);

// "Q1<base64>" -> lowercase hex of the decoded digest; nullopt when malformed.
std::optional<std::string> decode_apk_checksum(std::string_view z);

}  // namespace coroner::pkg
