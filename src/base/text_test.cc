#include "base/text.h"

#include <gtest/gtest.h>

namespace coroner {
namespace {

TEST(EscapeTest, ControlBytesAndInvalidUtf8AreEscaped) {
  EXPECT_EQ(escape("/bin/sh\r"), "/bin/sh\\r");
  EXPECT_EQ(escape("a\x1b[31mb"), "a\\x1b[31mb");
  EXPECT_EQ(escape("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escape("bad\xff\xc3"), "bad\\xff\\xc3");
  EXPECT_EQ(escape("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate is not valid UTF-8
  EXPECT_EQ(escape("back\\slash"), "back\\\\slash");
}

TEST(EscapeTest, CapsLength) {
  std::string s(1000, 'a');
  auto e = escape(s, 10);
  EXPECT_EQ(e, std::string(10, 'a') + "…");
}

TEST(SplitTest, KeepsEmptyFields) {
  auto f = split("root:x:0:0::/root:/bin/sh", ':');
  ASSERT_EQ(f.size(), 7u);
  EXPECT_EQ(f[4], "");
  EXPECT_EQ(f[6], "/bin/sh");
  EXPECT_EQ(trim("  a b \r\n"), "a b");
}

}  // namespace
}  // namespace coroner

namespace coroner {
namespace {

TEST(AsciiLowerTest, OnlyAsciiLettersChange) {
  EXPECT_EQ(ascii_lower("CAP_Net_Raw-9"), "cap_net_raw-9");
  EXPECT_EQ(ascii_lower("\xc3\x89"), "\xc3\x89");  // É (UTF-8) untouched
  EXPECT_EQ(ascii_lower(""), "");
}

TEST(TextTest, Base64RoundTripsAndIsStrict) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("user:pa:ss"), "dXNlcjpwYTpzcw==");
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string out;
  ASSERT_TRUE(base64_decode(base64_encode(all), out));
  EXPECT_EQ(out, all);
  EXPECT_TRUE(base64_decode("Zm8", out));  // padding is optional
  EXPECT_EQ(out, "fo");
  EXPECT_FALSE(base64_decode("Z", out));
  EXPECT_FALSE(base64_decode("Zm=8", out));  // '=' only at the end
  EXPECT_FALSE(base64_decode("Zm 8", out));
  EXPECT_FALSE(base64_decode("%%%", out));
}

}  // namespace
}  // namespace coroner
