#include "rules/rules.h"

#include <algorithm>
#include <tuple>

#include "base/text.h"
#include "linux/capabilities.h"

namespace coroner::rules {
namespace {

constexpr uint8_t kDockerPodman = kDocker | kPodman;

// The one list of rules (DESIGN.md "Rule ids"), written out here and nowhere else.
constexpr RuleInfo kRules[] = {
    // Start-up blockers.
    {"entrypoint-missing", Severity::kError, Family::kBlocker,
     "the image has no ENTRYPOINT and no CMD (or `ENTRYPOINT []` cleared the inherited CMD)",
     "add an exec-form CMD or ENTRYPOINT", true},
    {"exec-form-malformed", Severity::kError, Family::kBlocker,
     "a JSON-looking ENTRYPOINT/CMD that is not valid JSON became shell form",
     "use double quotes and commas: [\"/app/server\", \"--flag\"]", true},
    {"cmd-shell-form-after-entrypoint", Severity::kError, Family::kBlocker,
     "a shell-form CMD is appended to an exec-form ENTRYPOINT as \"/bin/sh\" \"-c\" \"...\"",
     "write CMD in exec form", true},
    {"exec-not-found", Severity::kError, Family::kBlocker,
     "the program to run does not exist in the image", "install it or fix the path", true},
    {"path-clobbered", Severity::kError, Family::kBlocker,
     "the config PATH lost the standard directories that hold the program",
     "ENV PATH=/extra:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", true},
    {"exec-dangling-symlink", Severity::kError, Family::kBlocker,
     "the program is a symlink to a missing file", "fix the symlink or install its target", true},
    {"exec-not-executable", Severity::kError, Family::kBlocker,
     "the program has no x permission bit", "chmod +x (or COPY --chmod=755)", true},
    {"exec-permission-denied", Severity::kError, Family::kBlocker,
     "the user may not execute the program or search a directory on its path",
     "fix the modes or the owner for the USER", true},
    {"shebang-crlf", Severity::kError, Family::kBlocker,
     "the script has Windows (CRLF) line endings: the interpreter name ends in \\r",
     "convert to LF (dos2unix, .gitattributes \"*.sh text eol=lf\")", true},
    {"shebang-interpreter-missing", Severity::kError, Family::kBlocker,
     "the interpreter named on the #! line does not exist", "install it or fix the #! line", true},
    {"shebang-missing", Severity::kError, Family::kBlocker,
     "the file is neither ELF nor a #! script (BOM, blank first line, HTML...)",
     "start the file with #!", true},
    {"shebang-too-long", Severity::kError, Family::kBlocker,
     "the #! interpreter path does not fit in the kernel's 255-byte buffer",
     "use a shorter interpreter path", true},
    {"env-interpreter-missing", Severity::kError, Family::kBlocker,
     "#!/usr/bin/env X, and X is not on PATH (or has arguments without env -S)",
     "install X or use env -S", true},
    {"elf-arch-mismatch", Severity::kError, Family::kBlocker,
     "the binary is built for another class, machine or ARM variant than the image platform",
     "build for the image platform", true},
    {"elf-interpreter-missing", Severity::kError, Family::kBlocker,
     "the binary's PT_INTERP loader is not in the image (glibc on musl, musl on Debian, i386)",
     "use the matching base image or link statically", true},
    {"library-missing", Severity::kError, Family::kBlocker,
     "a DT_NEEDED library (direct or transitive) is not in the image",
     "install the package that provides it", true},
    {"library-not-in-search-path", Severity::kError, Family::kBlocker,
     "a needed library is on disk but not where the loader looks",
     "run ldconfig, or set LD_LIBRARY_PATH / DT_RUNPATH", true},
    {"symbol-version-missing", Severity::kError, Family::kBlocker,
     "a GLIBC_/GLIBCXX_ version the program needs is not defined by the loaded library",
     "build against the image's library versions", true},
    {"elf-corrupt", Severity::kError, Family::kBlocker,
     "the file starts like ELF but cannot be loaded (truncated, bad headers)",
     "rebuild or re-download it", true},
    {"os-mismatch", Severity::kError, Family::kBlocker, "the image is not a linux image",
     "use a linux image", true},
    {"user-unknown", Severity::kError, Family::kBlocker,
     "USER names a user that /etc/passwd does not have", "create the user or use a numeric uid",
     true},
    {"group-unknown", Severity::kError, Family::kBlocker,
     "USER names a group that /etc/group does not have", "create the group or use a numeric gid",
     true},
    {"passwd-missing", Severity::kError, Family::kBlocker,
     "USER is a name but the image has no /etc/passwd", "use a numeric uid:gid", true},
    {"workdir-not-directory", Severity::kError, Family::kBlocker, "WORKDIR (or a parent) is a file",
     "remove the file or change WORKDIR", true},
    {"workdir-not-searchable", Severity::kError, Family::kBlocker,
     "the USER cannot search the WORKDIR", "chmod a+x the directory or chown it", true},
    {"shell-missing", Severity::kError, Family::kBlocker,
     "shell-form ENTRYPOINT/CMD needs /bin/sh, which the image does not have", "use the exec form",
     true},
    {"program-file-missing", Severity::kError, Family::kBlocker,
     "the script or jar that node/python/java/ruby/php/sh is told to run is not there",
     "COPY the file or fix WORKDIR", true},
    // Start-up hazards.
    {"privileged-port-nonroot", Severity::kWarning, Family::kHazard,
     "a non-root USER with EXPOSE < 1024: Docker allows the bind, Kubernetes/containerd do not",
     "listen on a port >= 1024, or grant CAP_NET_BIND_SERVICE", true, kKubernetes},
    {"file-capabilities", Severity::kWarning, Family::kHazard,
     "the program carries file capabilities: exec fails (EPERM) where they are not in the "
     "bounding set",
     "drop the file capabilities, or add the capability to the container", true},
    {"drops-privileges-nonroot", Severity::kWarning, Family::kHazard,
     "gosu/su-exec/setpriv is used while USER is already non-root",
     "remove the switch or run "
     "the entrypoint as root",
     true},
    {"refuses-root", Severity::kWarning, Family::kHazard,
     "a daemon that refuses to run as uid 0 (postgres, initdb, mysqld...) runs as root",
     "switch to the daemon's user (USER, gosu)", true},
    {"stale-pid-file", Severity::kWarning, Family::kHazard,
     "a pid file baked into the image (postmaster.pid, nginx.pid...)",
     "delete it in the same RUN step that created it", true},
    {"stale-lock-file", Severity::kWarning, Family::kHazard,
     "a lock file baked into the image under /tmp, /run or /var/lock",
     "delete it in the same RUN step that created it", true},
    {"config-unreadable-by-user", Severity::kWarning, Family::kHazard,
     "a config file nginx/postgres/redis reads is not readable by the USER", "chmod/chown it",
     true},
    {"dir-unwritable-by-user", Severity::kWarning, Family::kHazard,
     "a path nginx/postgres/redis must write (pid, temp, data, logs; read from their config) "
     "is not writable by the USER",
     "chown the directory to the USER", true},
    {"home-missing", Severity::kWarning, Family::kHazard,
     "HOME does not exist or is not writable by the USER",
     "create the home directory (useradd -m) or set HOME", true},
    {"healthcheck-missing-binary", Severity::kWarning, Family::kHazard,
     "HEALTHCHECK runs a program that is not in the image: the container turns unhealthy",
     "install the program (curl, wget) or change the HEALTHCHECK", true, kDockerPodman},
    {"kernel-too-old", Severity::kWarning, Family::kHazard,
     "glibc <= 2.35 (or a static program linked with it) needs a newer kernel than the host's "
     "(--kernel), or a library's ABI tag does (ld.so then skips it)",
     "run on a newer kernel, or use a base image whose glibc supports the host's kernel", true},
    {"cpu-isa-level", Severity::kWarning, Family::kHazard,
     "the program, a library or glibc itself is marked for an x86-64 level (v2/v3/v4) above the "
     "host CPU's (--cpu): glibc >= 2.33 refuses to start it, elsewhere SIGILL",
     "run on a CPU with that level, or use a build for the host's level", true},
    // Audit.
    {"secret-file-readable", Severity::kWarning, Family::kAudit,
     "a file holding secrets is readable by others (shadow, credentials, .env), or an ssh key / "
     "authorized_keys has modes sshd refuses",
     "chmod 600 (640 root:shadow for shadow)", true},
    {"private-key", Severity::kWarning, Family::kAudit,
     "a private key (PEM/OpenSSH header, key store) is in a layer, even if a later layer deletes "
     "it",
     "mount keys at run time; never COPY them", true},
    {"secret-token", Severity::kWarning, Family::kAudit,
     "a cloud or forge token (AWS, GCP, GitHub, GitLab, Slack, Stripe...) in a file, ENV or the "
     "build history, shown redacted",
     "revoke it; pass secrets at run time or with RUN --mount=type=secret", true},
    {"world-writable", Severity::kWarning, Family::kAudit,
     "a world-writable file, or a world-writable directory without the sticky bit", "chmod o-w",
     true},
    {"setuid-binary", Severity::kInfo, Family::kAudit, "a setuid/setgid binary",
     "chmod u-s,g-s, or run with no-new-privileges", true},
    {"orphan-owner", Severity::kInfo, Family::kAudit,
     "files owned by a uid/gid that /etc/passwd or /etc/group lacks; duplicate uids, users "
     "without their group or shell",
     "COPY --chown, or add the user/group", true},
    {"dangling-symlink", Severity::kInfo, Family::kAudit,
     "a symlink to nothing (links into /proc, /sys, /dev, /run, /tmp are not counted)",
     "install the target or remove the link", true},
    {"package-file-missing", Severity::kWarning, Family::kAudit,
     "a file of an installed package (dpkg, apk, rpm) is missing, with the layer that deleted it",
     "reinstall the package, or remove it with the package manager", true},
    {"package-file-modified", Severity::kWarning, Family::kAudit,
     "a file of an installed package differs from the package's checksum or is no longer a "
     "regular file (conffiles: conffile-modified)",
     "reinstall the package; ship changes as your own files", true},
    {"log-errors", Severity::kInfo, Family::kAudit,
     "log files baked into the image hold error records (segfault, panic, Traceback, FATAL, OOM)",
     "clear /var/log in the build step that wrote it", true},
    {"tmp-leftovers", Severity::kInfo, Family::kAudit,
     "files left in /tmp, /var/tmp, /run: pid and lock files, sockets, swap files, core dumps",
     "remove them in the RUN step that created them", true},
    {"config-missing", Severity::kWarning, Family::kAudit,
     "a conffile of an installed package is gone", "reinstall the package or restore the file",
     true},
    {"wasted-space", Severity::kInfo, Family::kAudit,
     "a layer ships bytes (over 1 MiB) that later layers delete or overwrite",
     "delete in the same RUN step, or use a multi-stage build", true},
    {"conffile-modified", Severity::kInfo, Family::kAudit,
     "a conffile of an installed package was changed (normal administration, listed apart)",
     "nothing if intended", true},
    {"config-drift", Severity::kWarning, Family::kAudit,
     "a key config file differs from the `coroner audit --against` baseline",
     "review the change; write a new baseline with --baseline", true},
    {"package-db-unread", Severity::kInfo, Family::kAudit,
     "a package database coroner could not read (damaged, or over the 64 MiB it captures): no "
     "inventory or verification for it",
     "", true},
    {"executable-inventory", Severity::kInfo, Family::kAudit,
     "the executables of the image by kind (ELF dynamic/static/static-pie, scripts by "
     "interpreter), by layer and by directory",
     "", true},
    {"executable-unowned", Severity::kInfo, Family::kAudit,
     "executables in system bin dirs (/usr/local/bin, /usr/bin...) that no package owns: "
     "installed by hand",
     "install from a package, or record the origin", true},
    {"ulimit-sysctl-settings", Severity::kInfo, Family::kAudit,
     "limits.conf/limits.d and sysctl.conf/sysctl.d settings the image carries, which a "
     "container does not apply by itself",
     "use docker run --ulimit / --sysctl", true},
};

// The capabilities in Docker's and containerd's default bounding set (moby
// oci/caps/defaults.go, containerd oci/spec.go), and Podman's (containers.conf default_capabilities
// since Podman 4: no NET_RAW, MKNOD, AUDIT_WRITE).
constexpr uint64_t bit(int c) { return uint64_t{1} << c; }
constexpr uint64_t kDockerCaps = bit(0) | bit(1) | bit(3) | bit(4) | bit(5) | bit(6) | bit(7) |
                                 bit(8) | bit(10) | bit(13) | bit(18) | bit(27) | bit(29) | bit(31);
constexpr uint64_t kPodmanCaps = kDockerCaps & ~(bit(13) | bit(27) | bit(29));

struct Ctx {
  const RuleInput& in;
  std::vector<std::string> created_by;
  RuleOutput& out;
};

std::string basename_of(std::string_view p) {
  size_t s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

Finding make(const Ctx& c, std::string_view rule, std::string path, std::optional<uint32_t> layer,
             std::string message, std::string fix) {
  const RuleInfo* info = find_rule(rule);
  Finding f;
  f.rule = std::string(rule);
  f.severity = info ? info->severity : Severity::kWarning;
  f.runtimes = info ? info->runtimes : uint8_t{kAllRuntimes};
  f.path = std::move(path);
  f.message = std::move(message);
  f.fix = fix.empty() && info ? std::string(info->fix) : std::move(fix);
  if (layer && *layer < c.in.info.layers.size()) {
    f.layer_index = layer;
    const image::LayerDesc& d = c.in.info.layers[*layer];
    f.layer_digest = !d.digest.empty() ? d.digest : d.diff_id;
    if (*layer < c.created_by.size()) f.created_by = c.created_by[*layer];
  } else if (layer) {
    f.layer_index = layer;  // a tree built without descriptors (tests, rootfs)
  }
  return f;
}

std::optional<uint32_t> layer_of(const Ctx& c, fs::NodeId id) {
  return c.in.root.tree().node(id).layer;
}

// Sets the verdict from a hazard that decides the start under the chosen runtime, raising the
// finding to an error.
void decide(Ctx& c, Finding& f, std::string predicted, int exit) {
  f.severity = Severity::kError;
  if (!c.out.verdict.starts) return;
  c.out.verdict.starts = false;
  c.out.verdict.reason = f.rule;
  c.out.verdict.predicted_error = std::move(predicted);
  c.out.verdict.predicted_exit = exit;
}

const linux_::ExecUser* final_user(const Ctx& c) {
  if (c.in.exec.final_user) return &*c.in.exec.final_user;
  if (c.in.exec.user) return &*c.in.exec.user;
  return nullptr;
}

// Blockers and the verdict come straight from the exec simulation.
void exec_findings(Ctx& c) {
  const linux_::ExecResult& e = c.in.exec;
  c.out.verdict.starts = e.verdict.starts;
  c.out.verdict.reason = e.verdict.reason;
  c.out.verdict.predicted_error = e.verdict.predicted_error;
  c.out.verdict.predicted_exit = e.verdict.predicted_exit;
  c.out.verdict.exec_chain = e.exec_chain;
  for (const linux_::ExecIssue& i : e.issues) {
    Finding f = make(c, i.rule, i.path, i.layer, i.message, i.fix);
    f.evidence = i.evidence;
    if (!i.blocks) f.severity = Severity::kWarning;
    c.out.findings.push_back(std::move(f));
  }
}

uint64_t program_file_caps(const Ctx& c, fs::NodeId id) {
  const scan::Facts* f = c.in.root.facts(id);
  if (!f) return 0;
  for (const auto& [k, v] : f->xattrs) {
    if (k == "security.capability") {
      // A malformed value: the kernel refuses the exec (EINVAL), not a capability question.
      return linux_::decode_vfs_cap(v).value_or(linux_::FileCaps{}).permitted;
    }
  }
  return 0;
}

void file_capabilities(Ctx& c) {
  const linux_::ExecResult& e = c.in.exec;
  for (size_t k = 0; k < e.program_nodes.size(); ++k) {
    uint64_t caps = program_file_caps(c, e.program_nodes[k]);
    if (!caps) continue;
    uint8_t fails = 0;
    if (caps & ~kDockerCaps) fails |= kDocker | kKubernetes;
    if (caps & ~kPodmanCaps) fails |= kPodman;
    const std::string& path = e.programs[k];
    std::string msg = path + " has file capabilities " + linux_::capability_list(caps) +
                      ": execve fails with EPERM (\"operation not permitted\") wherever one of "
                      "them is not in the container's bounding set";
    if (fails)
      msg +=
          " (" + linux_::capability_list(caps & ~kDockerCaps) + " is not in Docker's default set)";
    msg += "; with `drop: [ALL]` (a common Kubernetes securityContext) it always fails";
    Finding f = make(c, "file-capabilities", path, layer_of(c, e.program_nodes[k]), msg,
                     "remove them (setcap -r) and grant the capability to the container instead, "
                     "or --cap-add the missing ones");
    f.runtimes = fails ? fails : uint8_t{kKubernetes};
    if (fails & c.in.runtime && e.verdict.starts) {
      decide(c, f, "exec " + path + ": operation not permitted", 1);
    }
    c.out.findings.push_back(std::move(f));
  }
}

void privileged_port_nonroot(Ctx& c) {
  const linux_::ExecUser* u = final_user(c);
  if (!u || u->uid == 0) return;
  for (fs::NodeId id : c.in.exec.program_nodes) {
    if (program_file_caps(c, id) & bit(10)) return;  // cap_net_bind_service on the program
  }
  for (const std::string& p : c.in.info.config.exposed_ports) {
    linux_::GoInt port = linux_::go_atoi(p.substr(0, p.find('/')));
    if (!port.ok || port.value <= 0 || port.value >= 1024) continue;
    std::string n = std::to_string(port.value);
    Finding f =
        make(c, "privileged-port-nonroot", "", std::nullopt,
             "EXPOSE " + p + " with USER uid " + std::to_string(u->uid) + ": binding port " + n +
                 " works under Docker (which sets "
                 "net.ipv4.ip_unprivileged_port_start=0) but fails with EACCES under "
                 "Kubernetes/containerd defaults",
             "listen on a port >= 1024 (e.g. 8080) and map it, or give the binary "
             "cap_net_bind_service");
    f.evidence.push_back("USER " + c.in.exec.user_spec + " -> uid " + std::to_string(u->uid));
    if (c.in.runtime == kKubernetes && c.in.exec.verdict.starts) {
      decide(c, f, "bind to port " + n + ": permission denied", 1);
    }
    c.out.findings.push_back(std::move(f));
  }
}

bool is_switcher(std::string_view b) {
  return b == "gosu" || b == "su-exec" || b == "setpriv" || b == "s6-setuidgid" || b == "runuser";
}

void drops_privileges_nonroot(Ctx& c) {
  const linux_::ExecResult& e = c.in.exec;
  if (!e.user || e.user->uid == 0) return;
  for (size_t k = 0; k < e.programs.size(); ++k) {
    std::string b = basename_of(e.programs[k]);
    if (!is_switcher(b)) continue;
    Finding f = make(c, "drops-privileges-nonroot", e.programs[k], layer_of(c, e.program_nodes[k]),
                     b +
                         " switches users, which needs root, but the process already runs as "
                         "uid " +
                         std::to_string(e.user->uid) +
                         " (gosu then fails with `error: failed switching to ...: operation not "
                         "permitted` unless the script checks `id -u` first)",
                     "drop USER and let the entrypoint switch, or skip " + b + " when not root");
    c.out.findings.push_back(std::move(f));
  }
}

struct Refuser {
  std::string_view name, text;
};
constexpr Refuser kRefusers[] = {
    {"postgres", "\"root\" execution of the PostgreSQL server is not permitted."},
    {"postmaster", "\"root\" execution of the PostgreSQL server is not permitted."},
    {"initdb", "initdb: error: cannot be run as root"},
    {"pg_ctl", "pg_ctl: cannot be run as root"},
    {"mysqld",
     "[ERROR] Fatal error: Please read \"Security\" section of the manual to find out "
     "how to run mysqld as root!"},
    {"mariadbd",
     "[ERROR] Fatal error: Please read \"Security\" section of the manual to find "
     "out how to run mysqld as root!"},
    {"elasticsearch", "java.lang.RuntimeException: can not run elasticsearch as root"},
};

void refuses_root(Ctx& c) {
  const linux_::ExecUser* u = final_user(c);
  if (!u || u->uid != 0) return;
  const linux_::ExecResult& e = c.in.exec;
  for (size_t k = 0; k < e.programs.size(); ++k) {
    std::string b = basename_of(e.programs[k]);
    for (const Refuser& r : kRefusers) {
      if (b != r.name) continue;
      Finding f = make(c, "refuses-root", e.programs[k], layer_of(c, e.program_nodes[k]),
                       b + " refuses to run as uid 0, and nothing switches to another user",
                       "run it as its own user: USER postgres, or an entrypoint that uses gosu");
      if (e.verdict.starts) decide(c, f, std::string(r.text), 1);
      c.out.findings.push_back(std::move(f));
      return;
    }
  }
}

bool under(std::string_view p, std::string_view dir) { return starts_with(p, dir); }

void stale_files(Ctx& c) {
  const fs::Tree& t = c.in.root.tree();
  t.walk([&](fs::NodeId id) {
    const fs::Node& n = t.node(id);
    if (n.is_dir()) {
      std::string p = t.path_of(id);
      return !(p == "/proc" || p == "/sys" || p == "/usr/share" || p == "/usr/include");
    }
    if (!n.is_regular()) return true;
    std::string_view name = n.name;
    std::string p = t.path_of(id);
    bool volatile_dir = under(p, "/run/") || under(p, "/var/run/") || under(p, "/tmp/") ||
                        under(p, "/var/lock/") || under(p, "/var/tmp/");
    bool pid = name == "postmaster.pid" || name == "nginx.pid" || name == "httpd.pid" ||
               name == "redis.pid" || name == "mysqld.pid" || name == "supervisord.pid" ||
               (ends_with(name, ".pid") && volatile_dir);
    bool lock =
        !pid && volatile_dir &&
        (ends_with(name, ".lock") || ends_with(name, "-lock") || name == "LOCK" || name == "lock");
    if (!pid && !lock) return true;
    std::string rule = pid ? "stale-pid-file" : "stale-lock-file";
    std::string msg = p + " is baked into the image (layer " + std::to_string(n.layer) +
                      "): a daemon that finds it at start may think another instance runs" +
                      (name == "postmaster.pid"
                           ? " (postgres: `FATAL: lock file \"postmaster.pid\" already exists` "
                             "when the recorded pid is alive in the new container, often pid 1)"
                           : "");
    c.out.findings.push_back(
        make(c, rule, p, n.layer, msg, "delete " + p + " in the RUN step that started the daemon"));
    return true;
  });
}

bool may_write(const fs::Node& n, const linux_::ExecUser& u) {
  if (u.uid == 0) return true;
  uint32_t m = n.inode->mode;
  if (static_cast<int64_t>(n.inode->uid) == u.uid) return m & 0200;
  bool grp = static_cast<int64_t>(n.inode->gid) == u.gid ||
             std::find(u.sgids.begin(), u.sgids.end(), n.inode->gid) != u.sgids.end();
  return grp ? (m & 020) != 0 : (m & 02) != 0;
}

void home_missing(Ctx& c) {
  const linux_::ExecResult& e = c.in.exec;
  const linux_::ExecUser* u = final_user(c);
  if (!u || !e.verdict.starts) return;
  std::string home;
  for (const std::string& kv : e.env) {
    if (starts_with(kv, "HOME=")) home = kv.substr(5);
  }
  if (e.user && u != &*e.user && e.final_user) home = e.final_user->home;
  if (home.empty()) return;
  fs::ResolveResult r = fs::resolve(c.in.root.tree(), home);
  std::string who = "uid " + std::to_string(u->uid);
  if (!r.ok()) {
    c.out.findings.push_back(make(c, "home-missing", home, std::nullopt,
                                  "HOME=" + home + " of " + who +
                                      " does not exist: programs "
                                      "that write ~/.cache, ~/.npm or ~/.config fail",
                                  "create it (useradd -m, or RUN mkdir -p " + home + " && chown " +
                                      std::to_string(u->uid) + " " + home + ")"));
    return;
  }
  const fs::Node& n = c.in.root.tree().node(*r.node);
  if (u->uid == 0 || (n.is_dir() && may_write(n, *u))) return;
  c.out.findings.push_back(make(
      c, "home-missing", home, n.layer, "HOME=" + home + " is not writable by " + who,
      "chown " + std::to_string(u->uid) + " " + home + ", or set HOME to a writable directory"));
}

bool is_builtin(std::string_view w) {
  return w == "exit" || w == "test" || w == "[" || w == "echo" || w == "true" || w == "false" ||
         w == "cd" || w == "if" || w == "!";
}

void healthcheck_missing_binary(Ctx& c) {
  const std::vector<std::string>& hc = c.in.info.config.healthcheck;
  if (hc.size() < 2 || (hc[0] != "CMD" && hc[0] != "CMD-SHELL")) return;
  const fs::Tree& t = c.in.root.tree();
  std::string prog;
  if (hc[0] == "CMD") {
    prog = hc[1];
  } else {
    if (!fs::resolve(t, "/bin/sh").ok()) {
      c.out.findings.push_back(make(c, "healthcheck-missing-binary", "/bin/sh", std::nullopt,
                                    "HEALTHCHECK CMD-SHELL needs /bin/sh, which the image lacks",
                                    "use HEALTHCHECK CMD [\"/bin/prog\", ...] (exec form)"));
      return;
    }
    std::vector<std::string_view> words = split(trim(hc[1]), ' ');
    if (words.empty()) return;
    prog = std::string(words[0]);
  }
  if (prog.empty() || is_builtin(prog) || prog.find('$') != std::string::npos) return;
  std::string path_env(linux_::kDockerDefaultPath);
  for (const std::string& kv : c.in.exec.env) {
    if (starts_with(kv, "PATH=")) path_env = kv.substr(5);
  }
  if (prog.find('/') != std::string::npos) {
    if (fs::resolve(t, prog).ok()) return;
  } else {
    for (std::string_view d : split(path_env, ':')) {
      auto r = fs::resolve(t, std::string(d) + "/" + prog);
      if (r.ok() && !t.node(*r.node).is_dir()) return;
    }
  }
  Finding f = make(c, "healthcheck-missing-binary", prog, std::nullopt,
                   "HEALTHCHECK runs " + prog +
                       ", which is not in the image: the check fails "
                       "every time and Docker marks the container unhealthy (Kubernetes ignores "
                       "HEALTHCHECK)",
                   "install " + prog + " or use a check the image can run");
  f.evidence.push_back("HEALTHCHECK " + hc[0] + " " + hc[1]);
  c.out.findings.push_back(std::move(f));
}

// --- well-known servers: the files they read and the directories they write at start ---------

bool may_read(const fs::Node& n, const linux_::ExecUser& u) {
  if (u.uid == 0) return true;
  uint32_t m = n.inode->mode;
  if (static_cast<int64_t>(n.inode->uid) == u.uid) return m & 0400;
  bool grp = static_cast<int64_t>(n.inode->gid) == u.gid ||
             std::find(u.sgids.begin(), u.sgids.end(), n.inode->gid) != u.sgids.end();
  return grp ? (m & 040) != 0 : (m & 04) != 0;
}

fs::ResolveResult resolve_for(const Ctx& c, std::string_view path, const linux_::ExecUser& u) {
  fs::ResolveOptions o;
  const fs::Tree& t = c.in.root.tree();
  o.check_dir = [&t, u](fs::NodeId d) {
    const fs::Node& n = t.node(d);
    if (u.uid == 0) return true;
    uint32_t m = n.inode->mode;
    if (static_cast<int64_t>(n.inode->uid) == u.uid) return (m & 0100) != 0;
    bool grp = static_cast<int64_t>(n.inode->gid) == u.gid ||
               std::find(u.sgids.begin(), u.sgids.end(), n.inode->gid) != u.sgids.end();
    return grp ? (m & 010) != 0 : (m & 01) != 0;
  };
  return fs::resolve(t, path, o);
}

std::string parent_of(std::string_view p) {
  size_t s = p.rfind('/');
  if (s == std::string_view::npos || s == 0) return "/";
  return std::string(p.substr(0, s));
}

// `file` must be creatable or writable by `u`: an existing file writable, else its directory
// (or, for a missing directory, the nearest existing ancestor) writable and searchable.
std::optional<std::string> unwritable(const Ctx& c, const std::string& file,
                                      const linux_::ExecUser& u, bool is_dir) {
  const fs::Tree& t = c.in.root.tree();
  fs::ResolveResult r = resolve_for(c, file, u);
  if (r.error == fs::ResolveError::kAccess) return r.path + " is not searchable";
  if (r.ok()) {
    const fs::Node& n = t.node(*r.node);
    if (may_write(n, u)) return std::nullopt;
    return t.path_of(*r.node) + " is not writable";
  }
  if (is_dir && r.error == fs::ResolveError::kNoEnt) {
    // Servers create their own missing temp dirs: the parent must be writable.
    return unwritable(c, parent_of(file), u, true);
  }
  if (r.error != fs::ResolveError::kNoEnt) return std::nullopt;
  fs::ResolveResult d = resolve_for(c, parent_of(file), u);
  if (!d.ok())
    return d.error == fs::ResolveError::kAccess
               ? std::optional(d.path + " is not searchable")
               : std::optional(parent_of(file) + " does not exist");
  if (may_write(t.node(*d.node), u)) return std::nullopt;
  return t.path_of(*d.node) + " is not writable";
}

struct ServerNeeds {
  std::string server;
  std::vector<std::string> configs;
  // path, is_dir, the server's own fatal message if it cannot write there ("" = not fatal)
  std::vector<std::tuple<std::string, bool, std::string>> writes;
};

// nginx.conf directives as "name arg..." statements (comments dropped, split on ';', '{', '}').
std::vector<std::vector<std::string>> nginx_statements(std::string_view text) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> cur;
  std::string word;
  bool comment = false;
  auto flush_word = [&] {
    if (!word.empty()) cur.push_back(word);
    word.clear();
  };
  for (char ch : text) {
    if (comment) {
      comment = ch != '\n';
      continue;
    }
    if (ch == '#') {
      comment = true;
      flush_word();
    } else if (ch == ';' || ch == '{' || ch == '}') {
      flush_word();
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      flush_word();
    } else if (ch != '"' && ch != '\'') {
      word += ch;
    }
  }
  return out;
}

ServerNeeds nginx_needs(const Ctx& c, const std::vector<std::string>& argv) {
  ServerNeeds s{"nginx", {}, {}};
  std::string conf = "/etc/nginx/nginx.conf";
  for (size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-c") conf = argv[i + 1];
  }
  s.configs.push_back(conf);
  // Compiled-in defaults: nginx.org packages (/var/cache/nginx exists) vs Debian's.
  const fs::Tree& t = c.in.root.tree();
  bool org = fs::resolve(t, "/var/cache/nginx").ok();
  std::string pid = org ? "/var/run/nginx.pid" : "/run/nginx.pid";
  std::string temp = org ? "/var/cache/nginx/client_temp" : "/var/lib/nginx/body";
  std::vector<std::string> texts;
  if (auto text = c.in.root.content(conf)) texts.emplace_back(*text);
  if (auto d = fs::resolve(t, "/etc/nginx/conf.d"); d.ok()) {
    for (fs::NodeId k : t.children(*d.node)) {
      if (auto text = c.in.root.content(k)) texts.emplace_back(*text);
    }
  }
  for (const std::string& text : texts) {
    for (const auto& st : nginx_statements(text)) {
      if (st.size() < 2) continue;
      const std::string& name = st[0];
      const std::string& arg = st[1];
      if (name == "pid") pid = arg;
      if (name == "client_body_temp_path") temp = arg;
      bool log = name == "error_log" || name == "access_log";
      if (log && arg.front() == '/' && !starts_with(arg, "/dev/") && !starts_with(arg, "/proc/")) {
        s.writes.emplace_back(arg, false, "");
      }
    }
  }
  // ngx_init_cycle creates the temp paths before main() writes the pid file.
  s.writes.emplace_back(temp, true,
                        "nginx: [emerg] mkdir() \"" + temp + "\" failed (13: Permission denied)");
  if (pid != "off") {
    s.writes.emplace_back(pid, false,
                          "nginx: [emerg] open() \"" + pid + "\" failed (13: Permission denied)");
  }
  return s;
}

ServerNeeds postgres_needs(const Ctx& c) {
  ServerNeeds s{"postgres", {}, {}};
  std::string data = "/var/lib/postgresql/data";
  for (const std::string& kv : c.in.exec.env) {
    if (starts_with(kv, "PGDATA=")) data = kv.substr(7);
  }
  if (fs::resolve(c.in.root.tree(), data + "/postgresql.conf").ok()) {
    s.configs.push_back(data + "/postgresql.conf");
  }
  s.writes.emplace_back(data, true, "");
  s.writes.emplace_back("/var/run/postgresql/.s.PGSQL.5432.lock", false,
                        "FATAL:  could not create lock file "
                        "\"/var/run/postgresql/.s.PGSQL.5432.lock\": Permission denied");
  return s;
}

ServerNeeds redis_needs(const Ctx& c, const std::vector<std::string>& argv) {
  ServerNeeds s{"redis-server", {}, {}};
  std::string conf;
  if (argv.size() >= 2 && argv[1].front() != '-') conf = argv[1];
  if (conf.empty()) return s;  // no config file: defaults (dir ./, no pidfile)
  s.configs.push_back(conf);
  std::optional<std::string_view> text = c.in.root.content(conf);
  if (!text) return s;
  for (std::string_view line : split(*text, '\n')) {
    std::vector<std::string_view> w = split(trim(line), ' ');
    if (w.size() < 2) continue;
    std::string arg(trim(w[1]));
    if (arg.size() >= 2 && arg.front() == '"') arg = arg.substr(1, arg.size() - 2);
    if (w[0] == "dir" && !arg.empty() && arg.front() == '/') s.writes.emplace_back(arg, true, "");
    if (w[0] == "pidfile" && !arg.empty() && arg.front() == '/') {
      s.writes.emplace_back(arg, false, "");
    }
    if (w[0] == "logfile" && !arg.empty() && arg.front() == '/') {
      s.writes.emplace_back(arg, false, "Can't open the log file: Permission denied");
    }
  }
  return s;
}

void server_files(Ctx& c) {
  const linux_::ExecResult& e = c.in.exec;
  const linux_::ExecUser* u = final_user(c);
  if (!u || u->uid == 0 || !e.verdict.starts) return;
  for (size_t k = 0; k < e.programs.size(); ++k) {
    std::string b = basename_of(e.programs[k]);
    const std::vector<std::string>& argv = e.program_args[k];
    std::optional<ServerNeeds> needs;
    if (b == "nginx") needs = nginx_needs(c, argv);
    if (b == "postgres" || b == "postmaster") needs = postgres_needs(c);
    if (b == "redis-server") needs = redis_needs(c, argv);
    if (!needs) continue;
    std::string who = "uid " + std::to_string(u->uid);
    for (const std::string& conf : needs->configs) {
      fs::ResolveResult r = resolve_for(c, conf, *u);
      if (r.ok() && may_read(c.in.root.tree().node(*r.node), *u)) continue;
      if (!r.ok() && r.error != fs::ResolveError::kAccess) continue;
      std::optional<uint32_t> layer;
      if (auto any = fs::resolve(c.in.root.tree(), conf); any.ok()) layer = layer_of(c, *any.node);
      Finding f = make(c, "config-unreadable-by-user", conf, layer,
                       needs->server + " reads " + conf + ", which " + who + " cannot read" +
                           (r.ok() ? "" : " (" + r.path + " is not searchable)"),
                       "chmod a+r " + conf + " (or chown it to the USER)");
      if (c.out.verdict.starts)
        decide(c, f, needs->server + ": cannot open " + conf + ": Permission denied", 1);
      c.out.findings.push_back(std::move(f));
    }
    for (const auto& [path, is_dir, fatal] : needs->writes) {
      std::optional<std::string> why = unwritable(c, path, *u, is_dir);
      if (!why) continue;
      Finding f = make(c, "dir-unwritable-by-user", path, std::nullopt,
                       needs->server + " writes " + path + " at start, but " + *why + " for " + who,
                       "chown the directory to the USER in the Dockerfile (RUN chown -R " +
                           std::to_string(u->uid) + " " + (is_dir ? path : parent_of(path)) + ")");
      if (!fatal.empty() && c.out.verdict.starts) decide(c, f, fatal, 1);
      c.out.findings.push_back(std::move(f));
    }
  }
}

}  // namespace

std::span<const RuleInfo> all_rules() { return kRules; }

const RuleInfo* find_rule(std::string_view id) {
  for (const RuleInfo& r : kRules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

std::optional<Runtime> parse_runtime(std::string_view name) {
  if (name == "docker") return kDocker;
  if (name == "kubernetes" || name == "k8s") return kKubernetes;
  if (name == "podman") return kPodman;
  return std::nullopt;
}

std::string_view runtime_name(Runtime r) {
  switch (r) {
    case kDocker:
      return "docker";
    case kKubernetes:
      return "kubernetes";
    case kPodman:
      return "podman";
    default:
      return "all";
  }
}

std::vector<std::string> created_by_of_layers(const image::ImageInfo& info) {
  std::vector<std::string> out(info.layers.size());
  size_t layer = 0;
  for (const image::HistoryEntry& h : info.config.history) {
    if (h.empty_layer) continue;
    if (layer >= out.size()) break;
    out[layer++] = h.created_by;
  }
  return out;
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    uint32_t la = a.layer_index.value_or(UINT32_MAX), lb = b.layer_index.value_or(UINT32_MAX);
    return std::tie(a.severity, a.rule, a.path, la) < std::tie(b.severity, b.rule, b.path, lb);
  });
}

RuleOutput run_rules(const RuleInput& input) {
  RuleOutput out;
  Ctx c{input, created_by_of_layers(input.info), out};
  exec_findings(c);
  file_capabilities(c);
  check_host(input, c.created_by, out);  // host_rules.h: ld.so's checks, before main
  privileged_port_nonroot(c);
  drops_privileges_nonroot(c);
  refuses_root(c);
  stale_files(c);
  home_missing(c);
  healthcheck_missing_binary(c);
  server_files(c);
  sort_findings(out.findings);
  return out;
}

}  // namespace coroner::rules
