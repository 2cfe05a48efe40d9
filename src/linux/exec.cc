#include "linux/exec.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "base/text.h"
#include "linux/loader.h"

namespace coroner::linux_ {
namespace {

// How a failed execve is reported: by runc (the container's main process), by the shell of an
// entrypoint script (`exec prog` on line N), or by env(1) from a "#!/usr/bin/env X" line.
enum class ShellKind : uint8_t { kDash, kBash, kBusybox };

struct Launcher {
  enum Kind : uint8_t { kRunc, kShell, kEnv } kind = kRunc;
  std::string script;  // kShell: the script path ("/docker-entrypoint.sh", "/bin/sh" for -c)
  uint32_t line = 0;
  ShellKind shell = ShellKind::kDash;
  bool via_exec = true;     // kShell: `exec prog` (vs a plain command in `sh -c`)
  std::string env_program;  // kEnv: "/usr/bin/env" as written in the shebang
  std::string env_word;     // kEnv: the program name env execvp()s, as given to env
  bool busybox_env = false;
};

std::string basename_of(std::string_view p) {
  size_t s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

std::string join_path(std::string_view dir, std::string_view name) {
  if (!name.empty() && name.front() == '/') return std::string(name);
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

// Go's filepath.Join for the PATH search: Clean(dir + "/" + file).
std::string go_join(std::string_view dir, std::string_view file) {
  std::string joined = std::string(dir) + "/" + std::string(file);
  bool abs = !joined.empty() && joined.front() == '/';
  std::vector<std::string_view> parts;
  for (std::string_view part : split(joined, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
      continue;
    }
    if (part == ".." && abs) continue;
    parts.push_back(part);
  }
  std::string out = abs ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

std::string quote(std::string_view s) { return "\"" + escape(s) + "\""; }

// POSIX permission check as the kernel's generic_permission() does it, for `bit` 1 (x), 2 (w)
// or 4 (r). Root (CAP_DAC_OVERRIDE in Docker's default set) may read, write and search
// anything, and execute a file when any x bit is set.
bool may(const fs::Node& n, const ExecUser& u, uint32_t bit) {
  uint32_t mode = n.inode->mode;
  if (u.uid == 0) {
    if (bit != 1 || n.is_dir()) return true;
    return (mode & 0111) != 0;
  }
  if (static_cast<int64_t>(n.inode->uid) == u.uid) return ((mode >> 6) & bit) != 0;
  bool in_group = static_cast<int64_t>(n.inode->gid) == u.gid ||
                  std::find(u.sgids.begin(), u.sgids.end(), n.inode->gid) != u.sgids.end();
  if (in_group) return ((mode >> 3) & bit) != 0;
  return (mode & bit) != 0;
}

struct Arch {
  uint8_t ei_class = 0;
  uint16_t e_machine = 0;
  uint8_t ei_data = 1;
};

// GOARCH of the image config -> what its ELF files must say (gABI e_machine values).
std::optional<Arch> arch_of(std::string_view goarch) {
  if (goarch == "amd64") return Arch{2, 62, 1};
  if (goarch == "386") return Arch{1, 3, 1};
  if (goarch == "arm64") return Arch{2, 183, 1};
  if (goarch == "arm") return Arch{1, 40, 1};
  if (goarch == "ppc64le") return Arch{2, 21, 1};
  if (goarch == "ppc64") return Arch{2, 21, 2};
  if (goarch == "s390x") return Arch{2, 22, 2};
  if (goarch == "riscv64") return Arch{2, 243, 1};
  if (goarch == "mips64le") return Arch{2, 8, 1};
  return std::nullopt;
}

std::string machine_text(uint16_t m, uint8_t cls) {
  switch (m) {
    case 62:
      return "x86-64";
    case 3:
      return "i386";
    case 183:
      return "AArch64";
    case 40:
      return "ARM";
    case 21:
      return cls == 2 ? "PowerPC64" : "PowerPC";
    case 22:
      return "s390x";
    case 243:
      return cls == 2 ? "RISC-V 64" : "RISC-V 32";
    case 8:
      return "MIPS";
  }
  return "machine " + std::to_string(m);
}

std::string goarch_of(uint16_t m, uint8_t cls) {
  switch (m) {
    case 62:
      return "amd64";
    case 3:
      return "386";
    case 183:
      return "arm64";
    case 40:
      return "arm";
    case 21:
      return "ppc64le";
    case 22:
      return "s390x";
    case 243:
      return "riscv64";
  }
  return machine_text(m, cls);
}

std::string describe_elf(const elf::ElfInfo& e) {
  std::string s = "ELF " + std::string(e.ei_class == 2 ? "64" : "32") + "-bit " +
                  machine_text(e.e_machine, e.ei_class);
  if (e.is_static_pie()) return s + ", static-pie";
  if (e.is_static()) return s + ", statically linked";
  s += ", dynamically linked";
  if (e.interp) s += ", interpreter " + escape(*e.interp);
  return s;
}

// Loaders by platform, to say which libc an image has when PT_INTERP is missing.
struct KnownLoader {
  std::string_view path, what;
};
constexpr KnownLoader kKnownLoaders[] = {
    {"/lib64/ld-linux-x86-64.so.2", "glibc x86-64"},
    {"/lib/ld-musl-x86_64.so.1", "musl x86-64"},
    {"/lib/ld-linux-aarch64.so.1", "glibc AArch64"},
    {"/lib/ld-musl-aarch64.so.1", "musl AArch64"},
    {"/lib/ld-linux.so.2", "glibc i386"},
    {"/lib/ld-musl-i386.so.1", "musl i386"},
    {"/lib/ld-linux-armhf.so.3", "glibc ARM hard-float"},
    {"/lib/ld-musl-armhf.so.1", "musl ARM hard-float"},
    {"/lib/ld-linux.so.3", "glibc ARM soft-float"},
};

bool n_kind_is_binary(const fs::Node& n) {
  return n.inode->kind == scan::ContentKind::kBinary || n.inode->kind == scan::ContentKind::kElf;
}

bool is_shell_name(std::string_view b) {
  return b == "sh" || b == "bash" || b == "dash" || b == "ash" || b == "busybox" || b == "zsh";
}

bool is_python(std::string_view b) {
  if (b == "python" || b == "python2" || b == "python3") return true;
  if (!starts_with(b, "python3.") && !starts_with(b, "python2.")) return false;
  return std::all_of(b.begin() + 8, b.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Splits a shell word list the simple way (quotes removed, no expansion but "$@" kept).
std::vector<std::string> shell_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool have = false;
  char q = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (q) {
      if (c == q) {
        q = 0;
      } else {
        cur += c;
      }
      continue;
    }
    if (c == '"' || c == '\'') {
      q = c;
      have = true;
      continue;
    }
    if (c == '#' && !have) break;
    if (c == ' ' || c == '\t' || c == '\r') {
      if (have) out.push_back(cur);
      cur.clear();
      have = false;
      continue;
    }
    if (c == ';' || c == '&' || c == '|') {
      if (have) out.push_back(cur);
      break;
    }
    if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      have = true;
      continue;
    }
    cur += c;
    have = true;
  }
  if (have) out.push_back(cur);
  return out;
}

class Sim {
 public:
  Sim(const RootView& root, const image::ImageConfig& config, const ExecOptions& options,
      ExecResult& r)
      : root_(root), tree_(root.tree()), config_(config), options_(options), r_(r) {}

  void run();

 private:
  // The steps, in the order the daemon, runc and the kernel take them.
  bool check_os();
  bool compose_argv();
  bool setup_workdir();
  bool resolve_user_spec();
  void setup_env();
  void check_workdir_search();
  void start_argv();

  // argv[0] -> (path as runc execs it, node), or a blocker.
  struct Found {
    std::string exec_path;
    fs::NodeId node = fs::kRootNode;
  };
  std::optional<Found> runc_lookup(const std::string& name);
  bool runc_eaccess(const std::string& path, fs::NodeId node);
  std::optional<Found> shell_lookup(const std::string& name, const Launcher& how);
  // execve(exec_path) of `node` with `argv`; follows "#!" and ELF; returns false on a blocker.
  bool exec_node(const std::string& exec_path, fs::NodeId node, std::vector<std::string> argv,
                 int depth, const Launcher& how);
  bool exec_elf(const std::string& exec_path, fs::NodeId node, const std::string& argv0,
                const Launcher& how);
  bool exec_script(const std::string& exec_path, fs::NodeId node, std::vector<std::string> argv,
                   int depth, const Launcher& how);
  bool exec_env(const std::string& exec_path, fs::NodeId script, const std::string& env_path,
                const std::string& arg, std::vector<std::string> rest, const Launcher& how);
  void follow_handover(const std::string& script_path, fs::NodeId script,
                       const std::vector<std::string>& args, ShellKind shell);
  void follow_shell_c(const std::vector<std::string>& argv, ShellKind shell);
  void check_program_file(const std::vector<std::string>& argv, fs::NodeId program);

  // Reports.
  void block(ExecIssue issue, std::string predicted, std::optional<int> exit);
  void kernel_error(const Launcher& how, const std::string& exec_path, const std::string& err,
                    ExecIssue issue);
  void shell_not_found(const Launcher& how, const std::string& word, ExecIssue issue);
  ExecIssue issue(std::string rule, std::string path, std::optional<fs::NodeId> node,
                  std::string message, std::string fix);
  // The program as named, then where it resolved to when that differs (symlinks, PATH).
  void chain(const std::string& given, fs::NodeId node) {
    r_.exec_chain.push_back(given);
    std::string real = tree_.path_of(node);
    if (real != given) r_.exec_chain.push_back(real);
  }
  void step(std::string path, std::string what) {
    r_.steps.push_back({std::move(path), std::move(what)});
  }

  fs::ResolveResult resolve_as_user(std::string_view path, bool follow_last = true) const;
  std::optional<uint32_t> deleted_in(std::string_view path) const;
  ShellKind shell_kind(fs::NodeId shell_node, std::string_view written) const;
  bool is_busybox(fs::NodeId node) const;
  std::optional<std::string> env_value(std::string_view key) const;
  std::string platform_text() const;

  const RootView& root_;
  const fs::Tree& tree_;
  const image::ImageConfig& config_;
  const ExecOptions& options_;
  ExecResult& r_;
  ExecUser user_;
  std::optional<fs::NodeId> cwd_;  // nullopt: the WORKDIR does not exist yet (Docker makes it)
  std::string goarch_, variant_;
  int handovers_ = 0;
};

ExecIssue Sim::issue(std::string rule, std::string path, std::optional<fs::NodeId> node,
                     std::string message, std::string fix) {
  ExecIssue i;
  i.rule = std::move(rule);
  i.path = std::move(path);
  i.node = node;
  if (node) i.layer = tree_.node(*node).layer;
  i.message = std::move(message);
  i.fix = std::move(fix);
  for (const ExecStep& s : r_.steps) i.evidence.push_back(escape(s.path) + ": " + s.what);
  return i;
}

void Sim::block(ExecIssue issue, std::string predicted, std::optional<int> exit) {
  if (r_.verdict.starts) {
    r_.verdict.starts = false;
    r_.verdict.reason = issue.rule;
    r_.verdict.predicted_error = std::move(predicted);
    r_.verdict.predicted_exit = exit;
    issue.blocks = true;
    r_.issues.insert(r_.issues.begin(), std::move(issue));
    return;
  }
  issue.blocks = false;
  r_.issues.push_back(std::move(issue));
}

fs::ResolveResult Sim::resolve_as_user(std::string_view path, bool follow_last) const {
  fs::ResolveOptions o;
  o.follow_last = follow_last;
  ExecUser u = user_;
  o.check_dir = [this, u](fs::NodeId d) { return may(tree_.node(d), u, 1); };
  bool relative = path.empty() || path.front() != '/';
  if (relative && cwd_) {
    o.cwd = *cwd_;
    return fs::resolve(tree_, path, o);
  }
  if (relative) return fs::resolve(tree_, join_path(r_.workdir, path), o);
  return fs::resolve(tree_, path, o);
}

// The layer that deleted `path`, when it existed below (a later layer removed it).
std::optional<uint32_t> Sim::deleted_in(std::string_view path) const {
  std::string want =
      path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
  for (fs::NodeId id = 0; id < tree_.node_count(); ++id) {
    const fs::Node& n = tree_.node(id);
    if (n.present || n.name != basename_of(want)) continue;
    if (tree_.path_of(id) != want) continue;
    std::vector<fs::Version> h = tree_.history(id);
    if (!h.empty() && h.back().change == fs::Change::kDeleted) return h.back().layer;
  }
  return std::nullopt;
}

std::optional<std::string> Sim::env_value(std::string_view key) const {
  std::optional<std::string> v;
  for (const std::string& kv : r_.env) {
    size_t eq = kv.find('=');
    std::string_view k = std::string_view(kv).substr(0, eq);
    if (k == key) v = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return v;
}

std::string Sim::platform_text() const {
  return "linux/" + goarch_ + (variant_.empty() ? "" : "/" + variant_);
}

ShellKind Sim::shell_kind(fs::NodeId shell_node, std::string_view written) const {
  std::string real = basename_of(tree_.path_of(shell_node));
  if (real == "bash" || basename_of(written) == "bash") return ShellKind::kBash;
  if (real == "ash" || is_busybox(shell_node)) return ShellKind::kBusybox;
  return ShellKind::kDash;
}

// The file is BusyBox: named busybox after symlinks, or a hardlink of /bin/busybox (same
// inode), as images that install the applets with `busybox --install` (no -s) have them.
bool Sim::is_busybox(fs::NodeId node) const {
  if (basename_of(tree_.path_of(node)) == "busybox") return true;
  for (std::string_view p : {"/bin/busybox", "/usr/bin/busybox", "/sbin/busybox"}) {
    fs::ResolveResult res = fs::resolve(tree_, p);
    if (res.ok() && (*res.node == node || tree_.node(*res.node).inode == tree_.node(node).inode))
      return true;
  }
  return false;
}

// What env(1) prints when execvp(word) fails. BusyBox (BB_EXECVP_or_die): "env: can't execute
// 'WORD': ERR", the bytes of WORD as they are (a CR stays a CR). GNU coreutils (env.c, >= 8.30):
// "ARGV0: QUOTED: ERR" with WORD quoted by quote() (C locale: '...' with C escapes, so a CR is
// "\r"), then, on ENOENT when WORD holds a space, tab, newline, \v, \f or \r, a second line
// "ARGV0: use -[v]S to pass options in shebang lines". ARGV0 is env's argv[0], the path the
// "#!" line names.
std::string env_error(const Launcher& how, std::string_view word, std::string_view err,
                      bool enoent) {
  if (how.busybox_env) return "env: can't execute '" + std::string(word) + "': " + std::string(err);
  std::string text = how.env_program + ": '" + escape(word) + "': " + std::string(err);
  if (enoent && word.find_first_of(" \t\n\v\f\r") != std::string_view::npos)
    text += "\n" + how.env_program + ": use -[v]S to pass options in shebang lines";
  return text;
}

// The error an entrypoint script's shell prints when `word` is not found (exit 127):
// dash "SCRIPT: LINE: exec: WORD: not found", bash "SCRIPT: line LINE: exec: WORD: not found",
// busybox ash "SCRIPT: line LINE: WORD: not found".
void Sim::shell_not_found(const Launcher& how, const std::string& word, ExecIssue i) {
  std::string ln = std::to_string(how.line);
  std::string text;
  if (how.kind == Launcher::kEnv) {
    text = env_error(how, word, "No such file or directory", true);
  } else if (how.shell == ShellKind::kBash) {
    text = how.script + ": line " + ln + ": " + (how.via_exec ? "exec: " : "") + escape(word) +
           (how.via_exec ? ": not found" : ": command not found");
  } else if (how.shell == ShellKind::kBusybox) {
    text = how.script + ": line " + ln + ": " + escape(word) + ": not found";
  } else {
    text = how.script + ": " + ln + ": " + (how.via_exec ? "exec: " : "") + escape(word) +
           ": not found";
  }
  block(std::move(i), text, 127);
}

// The part of ld.so's "error while loading shared libraries: ..." line after the prefix (glibc
// _dl_signal_error: "OBJNAME: ERRSTRING"). Nothing found: the DT_NEEDED name and "cannot open
// shared object file: No such file or directory". A file found but unusable: its path and why
// (MissingLibrary::error is already "PATH: DETAIL", e.g. "/usr/lib/libx.so.1: invalid ELF
// header"); an error about the name itself (a DST that expands to nothing): "NAME: ERROR".
std::string loader_error_text(const MissingLibrary& m) {
  if (m.error.empty())
    return m.name + ": cannot open shared object file: No such file or directory";
  size_t colon = m.error.find(": ");
  if (colon != std::string::npos && m.error.find('/') < colon) return m.error;
  return m.name + ": " + m.error;
}

// musl's ld.so (ldso/dynlink.c, checked against Debian's musl 1.2.3): "Error loading shared
// library NAME: ERRNO TEXT (needed by OBJECT)", OBJECT being the path the kernel was given for
// the program (AT_EXECFN) or the library's path as musl opened it. A file found but unusable is
// ENOEXEC. musl goes on and then prints "Error relocating OBJECT: SYM: symbol not found" for each
// symbol the missing library would have provided (not predicted: coroner keeps no symbol
// tables), and exits 127.
std::string musl_loader_error_text(const MissingLibrary& m, const std::string& needed_by) {
  return "Error loading shared library " + m.name + ": " +
         (m.error.empty() ? "No such file or directory" : "Exec format error") + " (needed by " +
         needed_by + ")";
}

// A failed execve: runc 1.1 prints "exec PATH: ERR" and the container exits 1 (DESIGN.md);
// a shell prints its own line (dash maps ENOENT to "not found"; bash 5.2 "cannot execute:
// required file not found"); env(1) prints "env: 'X': ERR" and exits 126/127.
void Sim::kernel_error(const Launcher& how, const std::string& exec_path, const std::string& err,
                       ExecIssue i) {
  if (how.kind == Launcher::kRunc) {
    block(std::move(i), "exec " + exec_path + ": " + err, 1);
    return;
  }
  bool enoent = err == "no such file or directory";
  std::string cap = err;
  if (!cap.empty()) cap[0] = static_cast<char>(cap[0] - 'a' + 'A');
  if (how.kind == Launcher::kEnv) {
    const std::string& word = how.env_word.empty() ? exec_path : how.env_word;
    block(std::move(i), env_error(how, word, cap, enoent), enoent ? 127 : 126);
    return;
  }
  std::string ln = std::to_string(how.line);
  std::string text;
  if (how.shell == ShellKind::kBash) {
    text = how.script + ": line " + ln + ": " + exec_path +
           (enoent ? ": cannot execute: required file not found" : ": " + cap);
  } else if (how.shell == ShellKind::kBusybox) {
    text = how.script + ": line " + ln + ": " + exec_path + ": " + (enoent ? "not found" : cap);
  } else {
    text = how.script + ": " + ln + ": " + (how.via_exec ? "exec: " : "") + exec_path + ": " +
           (enoent ? "not found" : cap);
  }
  block(std::move(i), text, enoent ? 127 : 126);
}

void Sim::run() {
  if (!check_os()) return;
  if (!compose_argv()) return;
  setup_env();
  if (!setup_workdir()) return;
  if (!resolve_user_spec()) return;
  setup_env();  // again: HOME depends on the user
  check_workdir_search();
  start_argv();
}

// The daemon refuses images of another OS before creating anything.
bool Sim::check_os() {
  std::string os = config_.os;
  goarch_ = config_.architecture;
  variant_ = config_.variant;
  if (!options_.platform.empty()) {
    std::vector<std::string_view> p = split(options_.platform, '/');
    if (!p.empty()) os = std::string(p[0]);
    if (p.size() > 1) goarch_ = std::string(p[1]);
    if (p.size() > 2) variant_ = std::string(p[2]);
  }
  if (os.empty() || os == "linux") return true;
  ExecIssue i = issue("os-mismatch", "", std::nullopt,
                      "the image is for the \"" + escape(os) + "\" operating system, not linux",
                      "use an image built for linux (docker buildx --platform linux/...)");
  block(std::move(i),
        "image operating system \"" + escape(os) + "\" cannot be used on this platform", 125);
  return false;
}

// Entrypoint + Cmd merged as the daemon's mergeAndVerifyConfig does: --entrypoint replaces the
// image's ENTRYPOINT and drops its CMD (docker run reference: "Passing --entrypoint will clear
// out any default command set on the image"); trailing args replace CMD.
bool Sim::compose_argv() {
  const RunOverrides& o = options_.overrides;
  std::vector<std::string> entry = config_.entrypoint;
  std::vector<std::string> cmd = config_.cmd;
  if (o.entrypoint) {
    entry.clear();
    if (!o.entrypoint->empty()) entry.push_back(*o.entrypoint);
    cmd.clear();
  }
  if (o.args) cmd = *o.args;
  r_.argv = entry;
  r_.argv.insert(r_.argv.end(), cmd.begin(), cmd.end());
  if (!r_.argv.empty()) {
    step(
        "argv", "[" + [&] {
          std::string s;
          for (size_t i = 0; i < r_.argv.size(); ++i) s += (i ? ", " : "") + quote(r_.argv[i]);
          return s;
        }() + "]");
    return true;
  }
  std::string why = "the image has neither ENTRYPOINT nor CMD";
  for (const image::HistoryEntry& h : config_.history) {
    if (h.created_by.find("ENTRYPOINT []") != std::string::npos ||
        h.created_by.find("ENTRYPOINT [\"\"]") != std::string::npos) {
      why = "`ENTRYPOINT []` (\"" + escape(h.created_by, 120) +
            "\") cleared the entrypoint and, with it, the CMD inherited from the base image";
    }
  }
  if (o.entrypoint && o.entrypoint->empty())
    why = "--entrypoint \"\" cleared it and no args were given";
  ExecIssue i = issue("entrypoint-missing", "", std::nullopt, "no command to run: " + why,
                      "add CMD [\"/path/to/program\"] (exec form) after the ENTRYPOINT, or pass "
                      "a command to docker run");
  block(std::move(i), "No command specified", 125);
  return false;
}

void Sim::setup_env() {
  r_.env = config_.env;
  for (const std::string& kv : options_.overrides.env) {
    std::string key = kv.substr(0, kv.find('='));
    std::erase_if(r_.env, [&](const std::string& e) { return e.substr(0, e.find('=')) == key; });
    r_.env.push_back(kv);
  }
  // The daemon adds PATH when Env has none (container.CreateDaemonEnvironment); runc adds HOME
  // from the passwd entry of the uid, else "/".
  if (!env_value("PATH")) r_.env.push_back("PATH=" + std::string(kDockerDefaultPath));
  if (!env_value("HOME")) r_.env.push_back("HOME=" + user_.home);
  r_.path_env = *env_value("PATH");
}

// The daemon's SetupWorkingDirectory at create time: MkdirAll, so a missing WORKDIR (or a
// dangling symlink) is created; a file there fails with "Cannot mkdir: X is not a directory".
bool Sim::setup_workdir() {
  std::string wd = options_.overrides.workdir.value_or(config_.workdir);
  r_.workdir = wd.empty() ? "/" : wd;
  fs::ResolveResult res = fs::resolve(tree_, r_.workdir);
  if (res.ok() && tree_.node(*res.node).is_dir()) {
    cwd_ = res.node;
    step(r_.workdir,
         "WORKDIR, a directory" + (res.hops.empty() ? "" : " (" + fs::describe_hops(res) + ")"));
    return true;
  }
  if (res.ok() || res.error == fs::ResolveError::kNotDir) {
    std::optional<fs::NodeId> culprit = res.ok() ? res.node : fs::resolve(tree_, res.path).node;
    std::string text = res.ok() ? "Cannot mkdir: " + r_.workdir + " is not a directory"
                                : "mkdir " + res.path + ": not a directory";
    step(r_.workdir, "WORKDIR, but " + res.path + " is not a directory");
    ExecIssue i = issue("workdir-not-directory", res.path, culprit,
                        "WORKDIR " + escape(r_.workdir) + " is not a directory: " + res.path +
                            " is a file, so the daemon cannot create it",
                        "remove or rename the file " + res.path + ", or choose another WORKDIR");
    block(std::move(i), text, 125);
    return false;
  }
  step(r_.workdir, "WORKDIR does not exist; Docker creates it (owned by root, mode 0755)");
  return true;
}

// The daemon's getUser() (daemon/oci_linux.go) with moby's GetExecUserPath; refused -> 125.
bool Sim::resolve_user_spec() {
  r_.user_spec = options_.overrides.user.value_or(config_.user);
  std::optional<PasswdFile> passwd;
  std::optional<GroupFile> group;
  if (auto t = root_.content("/etc/passwd")) passwd = parse_passwd(*t);
  if (auto t = root_.content("/etc/group")) group = parse_group(*t);
  UserResolution u = resolve_user(r_.user_spec, passwd, group);
  if (!u.error) {
    user_ = u.user;
    r_.user = user_;
    r_.final_user = user_;
    std::string who = "uid " + std::to_string(user_.uid) + ", gid " + std::to_string(user_.gid);
    if (user_.name) who = *user_.name + " (" + who + ")";
    step("USER " + (r_.user_spec.empty() ? std::string("(root)") : escape(r_.user_spec)), who);
    return true;
  }
  std::string rule(rule_id(u.error->kind));
  std::string path =
      u.error->kind == UserErrorKind::kGroupUnknown || u.error->kind == UserErrorKind::kGroupMissing
          ? "/etc/group"
          : "/etc/passwd";
  std::optional<fs::NodeId> node = fs::resolve(tree_, path).node;
  std::string msg = "USER " + escape(r_.user_spec) + " cannot be resolved: " + u.error->message;
  std::string fix = "create the user in the image (useradd/adduser) or use a numeric uid:gid";
  if (r_.user_spec.find('#') != std::string::npos || r_.user_spec.find(' ') != std::string::npos) {
    msg += " (the USER line carries a comment or spaces: Docker keeps them as part of the name)";
    fix = "put the comment on its own line: USER takes the whole rest of the line as the name";
  }
  if (!passwd && u.error->kind == UserErrorKind::kPasswdMissing) {
    msg += " (the image has no /etc/passwd)";
    fix = "use a numeric USER (e.g. 65532:65532), or add /etc/passwd with that user";
  }
  step("USER " + escape(r_.user_spec), u.error->message);
  block(issue(rule, path, node, msg, fix), u.error->message, 125);
  return false;
}

// runc 1.1 chdirs into the cwd as root first (finalizeNamespace, then setuid), so a WORKDIR the
// user cannot search does not stop runc; it breaks every relative path of the process.
void Sim::check_workdir_search() {
  if (!cwd_ || user_.uid == 0) return;
  fs::ResolveResult res = resolve_as_user(r_.workdir);
  if (res.ok() && may(tree_.node(*res.node), user_, 1)) return;
  if (!res.ok() && res.error != fs::ResolveError::kAccess) return;
  if (res.ok()) res.path = tree_.path_of(*res.node);
  std::optional<fs::NodeId> culprit = fs::resolve(tree_, res.path).node;
  ExecIssue i = issue("workdir-not-searchable", res.path, culprit,
                      "uid " + std::to_string(user_.uid) + " cannot search " + res.path +
                          " on the way to WORKDIR " + r_.workdir +
                          ": relative paths (./program, the files node/python are told to run) "
                          "fail with permission denied",
                      "chmod a+x " + res.path + " (or chown it to the USER)");
  i.blocks = false;
  r_.issues.push_back(std::move(i));
}

void Sim::start_argv() {
  std::optional<Found> f = runc_lookup(r_.argv[0]);
  if (!f) return;
  chain(f->exec_path, f->node);
  Launcher how;
  if (!exec_node(f->exec_path, f->node, r_.argv, 0, how)) return;
  check_program_file(r_.argv, f->node);
  // Shell form: `/bin/sh -c "..."` runs the first word of the string.
  std::string b = basename_of(r_.argv[0]);
  if (is_shell_name(b) && r_.argv.size() >= 3 && r_.argv[1] == "-c") {
    follow_shell_c(r_.argv, shell_kind(f->node, r_.argv[0]));
  }
  // A shell-form CMD after an exec-form ENTRYPOINT becomes arguments of the entrypoint.
  const auto& cmd = config_.cmd;
  bool cmd_is_shell = cmd.size() == 3 && cmd[0] == "/bin/sh" && cmd[1] == "-c";
  bool entry_exec_form = !config_.entrypoint.empty() &&
                         !(config_.entrypoint.size() >= 2 && config_.entrypoint[1] == "-c");
  if (cmd_is_shell && entry_exec_form && !options_.overrides.args &&
      !options_.overrides.entrypoint && handovers_ == 0) {
    ExecIssue i =
        issue("cmd-shell-form-after-entrypoint", "", std::nullopt,
              "the shell-form CMD is appended to the exec-form ENTRYPOINT: " +
                  quote(config_.entrypoint[0]) + " receives \"/bin/sh\" \"-c\" " + quote(cmd[2]) +
                  " as its arguments",
              "write CMD in exec form: CMD [\"" + escape(cmd[2]) + "\"] split into words");
    block(std::move(i), "", std::nullopt);
  }
}

// runc 1.1 standard_init_linux.go: exec.LookPath(args[0]) after setuid, before the process
// starts. With a "/", Go's findExecutable stats the path: missing -> `exec: "X": stat X: no
// such file or directory`; a directory or no x bit -> `exec: "X": permission denied`.
// Without one, each PATH entry is tried and directories, non-executable files, dangling
// symlinks and unreadable dirs are skipped: `exec: "X": executable file not found in $PATH`.
std::optional<Sim::Found> Sim::runc_lookup(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    fs::ResolveResult res = resolve_as_user(name);
    if (!res.ok()) {
      std::string err = std::string(fs::error_text(res.error));
      std::string text = "exec: " + quote(name) + ": stat " + escape(name) + ": " + err;
      fs::ResolveResult lst = resolve_as_user(name, false);
      std::string rule = "exec-not-found";
      std::optional<fs::NodeId> culprit;
      std::string msg = escape(name) + " does not exist in the image";
      std::string fix =
          "check the path (COPY destination, WORKDIR), or build the program into the image";
      if (res.error == fs::ResolveError::kAccess) {
        rule = "exec-permission-denied";
        culprit = fs::resolve(tree_, res.path).node;
        msg = "uid " + std::to_string(user_.uid) + " cannot search " + res.path;
        fix = "chmod a+x " + res.path;
      } else if (lst.ok() && tree_.node(*lst.node).is_symlink()) {
        rule = "exec-dangling-symlink";
        culprit = lst.node;
        msg = escape(name) + " is a symlink to a path that does not exist (" +
              fs::describe_hops(res) + " → " + res.path + " missing)";
        fix = "point the symlink at the installed program, or install its target";
      } else if (res.error == fs::ResolveError::kNoEnt) {
        if (auto d = deleted_in(res.path)) {
          msg += " (" + res.path + " was deleted in layer " + std::to_string(*d) + ")";
        }
        if (r_.argv.size() >= 2 && r_.argv[1] == "-c" && is_shell_name(basename_of(name))) {
          rule = "shell-missing";
          msg = "the shell form of ENTRYPOINT/CMD runs " + escape(name) +
                " -c, but the image has no " + escape(name) + " (distroless or scratch?)";
          fix = "use the exec form: CMD [\"/path/to/program\", \"arg\"]";
        }
      }
      step(name, err + (res.hops.empty() ? "" : " (" + fs::describe_hops(res) + ")"));
      ExecIssue i = issue(rule, res.path, culprit, msg, fix);
      if (!culprit && rule == "exec-not-found") {
        if (auto d = deleted_in(res.path)) i.layer = *d;
      }
      block(std::move(i), text, docker_start_error_exit(text));
      return std::nullopt;
    }
    const fs::Node& n = tree_.node(*res.node);
    if (n.is_dir() || (n.inode->mode & 0111) == 0) {
      std::string text = "exec: " + quote(name) + ": permission denied";
      std::string rule = n.is_dir() ? "exec-permission-denied" : "exec-not-executable";
      std::string what = n.is_dir() ? "a directory" : "a file without any x bit (mode " + [&] {
        char b[8];
        snprintf(b, sizeof b, "%04o", n.inode->mode);
        return std::string(b);
      }() + ")";
      step(name, what);
      ExecIssue i = issue(rule, res.path, res.node, escape(name) + " is " + what,
                          n.is_dir() ? "point ENTRYPOINT/CMD at the program inside the directory"
                                     : "RUN chmod +x " + res.path + " (or COPY --chmod=755)");
      block(std::move(i), text, docker_start_error_exit(text));
      return std::nullopt;
    }
    step(name, "found" + (res.hops.empty() ? "" : " (" + fs::describe_hops(res) + ")"));
    if (!runc_eaccess(name, *res.node)) return std::nullopt;
    return Found{name, *res.node};
  }
  // PATH lookup.
  std::vector<std::string> skipped;
  std::optional<fs::NodeId> dangling, not_exec;
  std::string dangling_path, not_exec_path;
  for (std::string_view dir : split(r_.path_env, ':')) {
    std::string d = dir.empty() ? "." : std::string(dir);
    std::string cand = go_join(d, name);
    fs::ResolveResult res = resolve_as_user(cand);
    if (!res.ok()) {
      fs::ResolveResult lst = resolve_as_user(cand, false);
      if (lst.ok() && tree_.node(*lst.node).is_symlink()) {
        skipped.push_back(cand + ": dangling symlink (" + fs::describe_hops(res) + ")");
        if (!dangling) dangling = lst.node, dangling_path = cand;
      } else if (res.error == fs::ResolveError::kAccess) {
        skipped.push_back(cand + ": cannot search " + res.path);
      }
      continue;
    }
    const fs::Node& n = tree_.node(*res.node);
    if (n.is_dir()) {
      skipped.push_back(cand + ": a directory");
      continue;
    }
    if ((n.inode->mode & 0111) == 0) {
      skipped.push_back(cand + ": not executable");
      if (!not_exec) not_exec = res.node, not_exec_path = cand;
      continue;
    }
    if (cand.front() != '/') {
      // Go >= 1.19: a match relative to the current directory is refused (exec.ErrDot).
      std::string text =
          "exec: " + quote(name) + ": cannot run executable found relative to current directory";
      step(name, "found as " + cand + " through a relative PATH entry");
      block(issue("exec-not-found", cand, res.node,
                  "PATH has a relative entry and " + escape(name) + " was only found through it",
                  "use absolute directories in PATH"),
            text, docker_start_error_exit(text));
      return std::nullopt;
    }
    step(name, "found in PATH as " + cand +
                   (res.hops.empty() ? "" : " (" + fs::describe_hops(res) + ")"));
    if (!runc_eaccess(cand, *res.node)) return std::nullopt;
    return Found{cand, *res.node};
  }
  std::string text = "exec: " + quote(name) + ": executable file not found in $PATH";
  std::string rule = "exec-not-found";
  std::optional<fs::NodeId> culprit;
  std::string path,
      msg = escape(name) + " is in none of the PATH directories (" + escape(r_.path_env) + ")";
  std::string fix = "install " + escape(name) + ", or use its absolute path";
  if (not_exec) {
    // Docker names no file: to the user this is "not found", so the rule is exec-not-found,
    // with the skipped file as the culprit.
    culprit = not_exec, path = not_exec_path;
    msg = escape(name) + " is in none of the PATH directories as an executable: " + not_exec_path +
          " exists but has no x bit, so the PATH search skips it";
    fix = "RUN chmod +x " + not_exec_path;
  } else if (dangling) {
    rule = "exec-dangling-symlink", culprit = dangling, path = dangling_path;
    msg = dangling_path + " is a dangling symlink, so the PATH search skips it";
    fix = "point the symlink at the installed program, or install its target";
  } else {
    // PATH clobbered: the name exists in a standard dir that PATH no longer lists.
    for (std::string_view dir : split(kDockerDefaultPath, ':')) {
      std::string cand = go_join(dir, name);
      fs::ResolveResult res = fs::resolve(tree_, cand);
      if (!res.ok() || tree_.node(*res.node).is_dir()) continue;
      rule = "path-clobbered", path = cand, culprit = res.node;
      msg = escape(name) + " is at " + cand + " but PATH=" + escape(r_.path_env) +
            " does not list " + std::string(dir);
      if (r_.path_env.find('$') != std::string::npos) {
        msg += " (PATH holds a literal \"$\": an ENV that escaped or quoted $PATH)";
      } else if (r_.path_env.empty() || r_.path_env.back() == ':' || r_.path_env.front() == ':') {
        msg +=
            " (an empty entry: `ENV PATH /x:$PATH` where PATH was not set yet, as in a "
            "scratch-based stage)";
      }
      fix =
          "ENV PATH=/your/dir:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "
          "(a literal $PATH or ${PATH} in a later ENV only works if the earlier PATH was set)";
      break;
    }
  }
  step(name,
       "not found in PATH " + escape(r_.path_env) + (skipped.empty() ? "" : " (skipped: " + [&] {
         std::string s;
         for (size_t i = 0; i < skipped.size(); ++i) s += (i ? "; " : "") + skipped[i];
         return s;
       }() + ")"));
  ExecIssue i = issue(rule, path, culprit, msg, fix);
  if (rule == "path-clobbered") i.node.reset(), i.layer.reset();
  block(std::move(i), text, docker_start_error_exit(text));
  return std::nullopt;
}

// runc 1.1.4+ (libcontainer/standard_init_linux.go) checks the path LookPath returned with
// faccessat(X_OK, AT_EACCESS) as the container's user, before the process starts: Go < 1.20's
// LookPath looks only at the mode bits, so a file executable only by its owner or group passes
// it and fails here with "exec PATH: permission denied", a create-time error (exit 126), not a
// failed execve inside the started container (exit 1).
bool Sim::runc_eaccess(const std::string& path, fs::NodeId node) {
  const fs::Node& n = tree_.node(node);
  if (may(n, user_, 1)) return true;
  std::string what = "not executable for uid " + std::to_string(user_.uid) + " (mode " +
                     [&] {
                       char b[8];
                       snprintf(b, sizeof b, "%04o", n.inode->mode & 07777);
                       return std::string(b);
                     }() +
                     ", owner " + std::to_string(n.inode->uid) + ":" +
                     std::to_string(n.inode->gid) + ")";
  std::string real = tree_.path_of(node);
  chain(path, node);
  step(real, what);
  ExecIssue i = issue("exec-permission-denied", real, node, real + " is " + what,
                      "chmod a+x " + real + " (or chown it to the USER)");
  std::string text = "exec " + path + ": permission denied";
  block(std::move(i), text, docker_start_error_exit(text));
  return false;
}

// A shell's command lookup (execvp-like): like LookPath, but errors are the shell's.
std::optional<Sim::Found> Sim::shell_lookup(const std::string& name, const Launcher& how) {
  if (name.find('/') != std::string::npos) {
    fs::ResolveResult res = resolve_as_user(name);
    if (res.ok()) return Found{name, *res.node};
    step(name, std::string(fs::error_text(res.error)));
    fs::ResolveResult lst = resolve_as_user(name, false);
    bool dangling = lst.ok() && tree_.node(*lst.node).is_symlink();
    ExecIssue i = issue(dangling ? "exec-dangling-symlink" : "exec-not-found", res.path,
                        dangling ? lst.node : std::nullopt,
                        escape(name) + (dangling ? " is a dangling symlink" : " does not exist"),
                        "install the program or fix the path in " + how.script);
    shell_not_found(how, name, std::move(i));
    return std::nullopt;
  }
  for (std::string_view dir : split(r_.path_env, ':')) {
    std::string cand = go_join(dir.empty() ? "." : dir, name);
    fs::ResolveResult res = resolve_as_user(cand);
    if (!res.ok()) continue;
    const fs::Node& n = tree_.node(*res.node);
    if (n.is_dir() || !may(n, user_, 1)) continue;
    step(name, "found in PATH as " + cand);
    return Found{cand, *res.node};
  }
  step(name, "not found in PATH " + escape(r_.path_env));
  ExecIssue i =
      issue("exec-not-found", "", std::nullopt,
            escape(name) + " is in none of the PATH directories (" + escape(r_.path_env) + ")",
            "install " + escape(name) + " in the image, or fix " + how.script);
  shell_not_found(how, name, std::move(i));
  return std::nullopt;
}

bool Sim::exec_node(const std::string& exec_path, fs::NodeId node, std::vector<std::string> argv,
                    int depth, const Launcher& how) {
  const fs::Node& n = tree_.node(node);
  std::string real = tree_.path_of(node);
  if (std::find(r_.program_nodes.begin(), r_.program_nodes.end(), node) == r_.program_nodes.end()) {
    r_.programs.push_back(real);
    r_.program_nodes.push_back(node);
    r_.program_args.push_back(argv);
  }
  // execve: a regular file the user may execute (EACCES otherwise, also for directories).
  if (!n.is_regular() || !may(n, user_, 1)) {
    std::string what = !n.is_regular() ? "not a regular file"
                                       : "not executable for uid " + std::to_string(user_.uid);
    step(real, what);
    ExecIssue i =
        issue(n.is_regular() && (n.inode->mode & 0111) == 0 ? "exec-not-executable"
                                                            : "exec-permission-denied",
              real, node, real + " is " + what, "chmod a+x " + real + " (or chown it to the USER)");
    kernel_error(how, exec_path, "permission denied", std::move(i));
    return false;
  }
  scan::ContentKind kind = n.inode->kind;
  if (kind == scan::ContentKind::kElf) return exec_elf(exec_path, node, argv[0], how);
  return exec_script(exec_path, node, std::move(argv), depth, how);
}

bool Sim::exec_elf(const std::string& exec_path, fs::NodeId node, const std::string& argv0,
                   const Launcher& how) {
  std::string real = tree_.path_of(node);
  const scan::Facts* f = root_.facts(node);
  if (f && !f->elf_error.empty()) {
    step(real, "ELF, but corrupt: " + escape(f->elf_error));
    ExecIssue i =
        issue("elf-corrupt", real, node,
              real + " starts like an ELF file but cannot be loaded: " + escape(f->elf_error),
              "rebuild or re-download the file (a truncated COPY or download?)");
    kernel_error(how, exec_path, "exec format error", std::move(i));
    return false;
  }
  if (!f || !f->elf) {
    step(real, "ELF (not parsed by the scan: assumed to start)");
    return true;
  }
  const elf::ElfInfo& e = *f->elf;
  step(real, describe_elf(e));
  std::optional<Arch> want = arch_of(goarch_);
  // x86-64 kernels run i386 binaries (CONFIG_IA32_EMULATION, on in every distribution kernel).
  bool compat = goarch_ == "amd64" && e.ei_class == 1 && e.e_machine == 3;
  if (want && !compat &&
      (want->ei_class != e.ei_class || want->e_machine != e.e_machine ||
       want->ei_data != e.ei_data)) {
    ExecIssue i = issue("elf-arch-mismatch", real, node,
                        real + " is built for " + goarch_of(e.e_machine, e.ei_class) + " (" +
                            describe_elf(e) + ") but the image platform is " + platform_text(),
                        "build the program for " + platform_text() +
                            " (docker buildx --platform, or the matching cross compiler)");
    i.evidence.push_back("the host would need binfmt_misc/qemu for " +
                         goarch_of(e.e_machine, e.ei_class) + " to run it");
    kernel_error(how, exec_path, "exec format error", std::move(i));
    return false;
  }
  // ARM: the variant decides the float ABI (v5 = armel, soft-float; v6/v7 = hard-float,
  // ld-linux-armhf.so.3). A hard-float binary (EF_ARM_ABI_FLOAT_HARD, 0x400) on an armel
  // platform uses VFP registers the ABI does not have.
  if (goarch_ == "arm" && e.e_machine == 40 && variant_ == "v5" && (e.e_flags & 0x400)) {
    ExecIssue i = issue("elf-arch-mismatch", real, node,
                        real + " is an ARM hard-float (armhf) binary but the image platform is " +
                            platform_text() + " (armel, soft-float)",
                        "build for linux/arm/v5 (arm-linux-gnueabi) or use a linux/arm/v7 image");
    kernel_error(how, exec_path, "exec format error", std::move(i));
    return false;
  }
  if (!e.interp) return true;  // static or static-pie: no loader involved
  // PT_INTERP: opened by the kernel (open_exec) with the process's credentials.
  fs::ResolveResult res = resolve_as_user(*e.interp);
  if (!res.ok()) {
    std::vector<std::string> present;
    for (const KnownLoader& k : kKnownLoaders) {
      if (fs::resolve(tree_, k.path).ok())
        present.push_back(std::string(k.path) + " (" + std::string(k.what) + ")");
    }
    std::string msg =
        "the program interpreter " + escape(*e.interp) + " of " + real + " is not in the image";
    if (!present.empty()) {
      msg += "; the image has ";
      for (size_t k = 0; k < present.size(); ++k) msg += (k ? ", " : "") + present[k];
    } else {
      msg += "; the image has no dynamic loader at all (scratch, distroless static or busybox)";
    }
    step(*e.interp, std::string(fs::error_text(res.error)) +
                        (res.hops.empty() ? "" : " (" + fs::describe_hops(res) + ")"));
    ExecIssue i = issue("elf-interpreter-missing", real, node, msg,
                        "build on the same libc as the base image (e.g. musl for Alpine), or "
                        "link statically (CGO_ENABLED=0, -static)");
    kernel_error(how, exec_path, std::string(fs::error_text(res.error)), std::move(i));
    return false;
  }
  const fs::Node& in = tree_.node(*res.node);
  r_.exec_chain.push_back(tree_.path_of(*res.node));
  const scan::Facts* inf = root_.facts(*res.node);
  if (inf && inf->elf && (inf->elf->e_machine != e.e_machine || inf->elf->ei_class != e.ei_class)) {
    step(*e.interp, describe_elf(*inf->elf));
    ExecIssue i =
        issue("elf-interpreter-missing", real, *res.node,
              "the program interpreter " + escape(*e.interp) + " is " + describe_elf(*inf->elf) +
                  ", not " + machine_text(e.e_machine, e.ei_class),
              "install the loader for " + machine_text(e.e_machine, e.ei_class));
    kernel_error(how, exec_path, "accessing a corrupted shared library", std::move(i));
    return false;
  }
  if (!in.is_regular()) {
    ExecIssue i = issue("elf-interpreter-missing", real, *res.node,
                        escape(*e.interp) + " is not a regular file", "reinstall the libc");
    kernel_error(how, exec_path, "permission denied", std::move(i));
    return false;
  }
  step(*e.interp, "program interpreter found");
  LoaderEnv lenv;
  lenv.ld_library_path = env_value("LD_LIBRARY_PATH").value_or("");
  lenv.platform = platform_text();
  lenv.cwd = r_.workdir;  // relative DT_NEEDED paths and empty LD_LIBRARY_PATH entries
  lenv.x86_64_level = options_.x86_64_level;
  LoadResult lr = simulate_load(root_, node, lenv);
  for (const std::string& note : lr.notes) step("ld.so", note);
  if (!lr.missing.empty()) {
    const MissingLibrary& m = lr.missing.front();
    bool elsewhere = m.found_elsewhere.has_value();
    std::string searched;
    for (size_t k = 0; k < m.searched.size(); ++k) searched += (k ? ":" : "") + m.searched[k];
    step(m.name, "needed by " + m.needed_by + ", not found (searched " + searched + ")");
    std::string msg = m.name + " (needed by " + m.needed_by + ") is " +
                      (elsewhere ? "on disk at " + *m.found_elsewhere +
                                       " but not where the loader looks: " + m.found_elsewhere_why
                                 : "not in the image");
    std::optional<fs::NodeId> culprit = node;
    ExecIssue i = issue(elsewhere ? "library-not-in-search-path" : "library-missing", m.needed_by,
                        culprit, msg,
                        elsewhere ? "run ldconfig after installing it (RUN ldconfig), or set "
                                    "LD_LIBRARY_PATH / DT_RUNPATH"
                                  : "install the package that provides " + m.name +
                                        " in the final stage (COPY --from only copies files)");
    if (auto nb = fs::resolve(tree_, m.needed_by); nb.ok()) {
      i.node = nb.node;
      i.layer = tree_.node(*nb.node).layer;
    }
    block(std::move(i),
          lr.libc == Libc::kMusl
              ? musl_loader_error_text(m, m.needed_by == real ? exec_path : m.needed_by)
              : argv0 + ": error while loading shared libraries: " + loader_error_text(m),
          127);
    return false;
  }
  if (!lr.version_errors.empty()) {
    // glibc dl-version.c: "version `%s' not found (required by %s)", one line per missing
    // version, each prefixed with the program's argv[0] and the provider's path (rtld's
    // _dl_signal_error output "%s: %s: %s").
    std::string text;
    for (const VersionError& v : lr.version_errors) {
      std::string by = v.needed_by == real || v.needed_by == exec_path ? argv0 : v.needed_by;
      if (!text.empty()) text += "\n";
      text += argv0 + ": " + v.provider + ": version `" + v.version + "' not found (required by " +
              by + ")";
    }
    const VersionError& v0 = lr.version_errors.front();
    step(v0.provider, "does not define " + v0.version);
    std::optional<fs::NodeId> culprit = node;
    ExecIssue i =
        issue("symbol-version-missing", v0.needed_by, culprit,
              v0.needed_by + " needs " + v0.version + " from " + v0.file + " but " + v0.provider +
                  " does not define it (the program was built against "
                  "a newer library than the image has)",
              "build on the same (or an older) distribution release than the runtime "
              "image, or upgrade the base image");
    block(std::move(i), text, 1);
    return false;
  }
  for (size_t k = 1; k < lr.loaded.size(); ++k) r_.exec_chain.push_back(lr.loaded[k].path);
  return true;
}

bool Sim::exec_script(const std::string& exec_path, fs::NodeId node, std::vector<std::string> argv,
                      int depth, const Launcher& how) {
  std::string real = tree_.path_of(node);
  const scan::Facts* f = root_.facts(node);
  std::optional<std::string_view> content = root_.content(node);
  std::string head;
  if (content) {
    head = std::string(content->substr(0, kBinprmBufSize));
  } else if (f && !f->first_line.empty()) {
    head = f->first_line;
    if (head.size() < kBinprmBufSize - 1) head += '\n';
  }
  Shebang sb = parse_shebang(head);
  if (sb.status != Shebang::Status::kOk) {
    std::string rule =
        sb.status == Shebang::Status::kTruncated ? "shebang-too-long" : "shebang-missing";
    std::string msg;
    std::string fix = "start the file with a \"#!\" line (#!/bin/sh) at byte 0";
    if (starts_with(head, "\xEF\xBB\xBF")) {
      msg = real + " starts with a UTF-8 byte order mark before \"#!\"";
      fix = "save the file as UTF-8 without BOM";
    } else if (!head.empty() && (head[0] == '\n' || head[0] == '\r' || head[0] == ' ') &&
               head.find("#!") != std::string::npos) {
      msg = real + " has \"#!\" but not on the first byte of line 1 (a blank line or spaces first)";
      fix = "remove what precedes \"#!\"";
    } else if (head.find("<html") != std::string::npos ||
               head.find("<!DOCTYPE") != std::string::npos ||
               head.find("<!doctype") != std::string::npos) {
      msg = real + " is an HTML page (a download that got an error page instead of the program)";
      fix = "download with curl -fL (fail on HTTP errors) and check the checksum";
    } else if (sb.status == Shebang::Status::kTruncated) {
      msg = real + ": the \"#!\" interpreter path does not end within the kernel's " +
            std::to_string(kBinprmBufSize - 1) + " bytes";
      fix = "use a shorter interpreter path (e.g. #!/usr/bin/env python3)";
    } else if (sb.status == Shebang::Status::kNoInterpreter) {
      msg = real + ": the \"#!\" line names no interpreter";
    } else if (n_kind_is_binary(tree_.node(node))) {
      msg = real + " is neither ELF nor a \"#!\" script (unknown binary format)";
      fix = "check that the file is the program you meant (file(1))";
    } else {
      msg = real +
            " is a text file without \"#!\" on line 1; the kernel cannot run it (a shell "
            "would, runc does not)";
    }
    step(real, sb.status == Shebang::Status::kNotScript ? "no #! line" : "bad #! line");
    if (how.kind == Launcher::kShell && sb.status == Shebang::Status::kNotScript &&
        !n_kind_is_binary(tree_.node(node))) {
      // dash and bash run a text file without "#!" as a shell script on ENOEXEC.
      step(real, "run by the shell as a shell script (ENOEXEC fallback)");
      return true;
    }
    kernel_error(how, exec_path, "exec format error", issue(rule, real, node, msg, fix));
    return false;
  }
  step(real,
       "#!" + escape(head.substr(2, head.find('\n') == std::string::npos ? std::string::npos
                                                                         : head.find('\n') - 2)));
  if (depth + 1 > kMaxShebangDepth) {
    ExecIssue i = issue("shebang-interpreter-missing", real, node,
                        "more than " + std::to_string(kMaxShebangDepth) +
                            " nested \"#!\" interpreters: the kernel gives up (ELOOP)",
                        "point the \"#!\" line at a binary interpreter");
    kernel_error(how, exec_path, "too many levels of symbolic links", std::move(i));
    return false;
  }
  fs::ResolveResult res = resolve_as_user(sb.interpreter);
  if (!res.ok()) {
    std::string interp = sb.interpreter;
    bool crlf = !interp.empty() && interp.back() == '\r';
    std::string rule = crlf ? "shebang-crlf" : "shebang-interpreter-missing";
    std::string msg, fix;
    if (crlf) {
      std::string bare = interp.substr(0, interp.size() - 1);
      msg = quote(interp) + " does not exist: " + real +
            " has Windows (CRLF) line endings, so the kernel looks for an interpreter whose name "
            "ends in \\r";
      if (fs::resolve(tree_, bare).ok()) msg += " (" + bare + " itself exists)";
      fix = "convert it to LF (dos2unix, or .gitattributes \"*.sh text eol=lf\")";
    } else {
      msg = "the interpreter " + escape(interp) + " of " + real + " does not exist";
      if (!res.hops.empty()) msg += " (" + fs::describe_hops(res) + " → " + res.path + " missing)";
      if (auto d = deleted_in(res.path)) {
        msg += "; " + res.path + " was deleted in layer " + std::to_string(*d);
      }
      if (starts_with(interp, "/build/") || interp.find("/venv/") != std::string::npos ||
          interp.find("/.venv/") != std::string::npos || starts_with(interp, "/root/")) {
        msg += "; the path looks like a build-stage location that was not copied into this stage";
      }
      fix = "install " + basename_of(interp) +
            " in the image, or change the \"#!\" line to an "
            "interpreter that exists (e.g. #!/usr/bin/env " +
            basename_of(interp) + ")";
      if (res.error == fs::ResolveError::kAccess) {
        rule = "exec-permission-denied";
        msg = "uid " + std::to_string(user_.uid) + " cannot search " + res.path +
              " to reach the interpreter " + escape(interp);
        fix = "chmod a+x " + res.path;
      }
    }
    r_.exec_chain.push_back(interp);
    step(interp, std::string(fs::error_text(res.error)) +
                     (res.hops.empty() ? "" : " (" + fs::describe_hops(res) + ")"));
    kernel_error(how, exec_path, std::string(fs::error_text(res.error)),
                 issue(rule, real, node, msg, fix));
    return false;
  }
  fs::NodeId interp_node = *res.node;
  r_.exec_chain.push_back(sb.interpreter);
  if (tree_.path_of(interp_node) != sb.interpreter)
    r_.exec_chain.push_back(tree_.path_of(interp_node));
  std::string interp_base = basename_of(tree_.path_of(interp_node));
  bool is_env = basename_of(sb.interpreter) == "env";
  // The kernel's new argv: interpreter, the optional argument, the script path as exec'd, then
  // the original argv[1..].
  std::vector<std::string> rest(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  if (is_env && sb.arg) {
    if (!exec_node(exec_path, interp_node, {sb.interpreter}, depth + 1, how)) return false;
    return exec_env(exec_path, node, sb.interpreter, *sb.arg, rest, how);
  }
  std::vector<std::string> iargv{sb.interpreter};
  if (sb.arg) iargv.push_back(*sb.arg);
  iargv.push_back(exec_path);
  iargv.insert(iargv.end(), rest.begin(), rest.end());
  if (!exec_node(exec_path, interp_node, iargv, depth + 1, how)) return false;
  if (is_shell_name(interp_base) || is_shell_name(basename_of(sb.interpreter))) {
    follow_handover(real, node, rest, shell_kind(interp_node, sb.interpreter));
  }
  return true;
}

// "#!/usr/bin/env X": the kernel passes everything after the interpreter path as ONE argument,
// so "#!/usr/bin/env python3 -u" asks env for a program called "python3 -u"; `env -S` splits
// the string (coreutils >= 8.30). env then searches PATH like execvp(3).
bool Sim::exec_env(const std::string& exec_path, fs::NodeId script, const std::string& env_path,
                   const std::string& arg, std::vector<std::string> rest, const Launcher& how) {
  std::string real = tree_.path_of(script);
  std::vector<std::string> words;
  if (starts_with(arg, "-S")) {
    std::string s_arg = arg.substr(2);  // split() returns views: keep the string alive
    for (std::string_view w : split(s_arg, ' ')) {
      if (!w.empty()) words.emplace_back(w);
    }
  } else {
    words.push_back(arg);
  }
  size_t k = 0;
  while (k < words.size()) {
    const std::string& w = words[k];
    if (w == "-i" || w == "-" || w == "--ignore-environment") {
      ++k;
    } else if (w == "-u") {
      k += 2;
    } else if (w.find('=') != std::string::npos && w.front() != '/') {
      ++k;
    } else {
      break;
    }
  }
  if (k >= words.size()) return true;  // env without a program prints the environment
  std::string prog = words[k];
  Launcher env_how;
  env_how.kind = Launcher::kEnv;
  env_how.env_program = env_path;
  env_how.env_word = prog;
  if (auto e = resolve_as_user(env_path); e.ok()) {
    env_how.busybox_env = is_busybox(*e.node);
  }
  std::optional<fs::NodeId> found;
  std::string found_path;
  if (prog.find('/') != std::string::npos) {
    if (auto res = resolve_as_user(prog); res.ok()) found = res.node, found_path = prog;
  } else {
    for (std::string_view dir : split(r_.path_env, ':')) {
      std::string cand = go_join(dir.empty() ? "." : dir, prog);
      fs::ResolveResult res = resolve_as_user(cand);
      if (!res.ok() || tree_.node(*res.node).is_dir()) continue;
      found = res.node, found_path = cand;
      break;
    }
  }
  if (!found) {
    std::string rule = "env-interpreter-missing";
    std::string msg = real + " runs " + env_path + " " + escape(arg) + ", but " + quote(prog) +
                      " is in none of the PATH directories (" + escape(r_.path_env) + ")";
    std::string fix = "install " + escape(prog) + " in the image, or fix the \"#!\" line";
    if (!prog.empty() && prog.back() == '\r') {
      rule = "shebang-crlf";
      msg = real + " has Windows (CRLF) line endings: env looks for " + quote(prog) +
            " (with a trailing \\r)";
      fix = "convert it to LF (dos2unix, or .gitattributes \"*.sh text eol=lf\")";
    } else if (prog.find(' ') != std::string::npos) {
      msg = "the kernel passes " + quote(prog) +
            " to env as one word, so env looks for a "
            "program with that name";
      fix = "use \"#!/usr/bin/env -S " + escape(prog) + "\" or drop the extra arguments";
    }
    step(prog, "not found by env in PATH " + escape(r_.path_env));
    shell_not_found(env_how, prog, issue(rule, real, script, msg, fix));
    return false;
  }
  chain(found_path, *found);
  std::vector<std::string> pargv(words.begin() + static_cast<long>(k), words.end());
  pargv.push_back(exec_path);
  pargv.insert(pargv.end(), rest.begin(), rest.end());
  if (!exec_node(found_path, *found, pargv, 0, env_how)) return false;
  (void)how;
  if (is_shell_name(basename_of(prog))) {
    follow_handover(real, script, rest, shell_kind(*found, prog));
  }
  return true;
}

// An entrypoint script that ends in `exec "$@"` (or `exec gosu USER "$@"`) hands over to CMD:
// the real program is CMD's, so it is diagnosed too, as the script's shell would run it.
void Sim::follow_handover(const std::string& script_path, fs::NodeId script,
                          const std::vector<std::string>& args, ShellKind shell) {
  if (handovers_ >= kMaxShebangDepth) return;
  std::optional<std::string_view> content = root_.content(script);
  if (!content) {
    step(script_path, "content not captured: what the script runs is not followed");
    return;
  }
  std::optional<ScriptHandover> h = find_handover(*content);
  if (!h) return;
  ++handovers_;
  std::vector<std::string> words;
  std::string shown;
  for (const std::string& w : h->words) {
    shown += (shown.empty() ? "" : " ") + w;
    if (w == "$@" || w == "${@}") {
      words.insert(words.end(), args.begin(), args.end());
    } else {
      words.push_back(w);
    }
  }
  step(script_path, "line " + std::to_string(h->line) + ": exec " + escape(shown));
  if (words.empty()) return;
  Launcher how;
  how.kind = Launcher::kShell;
  how.script = script_path;
  how.line = h->line;
  how.shell = shell;
  size_t k = 0;
  if (!h->switcher.empty()) {
    if (words[0].find('$') != std::string::npos) return;
    std::optional<Found> sw = shell_lookup(words[0], how);
    if (!sw) return;
    if (!exec_node(sw->exec_path, sw->node, words, 0, how)) return;
    k = 1;
    if (h->switch_user) {
      k = 2;
      std::optional<PasswdFile> passwd;
      std::optional<GroupFile> group;
      if (auto t = root_.content("/etc/passwd")) passwd = parse_passwd(*t);
      if (auto t = root_.content("/etc/group")) group = parse_group(*t);
      UserResolution u = resolve_user(*h->switch_user, passwd, group);
      if (!u.error) r_.final_user = u.user;
    }
    while (k < words.size() && (words[k].front() == '-' || words[k].empty())) ++k;
  }
  if (k >= words.size() || words[k].find('$') != std::string::npos) return;
  std::vector<std::string> prog(words.begin() + static_cast<long>(k), words.end());
  std::optional<Found> f = shell_lookup(prog[0], how);
  if (!f) return;
  chain(f->exec_path, f->node);
  if (!exec_node(f->exec_path, f->node, prog, 0, how)) return;
  check_program_file(prog, f->node);
  std::string b = basename_of(prog[0]);
  if (is_shell_name(b) && prog.size() >= 3 && prog[1] == "-c")
    follow_shell_c(prog, shell_kind(f->node, prog[0]));
}

bool is_shell_builtin(std::string_view w) {
  static constexpr std::string_view kBuiltins[] = {
      "cd",     "set",    "if",    "for",    "while", "case",  "echo", "test",  "[",      "true",
      "false",  "export", ".",     "source", "exec",  "eval",  "trap", "umask", "ulimit", ":",
      "printf", "read",   "unset", "shift",  "wait",  "until", "{",    "(",     "!",      "exit"};
  return std::find(std::begin(kBuiltins), std::end(kBuiltins), w) != std::end(kBuiltins);
}

// `sh -c "STRING"`: the first command word of STRING is what the shell runs (exec form lost).
void Sim::follow_shell_c(const std::vector<std::string>& argv, ShellKind shell) {
  const std::string& text = argv[2];
  Launcher how;
  how.kind = Launcher::kShell;
  how.script = argv[0];
  how.line = 1;
  how.shell = shell;
  how.via_exec = false;
  std::string_view t = trim(text);
  if (starts_with(t, "[") && ends_with(t, "]")) {
    // Docker's parser falls back to shell form when the JSON of CMD/ENTRYPOINT does not parse
    // (single quotes, a missing comma): the shell then runs a word starting with "[".
    std::vector<std::string> words = shell_words(t);
    std::string word = words.empty() ? std::string(t) : words[0];
    step(argv[0] + " -c", escape(text) + " (JSON-looking, run as a shell command)");
    ExecIssue i = issue("exec-form-malformed", "", std::nullopt,
                        "ENTRYPOINT/CMD " + escape(text) +
                            " is not valid JSON (single quotes? a missing comma?), so Docker ran "
                            "it in shell form and the shell looks for a command named " +
                            quote(word),
                        "write the exec form with double quotes and commas: [\"/app/server\", "
                        "\"--flag\"]");
    shell_not_found(how, word, std::move(i));
    return;
  }
  std::vector<std::string> words = shell_words(t);
  size_t k = 0;
  while (k < words.size() && (words[k] == "exec" || (words[k].find('=') != std::string::npos &&
                                                     words[k][0] != '/' && words[k][0] != '-'))) {
    if (words[k] == "exec") how.via_exec = true;
    ++k;
  }
  if (k >= words.size() || is_shell_builtin(words[k]) || words[k].find('$') != std::string::npos ||
      words[k].find('`') != std::string::npos) {
    return;
  }
  std::vector<std::string> prog(words.begin() + static_cast<long>(k), words.end());
  step(argv[0] + " -c", "runs " + quote(prog[0]));
  std::optional<Found> f = shell_lookup(prog[0], how);
  if (!f) return;
  chain(f->exec_path, f->node);
  if (!exec_node(f->exec_path, f->node, prog, 0, how)) return;
  check_program_file(prog, f->node);
}

// The file node/python/java/ruby/php/sh is told to run must exist, relative to WORKDIR. The
// texts are what each prints: node "Error: Cannot find module '/abs'" (exit 1), CPython
// "python3: can't open file '/abs': [Errno 2] No such file or directory" (exit 2), java
// "Error: Unable to access jarfile X" (exit 1), ruby "ruby: No such file or directory -- X
// (LoadError)" (exit 1), php "Could not open input file: X" (exit 1), dash "sh: 0: cannot open
// X: No such file" (exit 2), busybox ash "sh: can't open 'X': No such file or directory" (exit 2),
// bash "bash: X: No such file or directory" (exit 127). `program` is argv[0]'s file: which shell
// it is decides the text.
void Sim::check_program_file(const std::vector<std::string>& argv, fs::NodeId program) {
  std::optional<ProgramFile> pf = program_file_of(argv);
  if (!pf || pf->file.find('$') != std::string::npos) return;
  std::string abs = go_join(pf->file.front() == '/' ? "/" : r_.workdir, pf->file);
  auto exists = [&](const std::string& p) {
    fs::ResolveResult res = resolve_as_user(p);
    return res.ok();
  };
  bool ok = exists(pf->file);
  if (!ok && pf->interpreter == "node") {
    for (std::string_view ext : {".js", ".json", ".node", ".mjs", ".cjs", "/index.js"}) {
      ok = ok || exists(pf->file + std::string(ext));
    }
  }
  if (ok) {
    step(abs, pf->interpreter + " program file found");
    return;
  }
  fs::ResolveResult res = resolve_as_user(pf->file);
  std::string text;
  int exit = 1;
  if (pf->interpreter == "node") {
    text = "Error: Cannot find module '" + abs + "'";
  } else if (pf->interpreter == "python") {
    text = argv[0] + ": can't open file '" + abs + "': [Errno 2] No such file or directory";
    exit = 2;
  } else if (pf->interpreter == "java") {
    text = "Error: Unable to access jarfile " + pf->file;
  } else if (pf->interpreter == "ruby") {
    text = argv[0] + ": No such file or directory -- " + pf->file + " (LoadError)";
  } else if (pf->interpreter == "php") {
    text = "Could not open input file: " + pf->file;
  } else {
    // The shells open the script with open(2): ENOENT/ENOTDIR/EACCES as strerror(3) says them.
    std::string err(fs::error_text(res.error));
    if (!err.empty()) err[0] = static_cast<char>(err[0] - 'a' + 'A');
    bool enoent = res.error == fs::ResolveError::kNoEnt || res.error == fs::ResolveError::kNotDir;
    switch (shell_kind(program, argv[0])) {
      case ShellKind::kBash:
        // shell.c open_shell_script: file_error(), exit EX_NOTFOUND (127) on ENOENT, else
        // EX_NOINPUT (126).
        text = argv[0] + ": " + pf->file + ": " + err;
        exit = res.error == fs::ResolveError::kNoEnt ? 127 : 126;
        break;
      case ShellKind::kBusybox:
        // ash.c setinputfile: ash_msg_and_raise_perror("can't open '%s'"), "ARGV0: " prefix,
        // exit 2 (BusyBox 1.35).
        text = argv[0] + ": can't open '" + pf->file + "': " + err;
        exit = 2;
        break;
      case ShellKind::kDash:
        // dash errmsg(E_OPEN): "No such file" for ENOENT and ENOTDIR, else strerror; exit 2.
        text = argv[0] + ": 0: cannot open " + pf->file + ": " + (enoent ? "No such file" : err);
        exit = 2;
        break;
    }
  }
  step(abs, std::string(fs::error_text(res.error)));
  std::string msg = argv[0] + " is told to run " + escape(pf->file) + ", which does not exist (" +
                    abs + ", relative to WORKDIR " + r_.workdir + ")";
  if (res.error == fs::ResolveError::kAccess)
    msg += "; uid " + std::to_string(user_.uid) + " cannot search " + res.path;
  if (auto d = deleted_in(abs)) msg += "; " + abs + " was deleted in layer " + std::to_string(*d);
  ExecIssue i =
      issue("program-file-missing", abs, std::nullopt, msg,
            "COPY the file to " + abs + ", or set WORKDIR to the directory that holds it");
  if (auto d = deleted_in(abs)) i.layer = *d;
  block(std::move(i), text, exit);
}

}  // namespace

Shebang parse_shebang(std::string_view head) {
  Shebang sb;
  if (head.size() < 2 || head[0] != '#' || head[1] != '!') return sb;
  std::string_view buf = head.substr(0, kBinprmBufSize);
  size_t nl = buf.find('\n');
  std::string_view line;
  if (nl != std::string_view::npos) {
    line = buf.substr(0, nl);
  } else if (head.size() < kBinprmBufSize) {
    line = buf;  // the file ends first: the kernel's buffer is NUL-padded after it
  } else {
    // No newline in the buffer: the interpreter path must end (space, tab or NUL) before
    // buf_end = buf + 255, else the kernel will not exec a possibly truncated path (5.1+).
    std::string_view usable = buf.substr(0, kBinprmBufSize - 1);
    size_t start = usable.find_first_not_of(" \t", 2);
    if (start == std::string_view::npos) {
      sb.status = Shebang::Status::kNoInterpreter;
      return sb;
    }
    if (usable.find_first_of(std::string_view(" \t\0", 3), start) == std::string_view::npos) {
      sb.status = Shebang::Status::kTruncated;
      return sb;
    }
    line = usable;
  }
  // C strings: a NUL ends the line.
  if (size_t z = line.find('\0'); z != std::string_view::npos) line = line.substr(0, z);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
  size_t name = line.find_first_not_of(" \t", 2);
  if (name == std::string_view::npos) {
    sb.status = Shebang::Status::kNoInterpreter;
    return sb;
  }
  size_t sep = line.find_first_of(" \t", name);
  sb.status = Shebang::Status::kOk;
  sb.interpreter = std::string(
      line.substr(name, sep == std::string_view::npos ? std::string_view::npos : sep - name));
  if (sep != std::string_view::npos) {
    size_t a = line.find_first_not_of(" \t", sep);
    if (a != std::string_view::npos) sb.arg = std::string(line.substr(a));
  }
  return sb;
}

int docker_start_error_exit(std::string_view m) {
  auto has = [&](std::string_view s) { return m.find(s) != std::string_view::npos; };
  if (has("executable file not found") || has("no such file or directory") ||
      has("system cannot find the file specified")) {
    return 127;
  }
  if (has("permission denied") || has("is a directory")) return 126;
  return 125;
}

std::optional<ProgramFile> program_file_of(const std::vector<std::string>& argv) {
  if (argv.empty()) return std::nullopt;
  std::string b = basename_of(argv[0]);
  auto first_operand =
      [&](std::string kind, std::initializer_list<std::string_view> with_arg,
          std::initializer_list<std::string_view> no_file) -> std::optional<ProgramFile> {
    for (size_t i = 1; i < argv.size(); ++i) {
      std::string_view a = argv[i];
      if (std::find(no_file.begin(), no_file.end(), a) != no_file.end()) return std::nullopt;
      if (std::find(with_arg.begin(), with_arg.end(), a) != with_arg.end()) {
        ++i;
        continue;
      }
      if (a == "-" || a.empty()) return std::nullopt;
      if (a.front() == '-') {
        // "-c" glued to other shell flags ("-ec") still means a command string.
        if (kind == "sh" && a.size() > 1 && a[1] != '-' && a.find('c') != std::string_view::npos) {
          return std::nullopt;
        }
        continue;
      }
      return ProgramFile{kind, std::string(a), i};
    }
    return std::nullopt;
  };
  if (b == "node" || b == "nodejs") {
    return first_operand("node", {"-r", "--require", "--import", "--loader"},
                         {"-e", "--eval", "-p", "--print", "-i", "--interactive", "-v", "--version",
                          "-h", "--help"});
  }
  if (is_python(b)) {
    return first_operand("python", {"-W", "-X"}, {"-m", "-c", "-V", "--version", "-h", "--help"});
  }
  if (b == "java") {
    for (size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "-jar") return ProgramFile{"java", argv[i + 1], i + 1};
    }
    return std::nullopt;
  }
  if (b == "ruby") return first_operand("ruby", {"-r", "-I", "-C"}, {"-e", "-v", "--version"});
  if (b == "php" || starts_with(b, "php")) {
    if (b != "php" && !std::all_of(b.begin() + 3, b.end(),
                                   [](char c) { return (c >= '0' && c <= '9') || c == '.'; })) {
      return std::nullopt;
    }
    for (size_t i = 1; i + 1 < argv.size(); ++i) {
      if (argv[i] == "-f") return ProgramFile{"php", argv[i + 1], i + 1};
    }
    return first_operand("php", {"-d", "-c", "-z"}, {"-S", "-r", "-a", "-v", "-i", "-m"});
  }
  if (b == "sh" || b == "bash" || b == "dash" || b == "ash") {
    return first_operand("sh", {"-o", "+o", "-O", "+O"}, {"-c", "-s", "-i", "--version"});
  }
  return std::nullopt;
}

std::optional<ScriptHandover> find_handover(std::string_view script) {
  std::optional<ScriptHandover> last;
  uint32_t n = 0;
  for (std::string_view raw : split(script, '\n')) {
    ++n;
    std::string_view line = trim(raw);
    if (!starts_with(line, "exec ") && !starts_with(line, "exec\t")) continue;
    std::vector<std::string> words = shell_words(line.substr(5));
    if (words.empty()) continue;
    const std::string& w0 = words[0];
    if (w0[0] == '>' || w0[0] == '<' ||
        (w0.size() > 1 && isdigit(static_cast<unsigned char>(w0[0])) &&
         (w0[1] == '>' || w0[1] == '<'))) {
      continue;  // `exec >&2`, `exec 3>&1`: redirections, not a handover
    }
    ScriptHandover h;
    h.words = words;
    h.line = n;
    for (const std::string& w : words) h.passes_args = h.passes_args || w == "$@" || w == "${@}";
    std::string b = basename_of(w0);
    if ((b == "gosu" || b == "su-exec") && words.size() >= 2) {
      h.switcher = b;
      h.switch_user = words[1];
    } else if (b == "setpriv" || b == "tini" || b == "dumb-init" || b == "chroot" ||
               b == "s6-setuidgid") {
      h.switcher = b;
    }
    last = std::move(h);
  }
  return last;
}

ExecResult simulate_exec(const RootView& root, const image::ImageConfig& config,
                         const ExecOptions& options) {
  ExecResult r;
  Sim(root, config, options, r).run();
  return r;
}

}  // namespace coroner::linux_
