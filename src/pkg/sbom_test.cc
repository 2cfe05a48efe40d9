#include "pkg/sbom.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace coroner::pkg {
namespace {

InstalledPackage libc() {
  InstalledPackage p;
  p.name = "libc6";
  p.version = "2.36-9+deb12u7";
  p.arch = "amd64";
  p.source = "glibc";
  p.source_version = "2.36-9+deb12u7";
  p.layer = 0;
  return p;
}

TEST(PurlTest, DebWithDistroAndUpstream) {
  OsRelease os{"debian", "12", ""};
  EXPECT_EQ(purl(libc(), os),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc");
  InstalledPackage epoch = libc();
  epoch.name = "libgcrypt20";
  epoch.version = "1:1.10.1-3";
  epoch.source = "libgcrypt20";
  EXPECT_EQ(purl(epoch, os), "pkg:deb/debian/libgcrypt20@1%3A1.10.1-3?arch=amd64&distro=debian-12");
}

TEST(PurlTest, ApkUsesAlpineNamespace) {
  InstalledPackage p;
  p.manager = Manager::kApk;
  p.name = "musl";
  p.version = "1.2.4-r2";
  p.arch = "x86_64";
  p.source = "musl";
  EXPECT_EQ(purl(p, {"alpine", "3.19.1", ""}),
            "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1");
}

TEST(PurlTest, RpmEpochIsAQualifier) {
  InstalledPackage p;
  p.manager = Manager::kRpm;
  p.name = "openssl-libs";
  p.version = "1:3.0.7-27.el9";
  p.arch = "x86_64";
  p.source = "openssl";
  p.source_version = "3.0.7-27.el9";
  EXPECT_EQ(purl(p, {"rhel", "9.4", ""}),
            "pkg:rpm/rhel/openssl-libs@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rhel-9.4&"
            "upstream=openssl%403.0.7-27.el9");
}

TEST(SbomTest, CycloneDxAndSpdxCarryEveryPackage) {
  Inventory inv;
  inv.os = {"debian", "12", ""};
  inv.packages.push_back(libc());
  SbomSubject s{"tar:img.tar", "", {"sha256:abc"}, "2026-01-01T00:00:00Z"};
  auto cdx = nlohmann::json::parse(cyclonedx_json(inv, s));
  EXPECT_EQ(cdx["bomFormat"], "CycloneDX");
  EXPECT_EQ(cdx["specVersion"], "1.5");
  ASSERT_EQ(cdx["components"].size(), 1u);
  EXPECT_EQ(cdx["components"][0]["purl"], purl(libc(), inv.os));
  EXPECT_EQ(cdx["components"][0]["properties"][1]["value"], "sha256:abc");
  auto spdx = nlohmann::json::parse(spdx_json(inv, s));
  EXPECT_EQ(spdx["spdxVersion"], "SPDX-2.3");
  EXPECT_EQ(spdx["creationInfo"]["created"], "2026-01-01T00:00:00Z");
  ASSERT_EQ(spdx["packages"].size(), 1u);
  EXPECT_EQ(spdx["packages"][0]["SPDXID"], "SPDXRef-Package-deb-libc6-1");
  EXPECT_EQ(spdx["packages"][0]["externalRefs"][0]["referenceLocator"], purl(libc(), inv.os));
  EXPECT_EQ(spdx["relationships"][0]["relatedSpdxElement"], "SPDXRef-Package-deb-libc6-1");
}

TEST(SbomTest, LicensesAreExpressionsOnlyWhenTheyAreSpdx) {
  // apk's "MIT OR Apache-2.0" is an SPDX expression; CentOS rpm's "GPLv2+" and "GPLv2+ and BSD"
  // are license names: CycloneDX gets license.name, SPDX a LicenseRef- with its text.
  Inventory inv;
  inv.os = {"centos", "7", ""};
  auto pkg = [](std::string name, Manager m, std::string license) {
    InstalledPackage p;
    p.manager = m;
    p.name = std::move(name);
    p.version = "1-1";
    p.license = std::move(license);
    return p;
  };
  inv.packages = {pkg("a", Manager::kApk, "mit or Apache-2.0"), pkg("b", Manager::kRpm, "GPLv2+"),
                  pkg("c", Manager::kRpm, "GPLv2+"), pkg("d", Manager::kRpm, "GPLv2+ and BSD"),
                  pkg("e", Manager::kRpm, "")};
  SbomSubject s{"tar:img.tar", "", {}, "2026-01-01T00:00:00Z"};
  auto cdx = nlohmann::json::parse(cyclonedx_json(inv, s));
  EXPECT_EQ(cdx["components"][0]["licenses"][0]["expression"], "MIT OR Apache-2.0");
  EXPECT_EQ(cdx["components"][1]["licenses"][0]["license"]["name"], "GPLv2+");
  EXPECT_FALSE(cdx["components"][4].contains("licenses"));
  auto spdx = nlohmann::json::parse(spdx_json(inv, s));
  const auto& p = spdx["packages"];
  EXPECT_EQ(p[0]["licenseDeclared"], "MIT OR Apache-2.0");
  EXPECT_EQ(p[1]["SPDXID"], "SPDXRef-Package-rpm-b-2");
  EXPECT_EQ(p[1]["licenseDeclared"], "LicenseRef-GPLv2-");
  EXPECT_EQ(p[2]["licenseDeclared"], "LicenseRef-GPLv2-");
  EXPECT_EQ(p[3]["licenseDeclared"], "LicenseRef-GPLv2--and-BSD");
  EXPECT_EQ(p[4]["licenseDeclared"], "NOASSERTION");
  const auto& infos = spdx["hasExtractedLicensingInfos"];
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0]["licenseId"], "LicenseRef-GPLv2-");
  EXPECT_EQ(infos[0]["extractedText"], "GPLv2+");
  // Two texts that make the same id get told apart.
  inv.packages = {pkg("f", Manager::kRpm, "A B"), pkg("g", Manager::kRpm, "A+B")};
  auto two = nlohmann::json::parse(spdx_json(inv, s));
  EXPECT_EQ(two["packages"][0]["licenseDeclared"], "LicenseRef-A-B");
  EXPECT_EQ(two["packages"][1]["licenseDeclared"], "LicenseRef-A-B-2");
}

}  // namespace
}  // namespace coroner::pkg
