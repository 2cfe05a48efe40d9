#include "explore/mode.h"

#include <gtest/gtest.h>

namespace coroner::explore {
namespace {

using scan::FileType;

TEST(ModeStringTest, ShowsTypeAndPermissionBits) {
  EXPECT_EQ(mode_string(FileType::kDirectory, 0755), "drwxr-xr-x");
  EXPECT_EQ(mode_string(FileType::kRegular, 0644), "-rw-r--r--");
  EXPECT_EQ(mode_string(FileType::kSymlink, 0777), "lrwxrwxrwx");
  EXPECT_EQ(mode_string(FileType::kCharDevice, 0666), "crw-rw-rw-");
  EXPECT_EQ(mode_string(FileType::kFifo, 0600), "prw-------");
  EXPECT_EQ(mode_string(FileType::kHardlink, 0600), "-rw-------");
}

TEST(ModeStringTest, SpecialBitsAreLowerCaseOnlyWithExecute) {
  EXPECT_EQ(mode_string(FileType::kRegular, 04755), "-rwsr-xr-x");
  EXPECT_EQ(mode_string(FileType::kRegular, 04644), "-rwSr--r--");
  EXPECT_EQ(mode_string(FileType::kRegular, 02755), "-rwxr-sr-x");
  EXPECT_EQ(mode_string(FileType::kRegular, 02745), "-rwxr-Sr-x");
  EXPECT_EQ(mode_string(FileType::kDirectory, 01777), "drwxrwxrwt");
  EXPECT_EQ(mode_string(FileType::kDirectory, 01776), "drwxrwxrwT");
}

TEST(TypeLetterTest, RoundTrips) {
  for (char c : std::string("fdlcbps")) {
    ASSERT_TRUE(type_from_letter(c).has_value()) << c;
    EXPECT_EQ(type_letter(*type_from_letter(c)), c);
  }
  EXPECT_FALSE(type_from_letter('x').has_value());
}

}  // namespace
}  // namespace coroner::explore
