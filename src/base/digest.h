// Digests over OpenSSL's EVP interface (SHA-NI where the CPU has it), with an RAII context.
// SHA-256 digests are written as OCI does: "sha256:" + 64 lowercase hex digits; package
// digests as md5sum, dpkg and rpm write them: lowercase hex.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace coroner {

// A digest named by the length of its lowercase hex form, as package databases record them:
// 32 md5, 40 sha1, 56 sha224, 64 sha256, 96 sha384, 128 sha512 (any other length: sha256).
class HexDigest {
 public:
  // Error when OpenSSL cannot start the digest.
  explicit HexDigest(size_t hex_len);
  ~HexDigest();
  HexDigest(HexDigest&&) noexcept;
  HexDigest& operator=(HexDigest&&) noexcept;
  void update(std::span<const std::byte> data);
  // Lowercase hex; the object must not be updated afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Sha256 {
 public:
  Sha256() : digest_(64) {}
  void update(std::span<const std::byte> data) { digest_.update(data); }
  // "sha256:<hex>"; the object must not be updated afterwards.
  std::string finish() { return "sha256:" + digest_.finish(); }

 private:
  HexDigest digest_;
};

std::string sha256_digest(std::span<const std::byte> data);

// Lowercase hex of a digest's bytes ("d41d8c..."), as md5sum, dpkg and rpm write them.
std::string hex_lower(std::span<const unsigned char> bytes);

// True for "sha256:" followed by exactly 64 lowercase hex digits (a digest safe to use as a
// file name under blobs/sha256/).
bool is_valid_sha256_digest(std::string_view digest);

}  // namespace coroner
