#include "base/whole_buffer.h"

#include <gtest/gtest.h>

#include <cstring>

namespace coroner {
namespace {

TEST(WholeBufferTest, GrowsGeometricallyThenExactlyAndIsKept) {
  WholeBuffer b(8 << 20);
  EXPECT_EQ(b.data(), nullptr);
  std::byte* p = b.get(100);
  EXPECT_EQ(b.capacity(), size_t{1} << 20);  // at least 1 MiB
  EXPECT_EQ(b.get(1000), p);                 // fits: the same bytes
  b.get((1 << 20) + 1);
  EXPECT_EQ(b.capacity(), size_t{2} << 20);  // doubled
  b.get(20 << 20);
  EXPECT_EQ(b.capacity(), size_t{20} << 20);  // above grow_up_to: exactly (2 MiB multiple)
  std::memset(b.data(), 0x5a, 20 << 20);      // writable
  b.release();
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_EQ(b.capacity(), 0u);
}

}  // namespace
}  // namespace coroner
