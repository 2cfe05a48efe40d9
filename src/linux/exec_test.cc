#include "linux/exec.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "testing/tree_builder.h"

namespace coroner::linux_ {
namespace {

constexpr std::string_view kGlibcLoader = "/lib64/ld-linux-x86-64.so.2";

elf::ElfInfo dyn_elf(uint16_t machine = 62, uint8_t cls = 2,
                     std::optional<std::string> interp = std::string(kGlibcLoader)) {
  elf::ElfInfo e;
  e.ei_class = cls;
  e.ei_data = 1;
  e.e_type = 3;
  e.e_machine = machine;
  e.interp = std::move(interp);
  e.has_dynamic = true;
  e.dt_flags_1 = 0x08000000;
  return e;
}

elf::ElfInfo static_elf(uint16_t machine = 62) {
  elf::ElfInfo e;
  e.ei_class = 2;
  e.ei_data = 1;
  e.e_type = 2;
  e.e_machine = machine;
  return e;
}

// A small Debian-like root: a dynamic /bin/sh (dash) with its loader, env, passwd and group.
class ExecTest : public ::testing::Test {
 protected:
  ExecTest() {
    b.dir("bin").dir("etc").dir("usr").dir("usr/bin").dir("usr/local").dir("usr/local/bin");
    b.dir("lib64").dir("tmp", 01777).dir("app");
    b.file("lib64/ld-linux-x86-64.so.2", 1000, 0755).elf(static_elf());
    b.file("bin/dash", 1000, 0755).elf(dyn_elf());
    b.symlink("bin/sh", "dash");
    b.file("usr/bin/env", 1000, 0755).elf(dyn_elf());
    b.file("etc/passwd", 0, 0644)
        .content(
            "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
            "postgres:x:999:999::/var/lib/postgresql:/bin/sh\n");
    b.file("etc/group", 0, 0644).content("root:x:0:\napp:x:1000:\npostgres:x:999:\n");
    cfg.os = "linux";
    cfg.architecture = "amd64";
    cfg.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  }

  ExecResult run(ExecOptions o = {}) {
    tree.emplace(b.build());
    root.emplace(*tree, b.layers());
    return simulate_exec(*root, cfg, o);
  }

  static bool has_issue(const ExecResult& r, std::string_view rule) {
    for (const ExecIssue& i : r.issues) {
      if (i.rule == rule) return true;
    }
    return false;
  }

  testing::TreeBuilder b;
  image::ImageConfig cfg;
  std::optional<fs::Tree> tree;
  std::optional<RootView> root;
};

// --- argv composition ----------------------------------------------------------------------

TEST_F(ExecTest, EntrypointMissingWhenNeitherEntrypointNorCmd) {
  cfg.history.push_back({"", "/bin/sh -c #(nop)  ENTRYPOINT []", "", true});
  ExecResult r = run();
  EXPECT_FALSE(r.verdict.starts);
  EXPECT_EQ(r.verdict.reason, "entrypoint-missing");
  EXPECT_EQ(r.verdict.predicted_error, "No command specified");
  EXPECT_EQ(r.verdict.predicted_exit, 125);
  ASSERT_FALSE(r.issues.empty());
  EXPECT_NE(r.issues[0].message.find("ENTRYPOINT []"), std::string::npos);
}

TEST_F(ExecTest, EntrypointMissingNotWhenCmdSet) {
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  EXPECT_FALSE(has_issue(r, "entrypoint-missing"));
}

TEST_F(ExecTest, EntrypointOverrideDropsImageCmd) {
  cfg.entrypoint = {"/app/entry.sh"};
  cfg.cmd = {"serve"};
  ExecOptions o;
  o.overrides.entrypoint = "/bin/sh";
  ExecResult r = run(o);
  EXPECT_EQ(r.argv, (std::vector<std::string>{"/bin/sh"}));
  EXPECT_TRUE(r.verdict.starts);
}

TEST_F(ExecTest, EmptyEntrypointOverrideWithoutArgsIsNoCommand) {
  cfg.entrypoint = {"/bin/sh"};
  cfg.cmd = {"-c", "true"};
  ExecOptions o;
  o.overrides.entrypoint = "";
  ExecResult r = run(o);
  EXPECT_EQ(r.verdict.reason, "entrypoint-missing");
  o.overrides.args = std::vector<std::string>{"/usr/bin/env"};
  r = run(o);
  EXPECT_EQ(r.argv, (std::vector<std::string>{"/usr/bin/env"}));
  EXPECT_TRUE(r.verdict.starts);
}

TEST_F(ExecTest, TrailingArgsReplaceCmd) {
  cfg.entrypoint = {"/usr/bin/env"};
  cfg.cmd = {"missing-program"};
  ExecOptions o;
  o.overrides.args = std::vector<std::string>{"A=1"};
  ExecResult r = run(o);
  EXPECT_EQ(r.argv, (std::vector<std::string>{"/usr/bin/env", "A=1"}));
}

TEST_F(ExecTest, ShellFormCmdAfterExecFormEntrypoint) {
  b.file("app/server", 1000, 0755).elf(static_elf());
  cfg.entrypoint = {"/app/server"};
  cfg.cmd = {"/bin/sh", "-c", "--port 80"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "cmd-shell-form-after-entrypoint");
  EXPECT_EQ(r.argv.size(), 4u);
}

TEST_F(ExecTest, ShellFormCmdAfterEntrypointScriptThatExecsArgsIsFine) {
  b.file("app/entry.sh", 0, 0755).content("#!/bin/sh\nset -e\nexec \"$@\"\n");
  cfg.entrypoint = {"/app/entry.sh"};
  cfg.cmd = {"/bin/sh", "-c", "env"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "cmd-shell-form-after-entrypoint"));
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
}

TEST_F(ExecTest, MalformedExecFormBecameShellForm) {
  cfg.cmd = {"/bin/sh", "-c", "['/app/server', '--port', '80']"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-form-malformed");
  EXPECT_EQ(r.verdict.predicted_error, "/bin/sh: 1: [/app/server,: not found");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, WellFormedShellFormIsNotMalformed) {
  cfg.cmd = {"/bin/sh", "-c", "exec env"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  EXPECT_FALSE(has_issue(r, "exec-form-malformed"));
}

TEST_F(ExecTest, ShellFormWithoutBinSh) {
  b = testing::TreeBuilder();
  b.dir("app").file("app/server", 1000, 0755).elf(static_elf());
  cfg.cmd = {"/bin/sh", "-c", "/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shell-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "exec: \"/bin/sh\": stat /bin/sh: no such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, ShellFormWithBinShIsNotShellMissing) {
  cfg.cmd = {"/bin/sh", "-c", "echo hi"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "shell-missing"));
  EXPECT_TRUE(r.verdict.starts);
}

// --- USER ----------------------------------------------------------------------------------

TEST_F(ExecTest, UserWithCommentIsUnknown) {
  cfg.user = "app # run as app";
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "user-unknown");
  EXPECT_EQ(r.verdict.predicted_error,
            "unable to find user app # run as app: no matching entries in passwd file");
  EXPECT_EQ(r.verdict.predicted_exit, 125);
  EXPECT_NE(r.issues[0].fix.find("comment"), std::string::npos);
}

TEST_F(ExecTest, KnownUserResolves) {
  cfg.user = "app";
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts);
  ASSERT_TRUE(r.user);
  EXPECT_EQ(r.user->uid, 1000);
}

TEST_F(ExecTest, GroupUnknown) {
  cfg.user = "app:staff";
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "group-unknown");
  EXPECT_EQ(r.verdict.predicted_exit, 125);
}

TEST_F(ExecTest, PasswdMissingForNamedUserButNotForNumeric) {
  b = testing::TreeBuilder();
  b.dir("bin").file("bin/app", 1000, 0755).elf(static_elf());
  cfg.user = "app";
  cfg.cmd = {"/bin/app"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "passwd-missing");
  cfg.user = "65532:65532";
  r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
}

// --- WORKDIR -------------------------------------------------------------------------------

TEST_F(ExecTest, WorkdirThatIsAFile) {
  b.dir("srv").file("srv/app", 10);
  cfg.workdir = "/srv/app";
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "workdir-not-directory");
  EXPECT_EQ(r.verdict.predicted_error, "Cannot mkdir: /srv/app is not a directory");
  EXPECT_EQ(r.verdict.predicted_exit, 125);
}

TEST_F(ExecTest, MissingWorkdirIsCreated) {
  cfg.workdir = "/srv/new";
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts);
  EXPECT_FALSE(has_issue(r, "workdir-not-directory"));
}

TEST_F(ExecTest, WorkdirNotSearchableByUser) {
  b.dir("srv", 0755).dir("srv/app", 0700).file("srv/app/server", 100, 0755).elf(static_elf());
  cfg.workdir = "/srv/app";
  cfg.user = "app";
  cfg.cmd = {"./server"};
  ExecResult r = run();
  EXPECT_TRUE(has_issue(r, "workdir-not-searchable"));
  EXPECT_FALSE(r.verdict.starts);
  EXPECT_EQ(r.verdict.reason, "exec-permission-denied");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"./server\": stat ./server: permission denied");
  EXPECT_EQ(r.verdict.predicted_exit, 126);
}

TEST_F(ExecTest, WorkdirSearchableByRoot) {
  b.dir("srv", 0700).dir("srv/app", 0755).file("srv/app/server", 100, 0755).elf(static_elf());
  cfg.workdir = "/srv/app";
  cfg.cmd = {"./server"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "workdir-not-searchable"));
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
}

// --- argv[0] lookup ------------------------------------------------------------------------

TEST_F(ExecTest, AbsolutePathMissing) {
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-not-found");
  EXPECT_EQ(r.verdict.predicted_error,
            "exec: \"/app/server\": stat /app/server: no such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, RelativeArgv0IsRelativeToWorkdir) {
  b.file("app/server", 100, 0755).elf(static_elf());
  cfg.workdir = "/app";
  cfg.cmd = {"./server"};
  EXPECT_TRUE(run().verdict.starts);
  cfg.workdir = "/";
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-not-found");
  EXPECT_EQ(r.verdict.predicted_error,
            "exec: \"./server\": stat ./server: no such file or directory");
}

TEST_F(ExecTest, NameNotInPath) {
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-not-found");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"server\": executable file not found in $PATH");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, NameFoundInPath) {
  b.file("usr/local/bin/server", 100, 0755).elf(static_elf());
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts);
  EXPECT_EQ(r.exec_chain.front(), "/usr/local/bin/server");
}

TEST_F(ExecTest, DefaultPathWhenConfigHasNone) {
  b.file("usr/local/bin/server", 100, 0755).elf(static_elf());
  cfg.env.clear();
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts);
  EXPECT_EQ(r.path_env, kDockerDefaultPath);
}

TEST_F(ExecTest, LookPathSkipsNonExecutableFile) {
  b.file("usr/local/bin/server", 100, 0644).elf(static_elf());
  cfg.cmd = {"server"};
  ExecResult r = run();
  // Not "permission denied": Go's LookPath skips the file and reports not found, so the rule
  // is exec-not-found (as Docker says), with the skipped file as the culprit.
  EXPECT_EQ(r.verdict.reason, "exec-not-found");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"server\": executable file not found in $PATH");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
  EXPECT_EQ(r.issues[0].path, "/usr/local/bin/server");
  EXPECT_NE(r.issues[0].message.find("no x bit"), std::string::npos);
}

TEST_F(ExecTest, NonExecutableFileByPathIsPermissionDenied) {
  b.file("app/server", 100, 0644).elf(static_elf());
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-not-executable");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"/app/server\": permission denied");
  EXPECT_EQ(r.verdict.predicted_exit, 126);
}

TEST_F(ExecTest, ExecutableFileIsNotFlaggedNotExecutable) {
  b.file("app/server", 100, 0755).elf(static_elf());
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "exec-not-executable"));
  EXPECT_TRUE(r.verdict.starts);
}

TEST_F(ExecTest, DanglingSymlinkInPath) {
  b.symlink("usr/local/bin/server", "/opt/server/bin/server");
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-dangling-symlink");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"server\": executable file not found in $PATH");
  cfg.cmd = {"/usr/local/bin/server"};
  r = run();
  EXPECT_EQ(r.verdict.reason, "exec-dangling-symlink");
  EXPECT_EQ(r.verdict.predicted_error,
            "exec: \"/usr/local/bin/server\": stat /usr/local/bin/server: no such file or "
            "directory");
}

TEST_F(ExecTest, SymlinkToExistingProgramIsFine) {
  b.dir("opt").dir("opt/server").file("opt/server/server", 100, 0755).elf(static_elf());
  b.symlink("usr/local/bin/server", "/opt/server/server");
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "exec-dangling-symlink"));
  EXPECT_TRUE(r.verdict.starts);
}

TEST_F(ExecTest, DirectoryAsArgv0) {
  cfg.cmd = {"/app"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-permission-denied");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"/app\": permission denied");
  EXPECT_EQ(r.verdict.predicted_exit, 126);
  // In PATH a directory is skipped.
  b.dir("usr/local/bin/tool");
  cfg.cmd = {"tool"};
  r = run();
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"tool\": executable file not found in $PATH");
}

TEST_F(ExecTest, ExecutableOnlyForOwnerIsPermissionDeniedForOthers) {
  b.file("app/server", 100, 0700).elf(static_elf());
  cfg.user = "app";
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-permission-denied");
  // runc's eaccess() after LookPath: a create-time error (126), not an execve inside (1).
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/server: permission denied");
  EXPECT_EQ(r.verdict.predicted_exit, 126);
  cfg.user = "";
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, ExecutableOnlyForOwnerInPathIsFoundThenDenied) {
  // Go 1.19's LookPath (runc 1.1.5 in Debian 12) looks only at the mode bits: the file is found,
  // then runc's eaccess() refuses it with the path LookPath returned.
  b.file("usr/local/bin/server", 100, 0700).elf(static_elf());
  cfg.user = "app";
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-permission-denied");
  EXPECT_EQ(r.verdict.predicted_error, "exec /usr/local/bin/server: permission denied");
  EXPECT_EQ(r.verdict.predicted_exit, 126);
  EXPECT_EQ(r.issues[0].path, "/usr/local/bin/server");
}

TEST_F(ExecTest, ExecutableForTheUsersGroupPassesEaccess) {
  b.file("app/server", 100, 0710).owner(0, 1000).elf(static_elf());
  cfg.user = "app";
  cfg.cmd = {"/app/server"};
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, PathClobbered) {
  cfg.env = {"PATH=/opt/venv/bin"};
  cfg.cmd = {"env"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "path-clobbered");
  EXPECT_EQ(r.verdict.predicted_error, "exec: \"env\": executable file not found in $PATH");
  cfg.env = {"PATH=/opt/venv/bin:/usr/bin"};
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, PathClobberedByEnvPathWithoutBasePath) {
  // `ENV PATH /opt/app/bin:$PATH` in a stage whose PATH was unset expands to "/opt/app/bin:".
  cfg.env = {"PATH=/opt/app/bin:"};
  cfg.cmd = {"env"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "path-clobbered");
  EXPECT_NE(r.issues[0].message.find("empty entry"), std::string::npos);
  cfg.env = {"PATH=/opt/app/bin:$PATH"};
  r = run();
  EXPECT_EQ(r.verdict.reason, "path-clobbered");
  EXPECT_NE(r.issues[0].message.find("literal"), std::string::npos);
}

TEST_F(ExecTest, EnvOverrideChangesPath) {
  cfg.cmd = {"env"};
  ExecOptions o;
  o.overrides.env = {"PATH=/nowhere"};
  ExecResult r = run(o);
  EXPECT_EQ(r.verdict.reason, "path-clobbered");
}

// --- scripts -------------------------------------------------------------------------------

TEST_F(ExecTest, ShebangCrlf) {
  b.layer().file("app/entry.sh", 0, 0755).content("#!/bin/sh\r\necho hi\r\nexec \"$@\"\r\n");
  cfg.entrypoint = {"/app/entry.sh"};
  cfg.cmd = {"serve"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-crlf");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/entry.sh: no such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 1);
  EXPECT_EQ(r.issues[0].path, "/app/entry.sh");
  EXPECT_EQ(r.issues[0].layer, 1u);
  EXPECT_EQ(r.exec_chain, (std::vector<std::string>{"/app/entry.sh", "/bin/sh\r"}));
}

TEST_F(ExecTest, ShebangLfIsFine) {
  b.file("app/entry.sh", 0, 0755).content("#!/bin/sh\necho hi\n");
  cfg.entrypoint = {"/app/entry.sh"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  EXPECT_FALSE(has_issue(r, "shebang-crlf"));
  EXPECT_EQ(r.exec_chain, (std::vector<std::string>{"/app/entry.sh", "/bin/sh", "/bin/dash",
                                                    "/lib64/ld-linux-x86-64.so.2"}));
}

TEST_F(ExecTest, ShebangCrlfThroughEnv) {
  b.file("usr/bin/bash", 100, 0755).elf(dyn_elf());
  b.file("app/run", 0, 0755).content("#!/usr/bin/env bash\r\necho hi\r\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-crlf");
  // coreutils env quotes the name ('bash\r', C escapes) and, since the name holds white space,
  // adds its hint line.
  EXPECT_EQ(r.verdict.predicted_error,
            "/usr/bin/env: 'bash\\r': No such file or directory\n"
            "/usr/bin/env: use -[v]S to pass options in shebang lines");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, EnvHintOnlyForNamesWithWhiteSpace) {
  b.file("app/run", 0, 0755).content("#!/usr/bin/env node\nconsole.log(1)\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "env-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error, "/usr/bin/env: 'node': No such file or directory");
}

// A BusyBox image: the applets are symlinks to /bin/busybox (or hardlinks of it).
class BusyboxExecTest : public ExecTest {
 protected:
  BusyboxExecTest() {
    b.layer().file("bin/busybox", 900, 0755).elf(static_elf()).symlink("bin/sh", "busybox");
  }
};

TEST_F(BusyboxExecTest, ShebangCrlfThroughBusyboxEnvKeepsTheRawCarriageReturn) {
  b.symlink("usr/bin/env", "/bin/busybox");
  b.file("app/run", 0, 0755).content("#!/usr/bin/env sh\r\necho hi\r\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-crlf");
  EXPECT_EQ(r.verdict.predicted_error, "env: can't execute 'sh\r': No such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(BusyboxExecTest, BusyboxEnvAsHardlinkIsRecognised) {
  b.hardlink("usr/bin/env", "bin/busybox");
  b.file("app/run", 0, 0755).content("#!/usr/bin/env python3\nprint(1)\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "env-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error, "env: can't execute 'python3': No such file or directory");
}

TEST_F(BusyboxExecTest, MissingScriptForBusyboxSh) {
  cfg.cmd = {"/bin/sh", "/app/missing.sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "program-file-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "/bin/sh: can't open '/app/missing.sh': No such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 2);
}

TEST_F(ExecTest, ShebangMissingBom) {
  b.file("app/run", 0, 0755).content("\xEF\xBB\xBF#!/bin/sh\necho hi\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-missing");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/run: exec format error");
  EXPECT_NE(r.issues[0].message.find("byte order mark"), std::string::npos);
}

TEST_F(ExecTest, ShebangMissingBlankFirstLine) {
  b.file("app/run", 0, 0755).content("\n#!/bin/sh\necho hi\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-missing");
  EXPECT_NE(r.issues[0].message.find("not on the first byte"), std::string::npos);
}

TEST_F(ExecTest, ShebangMissingHtmlSavedAsProgram) {
  b.file("usr/local/bin/kubectl", 0, 0755)
      .content("<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n");
  cfg.cmd = {"kubectl"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-missing");
  EXPECT_EQ(r.verdict.predicted_error, "exec /usr/local/bin/kubectl: exec format error");
  EXPECT_NE(r.issues[0].message.find("HTML"), std::string::npos);
}

TEST_F(ExecTest, InterpreterMissing) {
  b.file("app/main.py", 0, 0755).content("#!/usr/bin/python3\nprint(1)\n");
  cfg.cmd = {"/app/main.py"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/main.py: no such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 1);
}

TEST_F(ExecTest, InterpreterMissingThroughSymlinkChain) {
  b.symlink("usr/bin/python3", "python3.11");
  b.file("app/main.py", 0, 0755).content("#!/usr/bin/python3\nprint(1)\n");
  cfg.cmd = {"/app/main.py"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-interpreter-missing");
  EXPECT_NE(r.issues[0].message.find("python3.11"), std::string::npos);
}

TEST_F(ExecTest, InterpreterFromBuildStage) {
  b.file("app/main.py", 0, 0755).content("#!/build/venv/bin/python\nprint(1)\n");
  cfg.cmd = {"/app/main.py"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-interpreter-missing");
  EXPECT_NE(r.issues[0].message.find("build-stage"), std::string::npos);
}

TEST_F(ExecTest, InterpreterPresentIsFine) {
  b.file("usr/bin/python3.11", 100, 0755).elf(dyn_elf());
  b.symlink("usr/bin/python3", "python3.11");
  b.file("app/main.py", 0, 0755).content("#!/usr/bin/python3\nprint(1)\n");
  cfg.cmd = {"/app/main.py"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  EXPECT_FALSE(has_issue(r, "shebang-interpreter-missing"));
}

TEST_F(ExecTest, EnvInterpreterMissing) {
  b.file("app/server.js", 0, 0755).content("#!/usr/bin/env node\nconsole.log(1)\n");
  cfg.cmd = {"/app/server.js"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "env-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error, "/usr/bin/env: 'node': No such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, EnvWithArgumentsIsOneWord) {
  b.file("usr/bin/python3", 100, 0755).elf(dyn_elf());
  b.file("app/main.py", 0, 0755).content("#!/usr/bin/env python3 -u\nprint(1)\n");
  cfg.cmd = {"/app/main.py"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "env-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "/usr/bin/env: 'python3 -u': No such file or directory\n"
            "/usr/bin/env: use -[v]S to pass options in shebang lines");
  // env -S splits the words.
  b.file("app/ok.py", 0, 0755).content("#!/usr/bin/env -S python3 -u\nprint(1)\n");
  cfg.cmd = {"/app/ok.py"};
  r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
}

TEST_F(ExecTest, EnvInterpreterFoundIsFine) {
  b.file("usr/local/bin/node", 100, 0755).elf(dyn_elf());
  b.file("app/server.js", 0, 0755).content("#!/usr/bin/env node\nconsole.log(1)\n");
  cfg.cmd = {"/app/server.js"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  EXPECT_FALSE(has_issue(r, "env-interpreter-missing"));
}

TEST_F(ExecTest, ShebangTooLong) {
  std::string path = "/" + std::string(300, 'p');
  b.file("app/run", 0, 0755).content("#!" + path + "\necho\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-too-long");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/run: exec format error");
}

TEST_F(ExecTest, LongShebangArgumentsAreTruncatedNotRefused) {
  b.file("app/run", 0, 0755).content("#!/bin/sh -e " + std::string(300, 'x') + "\necho\n");
  cfg.cmd = {"/app/run"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "shebang-too-long"));
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
}

TEST_F(ExecTest, NestedInterpretersUpToTheKernelLimit) {
  // s1 -> s2 -> s3 -> s4 -> /bin/sh: four script levels run.
  b.file("app/s4", 0, 0755).content("#!/bin/sh\n");
  b.file("app/s3", 0, 0755).content("#!/app/s4\n");
  b.file("app/s2", 0, 0755).content("#!/app/s3\n");
  b.file("app/s1", 0, 0755).content("#!/app/s2\n");
  cfg.cmd = {"/app/s1"};
  EXPECT_TRUE(run().verdict.starts);
  b.file("app/s0", 0, 0755).content("#!/app/s1\n");
  cfg.cmd = {"/app/s0"};
  ExecResult r = run();
  EXPECT_FALSE(r.verdict.starts);
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/s0: too many levels of symbolic links");
}

// --- ELF -----------------------------------------------------------------------------------

TEST_F(ExecTest, ElfArchMismatch) {
  b.file("app/server", 100, 0755).elf(static_elf(183));
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "elf-arch-mismatch");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/server: exec format error");
  EXPECT_NE(r.issues[0].message.find("arm64"), std::string::npos);
  cfg.architecture = "arm64";
  b = testing::TreeBuilder();
  b.dir("app").file("app/server", 100, 0755).elf(static_elf(183));
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, ArmHardFloatBinaryOnArmel) {
  b = testing::TreeBuilder();
  elf::ElfInfo arm = static_elf(40);
  arm.ei_class = 1;
  arm.e_flags = 0x05000400;  // EABI5, hard-float
  b.dir("app").file("app/server", 100, 0755).elf(arm);
  cfg.architecture = "arm";
  cfg.variant = "v5";
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "elf-arch-mismatch");
  EXPECT_NE(r.issues[0].message.find("hard-float"), std::string::npos);
  cfg.variant = "v7";
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, GlibcBinaryOnMusl) {
  b = testing::TreeBuilder();
  b.dir("lib").file("lib/ld-musl-x86_64.so.1", 100, 0755).elf(static_elf());
  b.dir("app").file("app/server", 100, 0755).elf(dyn_elf());
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "elf-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/server: no such file or directory");
  EXPECT_NE(r.issues[0].message.find("musl"), std::string::npos);
}

TEST_F(ExecTest, MuslBinaryOnDebian) {
  b.file("app/server", 100, 0755).elf(dyn_elf(62, 2, "/lib/ld-musl-x86_64.so.1"));
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "elf-interpreter-missing");
  EXPECT_NE(r.issues[0].message.find("glibc x86-64"), std::string::npos);
}

TEST_F(ExecTest, I386BinaryWithoutItsLoaderOnAmd64) {
  b.file("app/legacy", 100, 0755).elf(dyn_elf(3, 1, "/lib/ld-linux.so.2"));
  cfg.cmd = {"/app/legacy"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "elf-interpreter-missing");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/legacy: no such file or directory");
}

TEST_F(ExecTest, StaticAndStaticPieNeedNoLoader) {
  b = testing::TreeBuilder();
  b.dir("app").file("app/static", 100, 0755).elf(static_elf());
  elf::ElfInfo pie = static_elf();
  pie.e_type = 3;
  pie.has_dynamic = true;
  pie.dt_flags_1 = 0x08000000;
  b.file("app/pie", 100, 0755).elf(pie);
  cfg.cmd = {"/app/static"};
  EXPECT_TRUE(run().verdict.starts);
  cfg.cmd = {"/app/pie"};
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, TruncatedElfIsCorrupt) {
  b.file("app/server", 64, 0755).kind(scan::ContentKind::kElf);
  b.mutable_layers().back().facts.emplace_back();
  b.mutable_layers().back().facts.back().elf_error = "ELF: program headers past the end of file";
  b.mutable_layers().back().entries.back().facts =
      static_cast<uint32_t>(b.mutable_layers().back().facts.size() - 1);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "elf-corrupt");
  EXPECT_EQ(r.verdict.predicted_error, "exec /app/server: exec format error");
  EXPECT_EQ(r.verdict.predicted_exit, 1);
}

TEST_F(ExecTest, WellFormedElfIsNotCorrupt) {
  b.file("app/server", 64, 0755).elf(static_elf());
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "elf-corrupt"));
}

TEST_F(ExecTest, OsMismatch) {
  cfg.os = "windows";
  cfg.cmd = {"/bin/sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "os-mismatch");
  EXPECT_EQ(r.verdict.predicted_exit, 125);
  cfg.os = "linux";
  EXPECT_FALSE(has_issue(run(), "os-mismatch"));
}

TEST_F(ExecTest, LibraryMissing) {
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libfoo.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "library-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "/app/server: error while loading shared libraries: libfoo.so.1: cannot open shared "
            "object file: No such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, LibraryMissingUnderMuslUsesMuslsWording) {
  b = testing::TreeBuilder();
  b.dir("lib").file("lib/ld-musl-x86_64.so.1", 100, 0755).elf(static_elf());
  elf::ElfInfo e = dyn_elf(62, 2, "/lib/ld-musl-x86_64.so.1");
  e.needed = {"libfoo.so.1"};
  b.dir("usr").dir("usr/local").dir("usr/local/bin").file("usr/local/bin/server", 100, 0755).elf(e);
  cfg.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  cfg.cmd = {"server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "library-missing");
  // The path runc handed to execve (after the PATH lookup), as musl's AT_EXECFN shows it.
  EXPECT_EQ(r.verdict.predicted_error,
            "Error loading shared library libfoo.so.1: No such file or directory (needed by "
            "/usr/local/bin/server)");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

// The loader the exec simulation runs picks glibc-hwcaps/x86-64-vN libraries by the host's CPU
// level (ExecOptions::x86_64_level): a library only built for v3 is there on a v3 host.
TEST_F(ExecTest, HwcapsOnlyLibraryFollowsTheHostCpuLevel) {
  elf::ElfInfo lib = static_elf();
  lib.e_type = 3;
  lib.soname = "libfoo.so.1";
  b.dir("lib")
      .dir("lib/x86_64-linux-gnu")
      .dir("lib/x86_64-linux-gnu/glibc-hwcaps")
      .dir("lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3")
      .file("lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1", 100, 0644)
      .elf(lib);
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libfoo.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  // Baseline CPU: on disk, but only where a v3 CPU's loader looks.
  EXPECT_EQ(run().verdict.reason, "library-not-in-search-path");
  ExecOptions o;
  o.x86_64_level = 3;
  ExecResult r3 = run(o);
  EXPECT_FALSE(has_issue(r3, "library-not-in-search-path"));
  EXPECT_TRUE(r3.verdict.starts);
}

TEST_F(ExecTest, LibraryPresentIsFine) {
  elf::ElfInfo lib = static_elf();
  lib.e_type = 3;
  lib.soname = "libfoo.so.1";
  b.dir("lib")
      .dir("lib/x86_64-linux-gnu")
      .file("lib/x86_64-linux-gnu/libfoo.so.1", 100, 0644)
      .elf(lib);
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libfoo.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_FALSE(has_issue(r, "library-missing"));
}

TEST_F(ExecTest, SymbolVersionMissing) {
  elf::ElfInfo libc = static_elf();
  libc.e_type = 3;
  libc.soname = "libc.so.6";
  libc.verdef = {"GLIBC_2.2.5", "GLIBC_2.34"};
  b.dir("lib")
      .dir("lib/x86_64-linux-gnu")
      .file("lib/x86_64-linux-gnu/libc.so.6", 100, 0755)
      .elf(libc);
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libc.so.6"};
  e.verneed = {{"libc.so.6", {"GLIBC_2.34", "GLIBC_2.38"}}};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "symbol-version-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "/app/server: /lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found "
            "(required by /app/server)");
  EXPECT_EQ(r.verdict.predicted_exit, 1);
}
TEST_F(ExecTest, LibraryMissingTransitively) {
  elf::ElfInfo liba = static_elf();
  liba.e_type = 3;
  liba.soname = "liba.so.1";
  liba.needed = {"libb.so.2"};
  b.dir("lib")
      .dir("lib/x86_64-linux-gnu")
      .file("lib/x86_64-linux-gnu/liba.so.1", 100, 0644)
      .elf(liba);
  elf::ElfInfo e = dyn_elf();
  e.needed = {"liba.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "library-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "/app/server: error while loading shared libraries: libb.so.2: cannot open shared "
            "object file: No such file or directory");
  EXPECT_EQ(r.issues[0].path, "/lib/x86_64-linux-gnu/liba.so.1");
}

TEST_F(ExecTest, LibraryOnDiskButNotInSearchPath) {
  elf::ElfInfo lib = static_elf();
  lib.e_type = 3;
  lib.soname = "libfoo.so.1";
  b.dir("opt")
      .dir("opt/foo")
      .dir("opt/foo/lib")
      .file("opt/foo/lib/libfoo.so.1", 100, 0644)
      .elf(lib);
  b.dir("etc/ld.so.conf.d").file("etc/ld.so.conf.d/foo.conf", 0, 0644).content("/opt/foo/lib\n");
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libfoo.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "library-not-in-search-path");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
  // With LD_LIBRARY_PATH it is found.
  cfg.env.push_back("LD_LIBRARY_PATH=/opt/foo/lib");
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, UnusableLibraryNamesTheFileAndTheLoadersReason) {
  // A text file where the library should be: ld.so stops at it with its own error.
  b.dir("lib").dir("lib/x86_64-linux-gnu");
  b.file("lib/x86_64-linux-gnu/libfoo.so.1", 200, 0644).content(std::string(200, 'x'));
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libfoo.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.cmd = {"/app/server"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "library-missing");
  EXPECT_EQ(r.verdict.predicted_error,
            "/app/server: error while loading shared libraries: "
            "/lib/x86_64-linux-gnu/libfoo.so.1: invalid ELF header");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, RelativeLdLibraryPathIsRelativeToWorkdir) {
  elf::ElfInfo lib = static_elf();
  lib.e_type = 3;
  lib.soname = "libfoo.so.1";
  b.dir("app/lib").file("app/lib/libfoo.so.1", 100, 0644).elf(lib);
  elf::ElfInfo e = dyn_elf();
  e.needed = {"libfoo.so.1"};
  b.file("app/server", 100, 0755).elf(e);
  cfg.env.push_back("LD_LIBRARY_PATH=lib");
  cfg.cmd = {"/app/server"};
  cfg.workdir = "/app";
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  cfg.workdir = "/";  // lib is now /lib, which has no libfoo.so.1
  r = run();
  EXPECT_EQ(r.verdict.reason, "library-not-in-search-path");
  ExecOptions o;
  o.overrides.workdir = "/app";
  EXPECT_TRUE(run(o).verdict.starts);
}

// --- entrypoint scripts and program files --------------------------------------------------

TEST_F(ExecTest, EntrypointScriptHandsOverToMissingCmd) {
  b.file("usr/local/bin/docker-entrypoint.sh", 0, 0755)
      .content(
          "#!/bin/sh\nset -e\nif [ \"${1#-}\" != \"$1\" ]; then set -- nginx \"$@\"; fi\n"
          "exec \"$@\"\n");
  cfg.entrypoint = {"docker-entrypoint.sh"};
  cfg.cmd = {"nginx", "-g", "daemon off;"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-not-found");
  EXPECT_EQ(r.verdict.predicted_error,
            "/usr/local/bin/docker-entrypoint.sh: 4: exec: nginx: not found");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, EntrypointScriptHandsOverToCrlfScript) {
  b.file("app/entry.sh", 0, 0755).content("#!/bin/sh\nexec \"$@\"\n");
  b.file("app/run.sh", 0, 0755).content("#!/bin/sh\r\necho\r\n");
  cfg.entrypoint = {"/app/entry.sh"};
  cfg.cmd = {"/app/run.sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "shebang-crlf");
  EXPECT_EQ(r.verdict.predicted_error, "/app/entry.sh: 2: exec: /app/run.sh: not found");
}

TEST_F(ExecTest, EntrypointScriptGosuSwitchesUser) {
  b.file("usr/local/bin/gosu", 100, 0755).elf(static_elf());
  b.file("usr/bin/postgres", 100, 0755).elf(dyn_elf());
  b.file("usr/local/bin/docker-entrypoint.sh", 0, 0755)
      .content("#!/bin/sh\nexec gosu postgres \"$@\"\n");
  cfg.entrypoint = {"docker-entrypoint.sh"};
  cfg.cmd = {"postgres"};
  ExecResult r = run();
  EXPECT_TRUE(r.verdict.starts) << r.verdict.predicted_error;
  ASSERT_TRUE(r.final_user);
  EXPECT_EQ(r.final_user->uid, 999);
  EXPECT_NE(std::find(r.programs.begin(), r.programs.end(), "/usr/local/bin/gosu"),
            r.programs.end());
  EXPECT_NE(std::find(r.programs.begin(), r.programs.end(), "/usr/bin/postgres"), r.programs.end());
}

TEST_F(ExecTest, EntrypointScriptExecsFixedMissingProgram) {
  b.file("app/entry.sh", 0, 0755).content("#!/bin/sh\necho start\nexec /opt/app/bin/server --x\n");
  cfg.entrypoint = {"/app/entry.sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "exec-not-found");
  EXPECT_EQ(r.verdict.predicted_error, "/app/entry.sh: 3: exec: /opt/app/bin/server: not found");
}

TEST_F(ExecTest, ProgramFileMissingNode) {
  b.file("usr/local/bin/node", 100, 0755).elf(dyn_elf());
  cfg.workdir = "/app";
  cfg.cmd = {"node", "server.js"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "program-file-missing");
  EXPECT_EQ(r.verdict.predicted_error, "Error: Cannot find module '/app/server.js'");
  EXPECT_EQ(r.verdict.predicted_exit, 1);
  b.file("app/server.js", 10, 0644);
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, ProgramFileMissingPythonJavaRubyPhp) {
  for (const char* p : {"usr/bin/python3", "usr/bin/java", "usr/bin/ruby", "usr/bin/php"}) {
    b.file(p, 100, 0755).elf(dyn_elf());
  }
  cfg.workdir = "/app";
  cfg.cmd = {"python3", "-u", "main.py"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.predicted_error,
            "python3: can't open file '/app/main.py': [Errno 2] No such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 2);
  cfg.cmd = {"java", "-Xmx1g", "-jar", "app.jar"};
  EXPECT_EQ(run().verdict.predicted_error, "Error: Unable to access jarfile app.jar");
  cfg.cmd = {"ruby", "app.rb"};
  EXPECT_EQ(run().verdict.predicted_error, "ruby: No such file or directory -- app.rb (LoadError)");
  cfg.cmd = {"php", "index.php"};
  EXPECT_EQ(run().verdict.predicted_error, "Could not open input file: index.php");
  cfg.cmd = {"python3", "-m", "http.server"};
  EXPECT_TRUE(run().verdict.starts);
}

TEST_F(ExecTest, MissingScriptForDashAndBash) {
  b.file("bin/bash", 100, 0755).elf(dyn_elf());
  cfg.cmd = {"/bin/sh", "/app/missing.sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "program-file-missing");
  EXPECT_EQ(r.verdict.predicted_error, "/bin/sh: 0: cannot open /app/missing.sh: No such file");
  EXPECT_EQ(r.verdict.predicted_exit, 2);
  cfg.cmd = {"bash", "/app/missing.sh"};
  r = run();
  EXPECT_EQ(r.verdict.predicted_error, "bash: /app/missing.sh: No such file or directory");
  EXPECT_EQ(r.verdict.predicted_exit, 127);
}

TEST_F(ExecTest, UnreadableScriptDirForDashIsPermissionDenied) {
  b.dir("srv", 0700).file("srv/run.sh", 10, 0644);
  cfg.user = "app";
  cfg.cmd = {"/bin/sh", "/srv/run.sh"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "program-file-missing");
  EXPECT_EQ(r.verdict.predicted_error, "/bin/sh: 0: cannot open /srv/run.sh: Permission denied");
}

TEST_F(ExecTest, ProgramFileThroughEntrypointHandover) {
  b.file("usr/local/bin/node", 100, 0755).elf(dyn_elf());
  b.file("usr/local/bin/docker-entrypoint.sh", 0, 0755).content("#!/bin/sh\nexec \"$@\"\n");
  cfg.workdir = "/app";
  cfg.entrypoint = {"docker-entrypoint.sh"};
  cfg.cmd = {"node", "index.js"};
  ExecResult r = run();
  EXPECT_EQ(r.verdict.reason, "program-file-missing");
}

// --- pure helpers ----------------------------------------------------------------------------

TEST(ParseShebangTest, CarriageReturnIsPartOfTheName) {
  Shebang s = parse_shebang("#!/bin/sh\r\n");
  EXPECT_EQ(s.status, Shebang::Status::kOk);
  EXPECT_EQ(s.interpreter, "/bin/sh\r");
  EXPECT_FALSE(s.arg);
}

TEST(ParseShebangTest, OneArgumentWithSpacesAndLeadingBlanks) {
  Shebang s = parse_shebang("#! \t/usr/bin/env  python3 -u  \nx");
  EXPECT_EQ(s.interpreter, "/usr/bin/env");
  EXPECT_EQ(s.arg, "python3 -u");
}

TEST(ParseShebangTest, NoInterpreterAndNotAScript) {
  EXPECT_EQ(parse_shebang("#!   \n").status, Shebang::Status::kNoInterpreter);
  EXPECT_EQ(parse_shebang("echo\n").status, Shebang::Status::kNotScript);
  EXPECT_EQ(parse_shebang("#!/bin/sh").interpreter, "/bin/sh");  // no newline, short file
}

TEST(ParseShebangTest, TruncatedInterpreterPathIsRefused) {
  std::string longpath = "#!/" + std::string(400, 'a');
  EXPECT_EQ(parse_shebang(longpath).status, Shebang::Status::kTruncated);
  std::string longarg = "#!/bin/sh " + std::string(400, 'a');
  Shebang s = parse_shebang(longarg);
  EXPECT_EQ(s.status, Shebang::Status::kOk);
  EXPECT_EQ(s.interpreter, "/bin/sh");
  EXPECT_EQ(s.arg->size(), 255u - 10u);
}

TEST(DockerExitTest, MapsLikeTheCli) {
  EXPECT_EQ(docker_start_error_exit("exec: \"x\": executable file not found in $PATH"), 127);
  EXPECT_EQ(docker_start_error_exit("exec: \"/x\": stat /x: no such file or directory"), 127);
  EXPECT_EQ(docker_start_error_exit("exec: \"/x\": permission denied"), 126);
  EXPECT_EQ(docker_start_error_exit("exec: \"/x\": stat /x: not a directory"), 125);
}

TEST(FindHandoverTest, LastExecLineSkippingRedirections) {
  auto h = find_handover("#!/bin/sh\nexec >&2\nexec su-exec app \"$@\"\n");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->line, 3u);
  EXPECT_TRUE(h->passes_args);
  EXPECT_EQ(h->switcher, "su-exec");
  EXPECT_EQ(h->switch_user, "app");
  EXPECT_FALSE(find_handover("#!/bin/sh\necho hi\n"));
}

}  // namespace
}  // namespace coroner::linux_
