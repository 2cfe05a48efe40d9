#include "base/digest.h"

#include <gtest/gtest.h>

#include "base/bytes.h"

namespace coroner {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(sha256_digest(as_bytes("")),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update(as_bytes("a"));
  h.update(as_bytes("bc"));
  EXPECT_EQ(h.finish(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, ValidDigestSyntax) {
  EXPECT_TRUE(is_valid_sha256_digest(
      "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_FALSE(is_valid_sha256_digest(
      "sha256:E3B0C44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  EXPECT_FALSE(is_valid_sha256_digest("sha256:../../etc/passwd"));
  EXPECT_FALSE(is_valid_sha256_digest("sha512:abc"));
}

}  // namespace
}  // namespace coroner
