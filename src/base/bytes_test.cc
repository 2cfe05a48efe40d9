#include "base/bytes.h"

#include <gtest/gtest.h>

#include <array>

namespace coroner {
namespace {

TEST(ByteReaderTest, ReadsBothEndiannesses) {
  std::array<std::byte, 4> b{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}};
  ByteReader le(b);
  EXPECT_EQ(le.read<uint16_t>(), 0x0201);
  EXPECT_EQ(le.read<uint16_t>(), 0x0403);
  ByteReader be(b, /*little_endian=*/false);
  EXPECT_EQ(be.read<uint32_t>(), 0x01020304u);
  EXPECT_EQ(be.remaining(), 0u);
}

TEST(ByteReaderTest, ThrowsPastTheEnd) {
  std::array<std::byte, 3> b{};
  ByteReader r(b);
  EXPECT_THROW(r.read<uint32_t>(), Error);
  EXPECT_THROW(r.sub(2, 2), Error);
  EXPECT_THROW(r.sub(UINT64_MAX, 2), Error);
  EXPECT_THROW(r.seek(4), Error);
  EXPECT_NO_THROW(r.seek(3));
}

TEST(ByteReaderTest, CStringMustTerminateBeforeLimit) {
  std::string_view s("ab\0cd", 5);
  ByteReader r(as_bytes(s));
  EXPECT_EQ(r.cstr_at(0), "ab");
  EXPECT_THROW(r.cstr_at(3), Error);
  EXPECT_THROW(r.cstr_at(0, 2), Error);
  EXPECT_THROW(r.cstr_at(5), Error);
}

TEST(CheckedArithmeticTest, Overflow) {
  EXPECT_THROW(checked_add(UINT64_MAX, 1), Error);
  EXPECT_THROW(checked_mul(UINT64_MAX / 2, 3), Error);
  EXPECT_EQ(checked_mul(56, 9), 504u);
}

}  // namespace
}  // namespace coroner
