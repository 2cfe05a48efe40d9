#include "pkg/dpkg.h"

#include <gtest/gtest.h>

#include "base/error.h"
#include "pkg/test_util.h"

namespace coroner::pkg {
namespace {

using testing::fixture;

TEST(DpkgStatusTest, ParsesEveryStanzaOfTheFixture) {
  auto pkgs = parse_status(fixture("var/lib/dpkg/status"));
  ASSERT_EQ(pkgs.size(), 6u);
  const DpkgPackage& base = pkgs[0];
  EXPECT_EQ(base.name, "base-files");
  EXPECT_EQ(base.version, "12.4+deb12u5");
  EXPECT_EQ(base.architecture, "amd64");
  EXPECT_EQ(base.installed_size, 340u);
  EXPECT_EQ(base.multi_arch, "foreign");
  EXPECT_TRUE(base.installed());
  EXPECT_EQ(base.source, "base-files");  // no Source: the package itself
  EXPECT_EQ(base.source_version, "12.4+deb12u5");
  EXPECT_EQ(base.line, 1u);
}

TEST(DpkgStatusTest, ConffilesKeepDigestsAndObsoleteFlag) {
  auto pkgs = parse_status(fixture("var/lib/dpkg/status"));
  const auto& c = pkgs[0].conffiles;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].path, "/etc/debian_version");
  EXPECT_EQ(c[0].md5, "1a3ba0b4d4aea1e7be1ac38bc6e6d8c4");
  EXPECT_FALSE(c[0].obsolete);
  EXPECT_EQ(c[2].path, "/etc/host.conf");
  EXPECT_TRUE(c[2].obsolete);
}

TEST(DpkgStatusTest, SourceWithVersionInParens) {
  auto pkgs = parse_status(fixture("var/lib/dpkg/status"));
  EXPECT_EQ(pkgs[1].source, "glibc");
  EXPECT_EQ(pkgs[1].source_version, "2.36-9+deb12u7");
  EXPECT_EQ(pkgs[2].source, "gcc-12");
  EXPECT_EQ(pkgs[2].source_version, "12.2.0-14");
  EXPECT_EQ(pkgs[1].multi_arch, "same");
}

TEST(DpkgStatusTest, NotedStatesBesidesInstalled) {
  auto pkgs = parse_status(fixture("var/lib/dpkg/status"));
  EXPECT_EQ(pkgs[3].state, State::kHalfInstalled);
  EXPECT_EQ(pkgs[3].flag, EFlag::kReinstReq);
  EXPECT_FALSE(pkgs[3].installed());
  EXPECT_EQ(pkgs[4].want, Want::kDeinstall);
  EXPECT_EQ(pkgs[4].state, State::kConfigFiles);
  EXPECT_EQ(pkgs[5].state, State::kNotInstalled);
  EXPECT_EQ(state_name(pkgs[3].state), "half-installed");
}

TEST(DpkgStatusTest, FieldNamesAreCaseInsensitiveAndCrlfTolerated) {
  auto pkgs = parse_status("package: a\r\nSTATUS: install ok installed\r\nversion: 1\r\n");
  ASSERT_EQ(pkgs.size(), 1u);
  EXPECT_EQ(pkgs[0].name, "a");
  EXPECT_EQ(pkgs[0].version, "1");
  EXPECT_TRUE(pkgs[0].installed());
}

TEST(DpkgStatusTest, DistrolessStatusDFile) {
  auto pkgs = parse_status(fixture("var/lib/dpkg/status.d/tzdata"));
  ASSERT_EQ(pkgs.size(), 1u);
  EXPECT_EQ(pkgs[0].name, "tzdata");
  EXPECT_EQ(pkgs[0].installed_size, 2024u);
  EXPECT_EQ(pkgs[0].state, State::kNotInstalled);  // distroless writes no Status:
}

void expect_error(std::string_view text, std::string_view message) {
  try {
    parse_status(text);
    FAIL() << "no error for " << text;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

TEST(DpkgStatusTest, HostileInputNamesTheLine) {
  expect_error(" leading continuation\n",
               "dpkg status: line 1: continuation line before any field");
  expect_error("Package: a\nno colon here\n",
               "dpkg status: line 2: expected \"Field: value\", got \"no colon here\"");
  expect_error("Package: a\nStatus: install ok\n",
               "dpkg status: line 2: Status needs three words, got \"install ok\"");
  expect_error("Package: a\nStatus: install ok exploded\n",
               "dpkg status: line 2: state \"exploded\" is unknown");
  expect_error("Package: a\nInstalled-Size: 12k\n",
               "dpkg status: line 2: Installed-Size \"12k\" is not a number");
  expect_error("Version: 1\n", "dpkg status: line 1: stanza without a Package field");
  expect_error("Package: a\nConffiles:\n /etc/x nothex\n",
               "dpkg status: line 3: Conffiles: digest \"nothex\" is not 32 hex digits");
  expect_error("Package: a\nConffiles:\n /etc/x\n",
               "dpkg status: line 3: Conffiles: \"/etc/x\" has no digest");
}

TEST(DpkgListTest, ListsAbsolutePathsWithRoot) {
  auto list = parse_list(fixture("var/lib/dpkg/info/libc6:amd64.list"));
  ASSERT_EQ(list.size(), 6u);
  EXPECT_EQ(list[0], "/.");
  EXPECT_EQ(list[3], "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_THROW(parse_list("/ok\nrelative\n"), Error);
}

TEST(DpkgMd5sumsTest, PathsGetTheirLeadingSlash) {
  auto sums = parse_md5sums(fixture("var/lib/dpkg/info/libc6:amd64.md5sums"));
  ASSERT_EQ(sums.size(), 1u);
  EXPECT_EQ(sums[0].path, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(sums[0].md5, "e5823ba08cf6f8acc6662017ec572078");
  auto binary = parse_md5sums("E5823BA08CF6F8ACC6662017EC572078 *usr/bin/x\n");
  ASSERT_EQ(binary.size(), 1u);
  EXPECT_EQ(binary[0].path, "/usr/bin/x");
  EXPECT_EQ(binary[0].md5, "e5823ba08cf6f8acc6662017ec572078");
  EXPECT_THROW(parse_md5sums("abc  usr/bin/x\n"), Error);
  EXPECT_THROW(parse_md5sums("e5823ba08cf6f8acc6662017ec572078  \n"), Error);
}

TEST(DpkgConffilesTest, RemoveOnUpgradeFlag) {
  auto c = parse_conffiles("/etc/a\nremove-on-upgrade /etc/b\n");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_FALSE(c[0].remove_on_upgrade);
  EXPECT_EQ(c[1].path, "/etc/b");
  EXPECT_TRUE(c[1].remove_on_upgrade);
}

TEST(DpkgDiversionsTest, ThreeLinesPerDiversion) {
  auto d = parse_diversions("/bin/sh\n/bin/sh.distrib\ndash\n/usr/bin/x\n/usr/bin/x.real\n:\n");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].from, "/bin/sh");
  EXPECT_EQ(d[0].to, "/bin/sh.distrib");
  EXPECT_EQ(d[0].package, "dash");
  EXPECT_EQ(d[1].package, ":");
  EXPECT_THROW(parse_diversions("/a\n/b\n"), Error);
}

}  // namespace
}  // namespace coroner::pkg
