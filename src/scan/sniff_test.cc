#include "scan/sniff.h"

#include <gtest/gtest.h>

#include "base/bytes.h"
#include "base/error.h"

namespace coroner::scan {
namespace {

std::string norm(std::string_view s) {
  std::string out;
  normalize_path(s, out);
  return out;
}

TEST(NormalizePathTest, StripsDotSlashLeadingSlashAndDoubleSlashes) {
  EXPECT_EQ(norm("./etc/passwd"), "etc/passwd");
  EXPECT_EQ(norm("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(norm("//etc//ssl/./certs/"), "etc/ssl/certs");
  EXPECT_EQ(norm("usr/bin/"), "usr/bin");
  EXPECT_EQ(norm("a/./b/."), "a/b");
}

TEST(NormalizePathTest, RootEntryBecomesDot) {
  EXPECT_EQ(norm("./"), ".");
  EXPECT_EQ(norm("."), ".");
  EXPECT_EQ(norm("/"), ".");
  EXPECT_EQ(norm(""), ".");
}

TEST(NormalizePathTest, DotDotComponentIsAnError) {
  EXPECT_THROW(norm("../x"), Error);
  EXPECT_THROW(norm("a/../../x"), Error);
  EXPECT_THROW(norm("a/.."), Error);
  EXPECT_EQ(norm("a/..b/c.."), "a/..b/c..");  // only a whole ".." component climbs
}

TEST(NormalizePathTest, KeepsInvalidUtf8Bytes) {
  EXPECT_EQ(norm(std::string("./bad\xff/x", 8)), std::string("bad\xff/x", 6));
}

TEST(ClassifyWhiteoutTest, WhiteoutOfAFile) {
  WhiteoutName w = classify_whiteout("etc/.wh.passwd");
  EXPECT_EQ(w.kind, Whiteout::kFile);
  EXPECT_EQ(w.target, "etc/passwd");
  w = classify_whiteout(".wh.tmp");
  EXPECT_EQ(w.kind, Whiteout::kFile);
  EXPECT_EQ(w.target, "tmp");
}

TEST(ClassifyWhiteoutTest, OpaqueMarkerNamesItsDirectory) {
  WhiteoutName w = classify_whiteout("var/cache/.wh..wh..opq");
  EXPECT_EQ(w.kind, Whiteout::kOpaque);
  EXPECT_EQ(w.target, "var/cache");
  w = classify_whiteout(".wh..wh..opq");
  EXPECT_EQ(w.kind, Whiteout::kOpaque);
  EXPECT_EQ(w.target, ".");
}

TEST(ClassifyWhiteoutTest, OpaqueLookalikeIsAWhiteoutOfItsSuffix) {
  // containerd: base starts with ".wh." and is not exactly ".wh..wh..opq" -> remove base[4:].
  WhiteoutName w = classify_whiteout("d/.wh..wh..opqX");
  EXPECT_EQ(w.kind, Whiteout::kFile);
  EXPECT_EQ(w.target, "d/.wh..opqX");
  w = classify_whiteout("d/.wh..wh..op");
  EXPECT_EQ(w.kind, Whiteout::kFile);
  EXPECT_EQ(w.target, "d/.wh..op");
}

TEST(ClassifyWhiteoutTest, BareWhiteoutHasAnEmptyTarget) {
  WhiteoutName w = classify_whiteout("d/.wh.");
  EXPECT_EQ(w.kind, Whiteout::kFile);
  EXPECT_EQ(w.target, "");
}

TEST(ClassifyWhiteoutTest, OrdinaryNamesAreNotWhiteouts) {
  EXPECT_EQ(classify_whiteout("a/.whx").kind, Whiteout::kNone);
  EXPECT_EQ(classify_whiteout("a/x.wh.y").kind, Whiteout::kNone);
  EXPECT_EQ(classify_whiteout(".wh.d/file").kind, Whiteout::kNone);  // only the base name counts
}

TEST(Utf8Test, AcceptsValidAndRejectsInvalid) {
  EXPECT_TRUE(is_valid_utf8("plain ascii text, long enough for the fast path", false));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", false));
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf", false));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80", false));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80", false));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff", false));
  EXPECT_FALSE(is_valid_utf8("ab\xe2\x82", false));
  EXPECT_TRUE(is_valid_utf8("ab\xe2\x82", true));  // cut at the end of a longer file's head
}

ContentKind kind(std::string_view s, uint64_t size = UINT64_MAX) {
  return classify_content(as_bytes(s), size == UINT64_MAX ? s.size() : size);
}

TEST(ClassifyContentTest, Kinds) {
  EXPECT_EQ(kind(""), ContentKind::kEmpty);
  EXPECT_EQ(kind(std::string("\x7f"
                             "ELF\x02\x01\x01",
                             7)),
            ContentKind::kElf);
  EXPECT_EQ(kind("#!/bin/sh\necho hi\n"), ContentKind::kScript);
  EXPECT_EQ(kind("hello\nworld\n"), ContentKind::kText);
  EXPECT_EQ(kind(std::string("a\0b", 3)), ContentKind::kBinary);
  EXPECT_EQ(kind("\xff\xfe"), ContentKind::kBinary);
  EXPECT_EQ(kind("\x7f"
                 "EL"),
            ContentKind::kText);  // too short for the magic
}

TEST(ClassifyContentTest, NulOrInvalidUtf8AnywhereInTheHeadIsBinary) {
  // Every position of the 64- and 32-byte fast paths and the tail.
  for (size_t pos = 0; pos < 200; ++pos) {
    std::string s(200, 'a');
    s[pos] = '\0';
    EXPECT_EQ(kind(s), ContentKind::kBinary) << pos;
    s[pos] = '\xff';
    EXPECT_EQ(kind(s), ContentKind::kBinary) << pos;
    s[pos] = '\x7f';
    EXPECT_EQ(kind(s), ContentKind::kText) << pos;
  }
  EXPECT_EQ(kind(std::string(40, 'a') + "\xc3\xa9" + std::string(40, 'b')), ContentKind::kText);
}

TEST(ClassifyContentTest, OnlyTheFirst8KiBDecideTextVsBinary) {
  std::string s(kSniffBytes, 'a');
  s += std::string("\0\0", 2);
  EXPECT_EQ(kind(s), ContentKind::kText);
}

TEST(FirstLineTest, KeepsCarriageReturnAndStopsAt256Bytes) {
  EXPECT_EQ(first_line(as_bytes("#!/bin/sh\r\necho\n")), "#!/bin/sh\r");
  EXPECT_EQ(first_line(as_bytes("#!/bin/sh")), "#!/bin/sh");
  std::string long_line = "#!" + std::string(400, 'x');
  EXPECT_EQ(first_line(as_bytes(long_line)).size(), kMaxFirstLine);
}

}  // namespace
}  // namespace coroner::scan
