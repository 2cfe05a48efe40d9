#include "rules/audit_rules.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "rules/secrets.h"
#include "testing/tree_builder.h"

namespace coroner::rules {
namespace {

constexpr std::string_view kAwsKeyId = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
constexpr std::string_view kGroup = "root:x:0:\napp:x:1000:\n";

// A tree with /bin/sh and the account files; tests add what their rule looks at.
class AuditTest : public ::testing::Test {
 protected:
  AuditTest() {
    b.dir("bin").file("bin/sh", 100, 0755).dir("etc");
    b.file("etc/passwd").content(kPasswd).file("etc/group").content(kGroup);
  }

  // Runs the secret scanner over the captured files, as the scan would have, then the audit.
  std::vector<Finding> audit() {
    auto scanner = make_secret_scanner();
    for (scan::LayerIndex& l : b.mutable_layers()) {
      l.content_matches.clear();
      for (size_t i = 0; i < l.entries.size(); ++i) {
        auto it = l.captured.find(std::string(l.entries[i].path));
        if (it == l.captured.end()) continue;
        if (!scanner->begin(l.entries[i].path, it->second.size(), l.entries[i].kind)) continue;
        scanner->feed(std::as_bytes(std::span<const char>(it->second.data(), it->second.size())));
        size_t before = l.content_matches.size();
        scanner->end(l.content_matches);
        for (size_t k = before; k < l.content_matches.size(); ++k) {
          l.content_matches[k].entry = static_cast<uint32_t>(i);
        }
      }
    }
    tree.emplace(b.build());
    root.emplace(*tree, b.layers());
    AuditInput in{*root, info};
    if (packages) in.packages = [this] { return &*packages; };
    in.config_drift = drift;
    return run_audit(in);
  }

  static std::vector<Finding> of(const std::vector<Finding>& fs, std::string_view rule) {
    std::vector<Finding> out;
    for (const Finding& f : fs) {
      if (f.rule == rule) out.push_back(f);
    }
    return out;
  }

  testing::TreeBuilder b;
  image::ImageInfo info;
  std::optional<pkg::VerifyReport> packages;
  std::vector<std::string> drift;
  std::optional<fs::Tree> tree;
  std::optional<linux_::RootView> root;
};

TEST_F(AuditTest, CleanImageHasNoFindings) {
  b.dir("tmp", 01777).dir("usr/bin").file("usr/bin/app", 10, 0755);
  for (const Finding& f : audit()) {
    EXPECT_EQ(f.rule, "executable-inventory") << f.message;  // the only one: a summary
  }
}

// secret-file-readable
TEST_F(AuditTest, ShadowReadableByOthers) {
  b.file("etc/shadow", 10, 0644);
  auto f = of(audit(), "secret-file-readable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/etc/shadow");
}
TEST_F(AuditTest, ShadowRootShadow0640IsFine) {
  b.file("etc/shadow", 10, 0640, 0, 42).file("etc/ssh/ssh_host_ed25519_key", 10, 0600);
  b.file("root/.ssh/authorized_keys", 10, 0600);
  EXPECT_TRUE(of(audit(), "secret-file-readable").empty());
}
TEST_F(AuditTest, SshHostKeyTooOpenAndAuthorizedKeysWritable) {
  b.file("etc/ssh/ssh_host_rsa_key", 10, 0644).file("etc/ssh/ssh_host_rsa_key.pub", 10, 0644);
  b.file("home/app/.ssh/authorized_keys", 10, 0666, 1000, 1000);
  auto f = of(audit(), "secret-file-readable");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].path, "/etc/ssh/ssh_host_rsa_key");
  EXPECT_NE(f[0].message.find("UNPROTECTED"), std::string::npos);
  EXPECT_EQ(f[1].path, "/home/app/.ssh/authorized_keys");
}

// private-key
TEST_F(AuditTest, PrivateKeyByContentWithLine) {
  b.file("app/tls.key").content("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n");
  auto f = of(audit(), "private-key");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/app/tls.key");
  EXPECT_NE(f[0].message.find("/app/tls.key:1"), std::string::npos);
}
TEST_F(AuditTest, PublicKeyIsNoPrivateKey) {
  b.file("app/tls.pub").content("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----\n");
  EXPECT_TRUE(of(audit(), "private-key").empty());
}
TEST_F(AuditTest, PrivateKeyDeletedInALaterLayerIsStillReported) {
  b.file("root/.ssh/id_rsa", 0, 0600).content("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n");
  b.layer().whiteout("root/.ssh/id_rsa");
  auto f = of(audit(), "private-key");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].layer_index, 0u);  // the layer that wrote it
  EXPECT_NE(f[0].message.find("still in this layer's blob"), std::string::npos);
}
TEST_F(AuditTest, KeyStoreFoundByName) {
  b.file("app/keystore.p12", 100);
  auto f = of(audit(), "private-key");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/app/keystore.p12");
}

// secret-token
TEST_F(AuditTest, TokenInFileIsRedacted) {
  b.file("root/.aws/credentials", 0, 0600)
      .content("[default]\naws_access_key_id = " + std::string(kAwsKeyId) + "\n");
  auto fs = audit();
  auto f = of(fs, "secret-token");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/root/.aws/credentials");
  EXPECT_NE(f[0].message.find(":2"), std::string::npos);
  for (const Finding& x : fs) {
    EXPECT_EQ(x.message.find(kAwsKeyId), std::string::npos);
    for (const std::string& e : x.evidence) EXPECT_EQ(e.find(kAwsKeyId), std::string::npos);
  }
}
TEST_F(AuditTest, PasswordInEnvAndTokenInHistory) {
  info.config.env = {"PATH=/usr/bin", "DB_PASSWORD=hunter2hunter2", "DB_PASSWORD_FILE=/run/s"};
  image::HistoryEntry h;
  h.created_by = "RUN git clone https://x:ghp_" + std::string(36, 'Q') + "@github.com/o/r";
  info.config.history = {h};
  auto f = of(audit(), "secret-token");
  ASSERT_EQ(f.size(), 2u);
  for (const Finding& x : f) {
    EXPECT_EQ(x.message.find("hunter2hunter2"), std::string::npos);
    EXPECT_EQ(x.message.find(std::string(36, 'Q')), std::string::npos);
  }
}
TEST_F(AuditTest, EnvFileWithSecretsButNotTheExample) {
  b.file("app/.env").content("DEBUG=1\nAPI_TOKEN=abcdef123456\n");
  b.file("app/.env.example").content("API_TOKEN=changeme\n");
  auto f = of(audit(), "secret-token");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/app/.env");
  ASSERT_EQ(f[0].evidence.size(), 1u);
  EXPECT_NE(f[0].evidence[0].find("/app/.env:2"), std::string::npos);
  EXPECT_EQ(f[0].evidence[0].find("abcdef123456"), std::string::npos);
}
TEST_F(AuditTest, PlainConfigHasNoToken) {
  b.file("etc/app.conf").content("listen 8080\nuser app\n");
  info.config.env = {"PATH=/usr/bin", "TOKEN_DIR=/run/tokens", "PASSWORD="};
  EXPECT_TRUE(of(audit(), "secret-token").empty());
}

// world-writable
TEST_F(AuditTest, WorldWritableFileAndDirWithoutSticky) {
  b.file("app/data.db", 10, 0666).dir("app/uploads", 0777);
  auto f = of(audit(), "world-writable");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].path, "/app/data.db");
  EXPECT_EQ(f[1].path, "/app/uploads");
}
TEST_F(AuditTest, StickyTmpAndSymlinksAreNotWorldWritable) {
  b.dir("tmp", 01777).symlink("bin/link", "sh").file("app/x", 10, 0664);
  EXPECT_TRUE(of(audit(), "world-writable").empty());
}

// setuid-binary
TEST_F(AuditTest, SetuidAndSetgid) {
  b.file("usr/bin/passwd", 10, 04755).file("usr/bin/wall", 10, 02755, 0, 5);
  auto f = of(audit(), "setuid-binary");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_NE(f[0].message.find("setuid"), std::string::npos);
  EXPECT_NE(f[1].message.find("setgid"), std::string::npos);
}
TEST_F(AuditTest, NoSetuid) {
  b.file("usr/bin/ls", 10, 0755);
  EXPECT_TRUE(of(audit(), "setuid-binary").empty());
}

// orphan-owner
TEST_F(AuditTest, FilesOfUnknownUidAggregated) {
  b.dir("src", 0755, 501, 20).file("src/a", 1, 0644, 501, 20).file("src/b", 1, 0644, 501, 20);
  auto f = of(audit(), "orphan-owner");
  ASSERT_EQ(f.size(), 2u);  // uid 501 and gid 20, one finding each
  EXPECT_EQ(f[0].path, "/src");
  EXPECT_NE(f[0].message.find("3 path(s)"), std::string::npos);
}
TEST_F(AuditTest, KnownOwnersAreNoOrphans) {
  b.dir("home/app", 0755, 1000, 1000).file("home/app/x", 1, 0644, 1000, 1000);
  EXPECT_TRUE(of(audit(), "orphan-owner").empty());
}
TEST_F(AuditTest, UserWithoutGroupAndMissingShell) {
  b.layer()
      .file("etc/passwd")
      .content("root:x:0:0::/root:/bin/sh\nsvc:x:1001:1001::/:/bin/bash\ndup:x:0:0::/:/bin/sh\n");
  auto f = of(audit(), "orphan-owner");
  ASSERT_EQ(f.size(), 3u);  // duplicate uid 0, gid 1001 missing, /bin/bash missing
}

// dangling-symlink
TEST_F(AuditTest, DanglingSymlink) {
  b.symlink("usr/bin/python", "python3.9");
  auto f = of(audit(), "dangling-symlink");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/usr/bin/python");
}
TEST_F(AuditTest, LinksToFilesAndRuntimeMountsAreFine) {
  b.symlink("usr/bin/sh2", "/bin/sh").symlink("etc/mtab", "/proc/self/mounts");
  b.symlink("etc/resolv.conf", "/run/systemd/resolve/stub-resolv.conf");
  EXPECT_TRUE(of(audit(), "dangling-symlink").empty());
}

// log-errors
TEST_F(AuditTest, LogErrorsQuotedWithFileAndLine) {
  b.file("var/log/app.log")
      .content(
          "ok\nstarting\napp[12]: segfault at 0 ip\nTraceback (most "
          "recent call last):\n");
  auto f = of(audit(), "log-errors");
  ASSERT_EQ(f.size(), 1u);
  ASSERT_EQ(f[0].evidence.size(), 2u);
  EXPECT_EQ(f[0].evidence[0], "/var/log/app.log:3: app[12]: segfault at 0 ip");
}
TEST_F(AuditTest, CleanLogs) {
  b.file("var/log/dpkg.log").content("2024-01-01 install libc6 2.36\n");
  EXPECT_TRUE(of(audit(), "log-errors").empty());
}

// tmp-leftovers
TEST_F(AuditTest, TmpLeftovers) {
  b.dir("tmp", 01777).file("tmp/build.tar.gz", 100).file("run/app.pid", 5);
  b.file("app/.main.py.swp", 10).file("app/core", 1000);
  auto f = of(audit(), "tmp-leftovers");
  ASSERT_EQ(f.size(), 4u);
}
TEST_F(AuditTest, EmptyTmpAndOrdinaryFiles) {
  b.dir("tmp", 01777).dir("run").file("app/main.py", 10).file("app/core.py", 10);
  EXPECT_TRUE(of(audit(), "tmp-leftovers").empty());
}

// wasted-space
TEST_F(AuditTest, WastedSpaceNamesTheBigFiles) {
  b.file("var/cache/apt.bin", 50 << 20);
  b.layer().whiteout("var/cache/apt.bin");
  auto f = of(audit(), "wasted-space");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].layer_index, 0u);
  ASSERT_FALSE(f[0].evidence.empty());
  EXPECT_NE(f[0].evidence[0].find("/var/cache/apt.bin"), std::string::npos);
}
TEST_F(AuditTest, SmallOrKeptFilesWasteNothing) {
  b.file("var/cache/small.bin", 1000).file("app/big.bin", 50 << 20);
  b.layer().whiteout("var/cache/small.bin");
  EXPECT_TRUE(of(audit(), "wasted-space").empty());
}

TEST(AuditCaptureTest, LogsAndEnvFiles) {
  EXPECT_TRUE(audit_capture_paths("var/log/app.log", 100));
  EXPECT_TRUE(audit_capture_paths("app/.env", 100));
  EXPECT_FALSE(audit_capture_paths("var/log/huge.log", kMaxAuditCapture + 1));
  EXPECT_FALSE(audit_capture_paths("etc/hosts", 10));
}

// --- package-file-missing, config-missing, package-file-modified, conffile-modified ---------

pkg::VerifyFinding verify_finding(std::string package, std::string path, bool conffile,
                                  uint32_t layer) {
  pkg::VerifyFinding f;
  f.package = std::move(package);
  f.path = std::move(path);
  f.conffile = conffile;
  f.layer = layer;
  return f;
}

TEST_F(AuditTest, PackageFileMissingNamesPackageAndDeletingLayer) {
  packages.emplace();
  auto v = verify_finding("coreutils", "/usr/bin/id", false, 2);
  v.missing = pkg::Missing::kNoEnt;
  packages->findings.push_back(v);
  auto all = audit();
  auto f = of(all, "package-file-missing");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/usr/bin/id");
  EXPECT_EQ(f[0].layer_index, 2u);
  EXPECT_EQ(f[0].severity, Severity::kWarning);
  EXPECT_NE(f[0].message.find("coreutils"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("by layer 2"), std::string::npos) << f[0].message;
  ASSERT_EQ(f[0].evidence.size(), 1u);
  EXPECT_EQ(f[0].evidence[0], "dpkg --verify: missing     /usr/bin/id");
  EXPECT_TRUE(of(all, "config-missing").empty());
}
TEST_F(AuditTest, NoPackageFindingsWithoutVerifyFindings) {
  packages.emplace();
  packages->paths_checked = 100;
  auto all = audit();
  for (std::string_view r :
       {"package-file-missing", "package-file-modified", "config-missing", "conffile-modified"}) {
    EXPECT_TRUE(of(all, r).empty()) << r;
  }
}
TEST_F(AuditTest, FilesDpkgExcludedOnPurposeAreNotMissing) {
  packages.emplace();
  auto v = verify_finding("coreutils", "/usr/share/man/man1/id.1.gz", false, 0);
  v.missing = pkg::Missing::kNoEnt;
  v.path_excluded = true;
  packages->findings.push_back(v);
  EXPECT_TRUE(of(audit(), "package-file-missing").empty());
}
TEST_F(AuditTest, MissingConffileIsConfigMissing) {
  packages.emplace();
  auto v = verify_finding("login", "/etc/login.defs", true, 1);
  v.missing = pkg::Missing::kNoEnt;
  packages->findings.push_back(v);
  auto all = audit();
  auto f = of(all, "config-missing");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/etc/login.defs");
  EXPECT_NE(f[0].message.find("login"), std::string::npos);
  EXPECT_TRUE(of(all, "package-file-missing").empty());
}
TEST_F(AuditTest, ChangedConffileIsNotConfigMissing) {
  packages.emplace();
  auto v = verify_finding("login", "/etc/login.defs", true, 1);
  v.digest = pkg::Check::kFail;
  packages->findings.push_back(v);
  EXPECT_TRUE(of(audit(), "config-missing").empty());
}
TEST_F(AuditTest, ModifiedPackageFileIsWarningWithLayer) {
  packages.emplace();
  auto v = verify_finding("apk-tools", "/sbin/apk", false, 3);
  v.manager = pkg::Manager::kApk;
  v.digest = pkg::Check::kFail;
  packages->findings.push_back(v);
  auto all = audit();
  auto f = of(all, "package-file-modified");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/sbin/apk");
  EXPECT_EQ(f[0].layer_index, 3u);
  EXPECT_NE(f[0].message.find("apk-tools (apk)"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].fix.find("apk fix apk-tools"), std::string::npos) << f[0].fix;
  EXPECT_TRUE(of(all, "conffile-modified").empty());
}
TEST_F(AuditTest, RpmChangesAreNamedAndMtimeAloneIsNotReported) {
  packages.emplace();
  auto v = verify_finding("hello", "/usr/bin/hello", false, 1);
  v.manager = pkg::Manager::kRpm;
  v.mode = pkg::Check::kFail;
  v.size = pkg::Check::kFail;
  packages->findings.push_back(v);
  auto t = verify_finding("hello", "/usr/share/hello/keep", false, 1);
  t.manager = pkg::Manager::kRpm;
  t.mtime = pkg::Check::kFail;
  packages->findings.push_back(t);
  auto f = of(audit(), "package-file-modified");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].message,
            "/usr/bin/hello of package hello (rpm) differs from the package in size, mode "
            "(changed by layer 1)");
  EXPECT_EQ(f[0].evidence[0], "rpm --verify: SM.......    /usr/bin/hello");
}
TEST_F(AuditTest, RpmFixNamesTheToolOfTheDistribution) {
  auto fix_on = [&](std::string id, std::string version) {
    packages.emplace();
    packages->os = {std::move(id), std::move(version), ""};
    auto v = verify_finding("bash", "/usr/bin/bash", false, 0);
    v.manager = pkg::Manager::kRpm;
    v.digest = pkg::Check::kFail;
    packages->findings.push_back(v);
    auto f = of(audit(), "package-file-modified");
    return f.empty() ? std::string("no finding") : f[0].fix;
  };
  const std::string rest = ", or remove the package with the package manager";
  EXPECT_EQ(fix_on("fedora", "39"), "dnf reinstall bash" + rest);
  EXPECT_EQ(fix_on("rhel", "8.9"), "dnf reinstall bash" + rest);
  EXPECT_EQ(fix_on("centos", "7"), "yum reinstall bash" + rest);
  EXPECT_EQ(fix_on("amzn", "2"), "yum reinstall bash" + rest);
  EXPECT_EQ(fix_on("amzn", "2023"), "dnf reinstall bash" + rest);
  EXPECT_EQ(fix_on("opensuse-leap", "15.5"), "zypper install --force bash" + rest);
  EXPECT_EQ(fix_on("sles", "15.6"), "zypper install --force bash" + rest);
  EXPECT_EQ(fix_on("", ""), "dnf reinstall bash" + rest);
}
TEST_F(AuditTest, ModifiedConffileIsInfoNotPackageFileModified) {
  packages.emplace();
  auto v = verify_finding("base-files", "/etc/debian_version", true, 1);
  v.digest = pkg::Check::kFail;
  packages->findings.push_back(v);
  auto all = audit();
  auto f = of(all, "conffile-modified");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::kInfo);
  EXPECT_EQ(f[0].path, "/etc/debian_version");
  EXPECT_TRUE(of(all, "package-file-modified").empty());
}
TEST_F(AuditTest, UnchangedFilesGiveNoConffileModified) {
  packages.emplace();
  auto v = verify_finding("coreutils", "/usr/bin/id", false, 1);
  v.digest = pkg::Check::kFail;
  packages->findings.push_back(v);
  EXPECT_TRUE(of(audit(), "conffile-modified").empty());
}
TEST_F(AuditTest, ManyMissingFilesOfAPackageAreSummedUpPerPackage) {
  packages.emplace();
  for (int i = 0; i < 25; ++i) {
    auto v = verify_finding("big", "/usr/share/big/" + std::to_string(i), false, 1);
    v.missing = pkg::Missing::kNoEnt;
    packages->findings.push_back(v);
  }
  auto small = verify_finding("small", "/usr/bin/small", false, 1);
  small.missing = pkg::Missing::kNoEnt;
  packages->findings.push_back(small);
  auto f = of(audit(), "package-file-missing");
  ASSERT_EQ(f.size(), 22u);  // 20 of big, its summary, small's file
  EXPECT_TRUE(std::any_of(f.begin(), f.end(), [](const Finding& x) {
    return x.message ==
               "5 more files of package big (dpkg): package-file-missing "
               "(`coroner packages --verify` lists them all)" &&
           x.layer_index == 1u && x.evidence.size() == 5u;
  }));
  EXPECT_TRUE(
      std::any_of(f.begin(), f.end(), [](const Finding& x) { return x.path == "/usr/bin/small"; }));
}

// --- config-drift --------------------------------------------------------------------------

TEST_F(AuditTest, ConfigDriftLinesBecomeFindings) {
  drift = {"/etc/passwd: changed since the baseline (sha256:aaaa… -> sha256:bbbb…)"};
  auto f = of(audit(), "config-drift");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/etc/passwd");
  EXPECT_EQ(f[0].layer_index, 0u);
  EXPECT_NE(f[0].message.find("changed since the baseline"), std::string::npos);
}
TEST_F(AuditTest, NoConfigDriftWithoutBaseline) {
  EXPECT_TRUE(of(audit(), "config-drift").empty());
}

// --- package-db-unread -----------------------------------------------------------------------

TEST_F(AuditTest, UnreadRpmDatabaseIsNamed) {
  b.dir("var").dir("var/lib").dir("var/lib/rpm").file("var/lib/rpm/Packages.db", 4096);
  packages.emplace();
  packages->unread_databases.push_back(
      "/var/lib/rpm/Packages.db: rpmdb Packages.db (ndb): version 7, only version 0 is known");
  auto f = of(audit(), "package-db-unread");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].path, "/var/lib/rpm/Packages.db");
  EXPECT_EQ(f[0].layer_index, 0u);
  EXPECT_EQ(f[0].severity, Severity::kInfo);
}
TEST_F(AuditTest, NoUnreadDatabaseNoFinding) {
  packages.emplace();
  EXPECT_TRUE(of(audit(), "package-db-unread").empty());
}

// --- executable-inventory, executable-unowned ------------------------------------------------

elf::ElfInfo elf_info(bool interp, uint16_t type, uint64_t flags_1 = 0) {
  elf::ElfInfo e;
  e.ei_class = 2;
  e.e_type = type;
  e.e_machine = 62;
  if (interp) {
    e.interp = "/lib64/ld-linux-x86-64.so.2";
    e.needed = {"libc.so.6"};
    e.has_dynamic = true;
  }
  e.dt_flags_1 = flags_1;
  if (flags_1) e.has_dynamic = true;
  return e;
}

TEST_F(AuditTest, ExecutablesAreSummarisedByKindLayerAndDirectory) {
  b.dir("usr").dir("usr/bin").file("usr/bin/dyn", 100, 0755).elf(elf_info(true, 3));
  b.file("usr/bin/stat", 100, 0755).elf(elf_info(false, 2));
  b.file("usr/bin/spie", 100, 0755).elf(elf_info(false, 3, 0x08000000));
  b.file("usr/bin/notexec", 100, 0644).elf(elf_info(true, 3));
  b.layer().dir("app").file("app/run.py", 10, 0755).first_line("#!/usr/bin/env -S python3 -u");
  b.file("app/entry.sh", 10, 0755).first_line("#!/bin/sh");
  auto f = of(audit(), "executable-inventory");
  ASSERT_EQ(f.size(), 1u);
  // bin/sh of the fixture is 100 bytes of binary: "other".
  EXPECT_EQ(f[0].message.substr(0, 20), "6 executable files (");
  auto has = [&](std::string_view line) {
    return std::find(f[0].evidence.begin(), f[0].evidence.end(), line) != f[0].evidence.end();
  };
  EXPECT_TRUE(has("kind ELF dynamic: 1"));
  EXPECT_TRUE(has("kind ELF static: 1"));
  EXPECT_TRUE(has("kind ELF static-pie: 1"));
  EXPECT_TRUE(has("kind script #!env python3: 1"));
  EXPECT_TRUE(has("kind script #!/bin/sh: 1"));
  EXPECT_TRUE(has("layer 0: 4"));
  EXPECT_TRUE(has("layer 1: 2"));
  EXPECT_TRUE(has("dir /usr/bin: 3"));
  EXPECT_TRUE(has("dir /app: 2"));
}
TEST_F(AuditTest, NoExecutablesNoInventory) {
  testing::TreeBuilder empty;
  empty.dir("etc").file("etc/hostname", 5, 0644);
  fs::Tree t = empty.build();
  linux_::RootView r(t, empty.layers());
  for (const Finding& f : run_audit({r, info})) EXPECT_NE(f.rule, "executable-inventory");
}

// A dpkg database that owns /bin/tool (a usrmerge path: /bin is a symlink to usr/bin).
void tool_package(testing::TreeBuilder& b) {
  b.symlink("lib", "usr/lib").dir("usr").dir("usr/bin").dir("var").dir("var/lib");
  b.dir("var/lib/dpkg").dir("var/lib/dpkg/info");
  b.file("var/lib/dpkg/status")
      .content("Package: tool\nStatus: install ok installed\nVersion: 1\nArchitecture: amd64\n");
  b.file("var/lib/dpkg/info/tool.list").content("/.\n/usr\n/usr/bin\n/usr/bin/tool\n");
}

TEST_F(AuditTest, HandInstalledExecutablesAreUnowned) {
  tool_package(b);
  b.file("usr/bin/tool", 10, 0755);
  b.layer().file("usr/bin/extra", 10, 0755).dir("usr/local").dir("usr/local/bin");
  b.file("usr/local/bin/kubectl", 10, 0755).file("usr/local/bin/helm", 10, 0755);
  auto f = of(audit(), "executable-unowned");
  // The fixture's /bin/sh (no package here lists it), /usr/bin/extra, /usr/local/bin/*.
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].path, "/bin/sh");
  EXPECT_EQ(f[1].path, "/usr/bin/extra");
  EXPECT_EQ(f[1].layer_index, 1u);
  EXPECT_NE(f[1].message.find("into a package-managed directory"), std::string::npos);
  EXPECT_EQ(f[2].path, "/usr/local/bin/helm");
  EXPECT_NE(f[2].message.find("2 executable(s) in /usr/local/bin"), std::string::npos);
  for (const Finding& x : f) EXPECT_NE(x.path, "/usr/bin/tool");
}
TEST_F(AuditTest, PackagedExecutablesAreNotUnowned) {
  tool_package(b);
  b.file("usr/bin/tool", 10, 0755).file("usr/bin/readme.txt", 10, 0644);
  auto f = of(audit(), "executable-unowned");
  for (const Finding& x : f) EXPECT_EQ(x.path, "/bin/sh");  // the fixture's, not the package's
}
TEST_F(AuditTest, OwnershipComesFromTheVerifyReportWhenThereIsOne) {
  // No database in the tree: only the report says that a package owns /usr/bin/tool.
  b.dir("usr").dir("usr/bin").file("usr/bin/tool", 10, 0755).file("usr/bin/extra", 10, 0755);
  packages.emplace();
  packages->owned_paths = {"/usr/bin/tool"};
  auto f = of(audit(), "executable-unowned");
  ASSERT_FALSE(f.empty());
  EXPECT_TRUE(
      std::any_of(f.begin(), f.end(), [](const Finding& x) { return x.path == "/usr/bin/extra"; }));
  for (const Finding& x : f) EXPECT_NE(x.path, "/usr/bin/tool");
}
TEST_F(AuditTest, WithoutPackageDatabaseOnlyUsrLocalIsUnowned) {
  b.dir("usr").dir("usr/bin").file("usr/bin/app", 10, 0755);
  EXPECT_TRUE(of(audit(), "executable-unowned").empty());
}

// --- ulimit-sysctl-settings ------------------------------------------------------------------

TEST_F(AuditTest, SysctlAndLimitsLinesAreQuoted) {
  b.dir("etc/sysctl.d").dir("etc/security").dir("etc/security/limits.d");
  b.file("etc/sysctl.d/90-app.conf").content("# tuned\n; old\nnet.core.somaxconn = 4096\n\n");
  b.file("etc/sysctl.d/README").content("net.x = 1\n");  // not *.conf: ignored
  b.file("etc/security/limits.conf").content("# defaults\n*  soft  nofile  65536\n");
  auto f = of(audit(), "ulimit-sysctl-settings");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].path, "/etc/security/limits.conf");
  EXPECT_EQ(f[0].evidence, (std::vector<std::string>{"/etc/security/limits.conf:2: *  soft  "
                                                     "nofile  65536"}));
  EXPECT_EQ(f[1].path, "/etc/sysctl.d/90-app.conf");
  EXPECT_EQ(f[1].evidence,
            (std::vector<std::string>{"/etc/sysctl.d/90-app.conf:3: net.core.somaxconn = 4096"}));
  EXPECT_NE(f[1].message.find("--sysctl"), std::string::npos);
}
TEST_F(AuditTest, CommentOnlySettingsFilesGiveNoFinding) {
  b.file("etc/sysctl.conf").content("#\n# kernel.domainname = example.com\n");
  b.dir("etc/security").file("etc/security/limits.conf").content("# nothing\n");
  EXPECT_TRUE(of(audit(), "ulimit-sysctl-settings").empty());
}

}  // namespace
}  // namespace coroner::rules
