#include "rules/rules.h"

#include <gtest/gtest.h>

#include <optional>
#include <set>

#include "testing/tree_builder.h"

namespace coroner::rules {
namespace {

elf::ElfInfo static_elf() {
  elf::ElfInfo e;
  e.ei_class = 2;
  e.ei_data = 1;
  e.e_type = 2;
  e.e_machine = 62;
  return e;
}

class RulesTest : public ::testing::Test {
 protected:
  RulesTest() {
    b.dir("bin").dir("etc").dir("usr").dir("usr/bin").dir("usr/local").dir("usr/local/bin");
    b.dir("tmp", 01777)
        .dir("run")
        .dir("app")
        .dir("root", 0700)
        .dir("home")
        .dir("home/app", 0755, 1000, 1000);
    b.file("bin/sh", 100, 0755).elf(static_elf());
    b.file("etc/passwd", 0, 0644)
        .content(
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"
            "postgres:x:999:999::/var/lib/postgresql:/bin/sh\nghost:x:1001:1001::/nohome:/bin/"
            "sh\n");
    b.file("etc/group", 0, 0644).content("root:x:0:\napp:x:1000:\npostgres:x:999:\n");
    info.config.os = "linux";
    info.config.architecture = "amd64";
    info.config.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  }

  RuleOutput run(Runtime runtime = kDocker) {
    info.layers.resize(b.layers().size());
    for (size_t i = 0; i < info.layers.size(); ++i)
      info.layers[i].digest = "sha256:l" + std::to_string(i);
    tree.emplace(b.build());
    root.emplace(*tree, b.layers());
    exec = linux_::simulate_exec(*root, info.config, {});
    return run_rules({*root, info, *exec, runtime});
  }

  static const Finding* find(const RuleOutput& o, std::string_view rule) {
    for (const Finding& f : o.findings) {
      if (f.rule == rule) return &f;
    }
    return nullptr;
  }

  testing::TreeBuilder b;
  image::ImageInfo info;
  std::optional<fs::Tree> tree;
  std::optional<linux_::RootView> root;
  std::optional<linux_::ExecResult> exec;
};

TEST(RuleTableTest, ListsEveryDesignRuleOnce) {
  const char* design[] = {
      "entrypoint-missing", "exec-form-malformed", "cmd-shell-form-after-entrypoint",
      "exec-not-found", "path-clobbered", "exec-dangling-symlink", "exec-not-executable",
      "exec-permission-denied", "shebang-crlf", "shebang-interpreter-missing", "shebang-missing",
      "shebang-too-long", "env-interpreter-missing", "elf-arch-mismatch", "elf-interpreter-missing",
      "library-missing", "library-not-in-search-path", "symbol-version-missing", "elf-corrupt",
      "os-mismatch", "user-unknown", "group-unknown", "passwd-missing", "workdir-not-directory",
      "workdir-not-searchable", "shell-missing", "program-file-missing", "privileged-port-nonroot",
      "file-capabilities", "drops-privileges-nonroot", "refuses-root", "stale-pid-file",
      "stale-lock-file", "config-unreadable-by-user", "dir-unwritable-by-user", "home-missing",
      "healthcheck-missing-binary", "kernel-too-old", "cpu-isa-level", "secret-file-readable",
      "private-key", "secret-token", "world-writable", "setuid-binary", "orphan-owner",
      "dangling-symlink", "package-file-missing", "package-file-modified", "log-errors",
      "tmp-leftovers", "config-missing", "wasted-space",
      // Added by the audit beside DESIGN.md's list (docs/rules.md).
      "conffile-modified", "config-drift", "package-db-unread", "executable-inventory",
      "executable-unowned", "ulimit-sysctl-settings"};
  std::set<std::string_view> ids;
  for (const RuleInfo& r : all_rules()) EXPECT_TRUE(ids.insert(r.id).second) << r.id;
  EXPECT_EQ(ids.size(), std::size(design));
  for (const char* d : design) EXPECT_NE(find_rule(d), nullptr) << d;
  EXPECT_TRUE(find_rule("kernel-too-old")->implemented);  // host_rules_test.cc
  EXPECT_TRUE(find_rule("shebang-crlf")->implemented);
}

TEST_F(RulesTest, BlockerCarriesLayerDigestAndCreatedBy) {
  b.layer().file("app/entry.sh", 0, 0755).content("#!/bin/sh\r\necho\r\n");
  info.config.entrypoint = {"/app/entry.sh"};
  info.config.history = {{"", "ADD rootfs /", "", false},
                         {"", "ENTRYPOINT [\"/app/entry.sh\"]", "", true},
                         {"", "COPY app/ /app/", "", false}};
  RuleOutput o = run();
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.reason, "shebang-crlf");
  EXPECT_EQ(o.verdict.exec_chain, (std::vector<std::string>{"/app/entry.sh", "/bin/sh\r"}));
  const Finding* f = find(o, "shebang-crlf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kError);
  EXPECT_EQ(f->layer_index, 1u);
  EXPECT_EQ(f->layer_digest, "sha256:l1");
  EXPECT_EQ(f->created_by, "COPY app/ /app/");
  EXPECT_EQ(f->path, "/app/entry.sh");
}

TEST_F(RulesTest, PrivilegedPortNonroot) {
  info.config.cmd = {"/bin/sh"};
  info.config.user = "app";
  info.config.exposed_ports = {"80/tcp"};
  RuleOutput o = run();
  const Finding* f = find(o, "privileged-port-nonroot");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->severity, Severity::kWarning);
  EXPECT_EQ(f->runtimes, kKubernetes);
  EXPECT_TRUE(o.verdict.starts);  // Docker lets it bind
  o = run(kKubernetes);
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.reason, "privileged-port-nonroot");
}

TEST_F(RulesTest, PrivilegedPortNotForRootOrHighPorts) {
  info.config.cmd = {"/bin/sh"};
  info.config.exposed_ports = {"80/tcp"};
  EXPECT_EQ(find(run(kKubernetes), "privileged-port-nonroot"), nullptr);
  info.config.user = "app";
  info.config.exposed_ports = {"8080/tcp"};
  EXPECT_EQ(find(run(kKubernetes), "privileged-port-nonroot"), nullptr);
}

TEST_F(RulesTest, FileCapabilitiesOutsideDefaultSet) {
  // vfs_cap_data rev 2, effective; permitted = cap_net_admin (12).
  std::string v("\x01\x00\x00\x02\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
                20);
  b.file("usr/bin/tool", 100, 0755).elf(static_elf()).xattr("security.capability", v);
  info.config.cmd = {"/usr/bin/tool"};
  RuleOutput o = run();
  const Finding* f = find(o, "file-capabilities");
  ASSERT_NE(f, nullptr);
  EXPECT_NE(f->message.find("cap_net_admin"), std::string::npos);
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.predicted_error, "exec /usr/bin/tool: operation not permitted");
}

TEST_F(RulesTest, NoFileCapabilitiesNoFinding) {
  b.file("usr/bin/tool", 100, 0755).elf(static_elf());
  info.config.cmd = {"/usr/bin/tool"};
  EXPECT_EQ(find(run(), "file-capabilities"), nullptr);
}

TEST_F(RulesTest, DropsPrivilegesNonroot) {
  b.file("usr/local/bin/gosu", 100, 0755).elf(static_elf());
  b.file("app/entry.sh", 0, 0755).content("#!/bin/sh\nexec gosu app \"$@\"\n");
  b.file("app/server", 100, 0755).elf(static_elf());
  info.config.entrypoint = {"/app/entry.sh"};
  info.config.cmd = {"/app/server"};
  info.config.user = "app";
  EXPECT_NE(find(run(), "drops-privileges-nonroot"), nullptr);
  info.config.user = "";
  EXPECT_EQ(find(run(), "drops-privileges-nonroot"), nullptr);
}

TEST_F(RulesTest, RefusesRoot) {
  b.file("usr/bin/postgres", 100, 0755).elf(static_elf());
  info.config.cmd = {"postgres"};
  RuleOutput o = run();
  ASSERT_NE(find(o, "refuses-root"), nullptr);
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.predicted_error,
            "\"root\" execution of the PostgreSQL server is not permitted.");
  info.config.user = "postgres";
  EXPECT_EQ(find(run(), "refuses-root"), nullptr);
}

TEST_F(RulesTest, StalePidAndLockFiles) {
  b.layer()
      .dir("var")
      .dir("var/lib")
      .dir("var/lib/postgresql")
      .file("var/lib/postgresql/postmaster.pid", 50);
  b.file("run/nginx.pid", 6).file("tmp/app.lock", 0).file("app/yarn.lock", 100);
  info.config.cmd = {"/bin/sh"};
  RuleOutput o = run();
  int pids = 0, locks = 0;
  for (const Finding& f : o.findings) {
    pids += f.rule == "stale-pid-file";
    locks += f.rule == "stale-lock-file";
    if (f.rule == "stale-lock-file") {
      EXPECT_EQ(f.path, "/tmp/app.lock");
    }
  }
  EXPECT_EQ(pids, 2);
  EXPECT_EQ(locks, 1);  // not /app/yarn.lock
}

TEST_F(RulesTest, NoStaleFilesInCleanImage) {
  info.config.cmd = {"/bin/sh"};
  RuleOutput o = run();
  EXPECT_EQ(find(o, "stale-pid-file"), nullptr);
  EXPECT_EQ(find(o, "stale-lock-file"), nullptr);
}

TEST_F(RulesTest, HomeMissing) {
  info.config.cmd = {"/bin/sh"};
  info.config.user = "ghost";
  RuleOutput out = run();  // the findings must outlive `f`
  const Finding* f = find(out, "home-missing");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/nohome");
  info.config.user = "app";
  EXPECT_EQ(find(run(), "home-missing"), nullptr);
}

TEST_F(RulesTest, HealthcheckMissingBinary) {
  info.config.cmd = {"/bin/sh"};
  info.config.healthcheck = {"CMD-SHELL", "curl -f http://localhost/ || exit 1"};
  RuleOutput out = run();  // the findings must outlive `f`
  const Finding* f = find(out, "healthcheck-missing-binary");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "curl");
  EXPECT_EQ(f->runtimes, kDocker | kPodman);
  b.file("usr/bin/curl", 100, 0755).elf(static_elf());
  EXPECT_EQ(find(run(), "healthcheck-missing-binary"), nullptr);
}

TEST_F(RulesTest, NginxAsNonRootCannotWriteItsDirs) {
  b.dir("etc/nginx")
      .file("etc/nginx/nginx.conf", 0, 0644)
      .content("worker_processes 1;\nerror_log /var/log/nginx/error.log;\n");
  b.dir("var")
      .dir("var/cache")
      .dir("var/cache/nginx")
      .dir("var/run")
      .dir("var/log")
      .dir("var/log/nginx");
  b.file("usr/sbin/nginx", 100, 0755).elf(static_elf());
  info.config.cmd = {"/usr/sbin/nginx", "-g", "daemon off;"};
  info.config.user = "app";
  RuleOutput o = run();
  EXPECT_FALSE(o.verdict.starts);
  EXPECT_EQ(o.verdict.reason, "dir-unwritable-by-user");
  EXPECT_EQ(o.verdict.predicted_error,
            "nginx: [emerg] mkdir() \"/var/cache/nginx/client_temp\" failed (13: Permission "
            "denied)");
  int n = 0;
  for (const Finding& f : o.findings) n += f.rule == "dir-unwritable-by-user";
  EXPECT_EQ(n, 3);  // error log, temp path, pid file
}

TEST_F(RulesTest, NginxConfiguredForNonRootIsFine) {
  b.dir("etc/nginx")
      .file("etc/nginx/nginx.conf", 0, 0644)
      .content(
          "pid /tmp/nginx.pid;\nerror_log /dev/stderr;\n"
          "http { client_body_temp_path /tmp/client_temp; }\n");
  b.file("usr/sbin/nginx", 100, 0755).elf(static_elf());
  info.config.cmd = {"/usr/sbin/nginx"};
  info.config.user = "app";
  RuleOutput o = run();
  EXPECT_EQ(find(o, "dir-unwritable-by-user"), nullptr);
  EXPECT_EQ(find(o, "config-unreadable-by-user"), nullptr);
  EXPECT_TRUE(o.verdict.starts);
}

TEST_F(RulesTest, RedisConfigUnreadable) {
  b.dir("etc/redis").file("etc/redis/redis.conf", 0, 0600).content("dir /data\n");
  b.file("usr/bin/redis-server", 100, 0755).elf(static_elf());
  info.config.cmd = {"redis-server", "/etc/redis/redis.conf"};
  info.config.user = "app";
  RuleOutput o = run();
  const Finding* f = find(o, "config-unreadable-by-user");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->path, "/etc/redis/redis.conf");
  info.config.user = "";
  EXPECT_EQ(find(run(), "config-unreadable-by-user"), nullptr);  // root reads anything
}

TEST(SortFindingsTest, SeverityThenRuleThenPathThenLayer) {
  std::vector<Finding> v(3);
  v[0].rule = "b", v[0].severity = Severity::kWarning;
  v[1].rule = "z", v[1].severity = Severity::kError, v[1].path = "/b";
  v[2].rule = "z", v[2].severity = Severity::kError, v[2].path = "/a";
  sort_findings(v);
  EXPECT_EQ(v[0].path, "/a");
  EXPECT_EQ(v[1].path, "/b");
  EXPECT_EQ(v[2].rule, "b");
}

}  // namespace
}  // namespace coroner::rules
