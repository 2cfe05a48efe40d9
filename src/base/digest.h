// SHA-256 over OpenSSL's EVP interface (SHA-NI where the CPU has it), with an RAII context.
// Digests are written as OCI does: "sha256:" + 64 lowercase hex digits.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace coroner {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::span<const std::byte> data);
  // "sha256:<hex>"; the object must not be updated afterwards.
  std::string finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_digest(std::span<const std::byte> data);

// Lowercase hex of a digest's bytes ("d41d8c..."), as md5sum, dpkg and rpm write them.
std::string hex_lower(std::span<const unsigned char> bytes);

// True for "sha256:" followed by exactly 64 lowercase hex digits (a digest safe to use as a
// file name under blobs/sha256/).
bool is_valid_sha256_digest(std::string_view digest);

}  // namespace coroner
