#include "base/digest.h"

#include <openssl/evp.h>

#include "base/error.h"

namespace coroner {

struct HexDigest::Impl {
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx{EVP_MD_CTX_new()};
};

HexDigest::HexDigest(size_t hex_len) : impl_(std::make_unique<Impl>()) {
  const EVP_MD* md = hex_len == 32    ? EVP_md5()
                     : hex_len == 40  ? EVP_sha1()
                     : hex_len == 56  ? EVP_sha224()
                     : hex_len == 96  ? EVP_sha384()
                     : hex_len == 128 ? EVP_sha512()
                                      : EVP_sha256();
  if (!impl_->ctx || EVP_DigestInit_ex(impl_->ctx.get(), md, nullptr) != 1) {
    throw Error("digest: cannot initialise OpenSSL");
  }
}
HexDigest::~HexDigest() = default;
HexDigest::HexDigest(HexDigest&&) noexcept = default;
HexDigest& HexDigest::operator=(HexDigest&&) noexcept = default;

void HexDigest::update(std::span<const std::byte> data) {
  CORONER_CHECK(EVP_DigestUpdate(impl_->ctx.get(), data.data(), data.size()) == 1);
}

std::string HexDigest::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  CORONER_CHECK(EVP_DigestFinal_ex(impl_->ctx.get(), md, &len) == 1);
  return hex_lower({md, len});
}

std::string hex_lower(std::span<const unsigned char> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

std::string sha256_digest(std::span<const std::byte> data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

bool is_valid_sha256_digest(std::string_view d) {
  constexpr std::string_view kPrefix = "sha256:";
  if (d.size() != kPrefix.size() + 64 || d.substr(0, kPrefix.size()) != kPrefix) return false;
  for (char c : d.substr(kPrefix.size())) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace coroner
