#include "pkg/apk.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "pkg/test_util.h"

namespace coroner::pkg {
namespace {

// The fixture is hand-written after Alpine's documented format (see testdata/README.md).
TEST(ApkInstalledTest, ParsesPackagesFilesAndChecksums) {
  auto pkgs = parse_apk_installed(testing::fixture("lib/apk/db/installed"));
  ASSERT_EQ(pkgs.size(), 2u);
  const ApkPackage& musl = pkgs[0];
  EXPECT_EQ(musl.name, "musl");
  EXPECT_EQ(musl.version, "1.2.4_git20230717-r4");
  EXPECT_EQ(musl.arch, "x86_64");
  EXPECT_EQ(musl.origin, "musl");
  EXPECT_EQ(musl.license, "MIT");
  EXPECT_EQ(musl.installed_size, 667648u);
  EXPECT_EQ(musl.size, 407278u);
  ASSERT_EQ(musl.files.size(), 2u);
  EXPECT_EQ(musl.files[0].path, "/lib/ld-musl-x86_64.so.1");
  EXPECT_EQ(musl.files[0].mode, 0755u);
  EXPECT_EQ(musl.files[1].mode, 0777u);
  const ApkPackage& bb = pkgs[1];
  ASSERT_EQ(bb.files.size(), 3u);
  EXPECT_EQ(bb.files[0].path, "/bin/busybox");
  EXPECT_EQ(bb.files[0].digest, "2f106f27fa1f28a8a4e02aeb10d73b78f9c9b24a");  // sha1("busybox")
  EXPECT_EQ(bb.files[2].path, "/etc/busybox-paths.d/busybox");
  EXPECT_EQ(bb.dirs, (std::vector<std::string>{"/bin", "/etc", "/etc/busybox-paths.d"}));
}

TEST(ApkInstalledTest, ChecksumDecoding) {
  EXPECT_EQ(decode_apk_checksum("Q1LxBvJ/ofKKik4CrrENc7ePnJsko="),
            "2f106f27fa1f28a8a4e02aeb10d73b78f9c9b24a");
  EXPECT_EQ(decode_apk_checksum("Q1LxBvJ/ofKKik4CrrENc7ePnJsk="), std::nullopt);  // length
  EXPECT_EQ(decode_apk_checksum("Q1LxBvJ/ofKKik4CrrENc7ePn!sko="), std::nullopt);
  EXPECT_EQ(decode_apk_checksum("Q3LxBvJ/ofKKik4CrrENc7ePnJsko="), std::nullopt);
  EXPECT_EQ(decode_apk_checksum("Q1LxBvJ/ofKKik4C=rENc7ePnJsko="), std::nullopt);
}

void expect_error(std::string_view text, std::string_view message) {
  try {
    parse_apk_installed(text);
    FAIL() << "no error for " << text;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(ApkInstalledTest, HostileInputNamesTheLine) {
  expect_error("P:a\nR:x\n", "apk db: line 2: R: before any F:");
  expect_error("P:a\nF:bin\nR:../x\n", "apk db: line 3: R: \"../x\" is not a file name");
  expect_error("P:a\nF:bin\nR:x\nZ:Q1zz\n", "apk db: line 4: Z: bad checksum \"Q1zz\"");
  expect_error("P:a\nF:bin\nR:x\na:0:0\n", "apk db: line 4: a: expected uid:gid:mode, got \"0:0\"");
  expect_error("P:a\nI:lots\n", "apk db: line 2: size \"lots\" is not a number");
  expect_error("V:1\n", "apk db: line 1: package without a P: line");
  expect_error("P:a\nnonsense\n", "apk db: line 2: expected \"X:value\", got \"nonsense\"");
  expect_error("P:a\nF:/abs\n", "apk db: line 2: F: \"/abs\" is not relative");
}

}  // namespace
}  // namespace coroner::pkg
