// The exec simulation: what the Docker daemon, runc and the kernel do to start an image's main
// process, in their order (DESIGN.md "Exec simulation"): argv from Entrypoint + Cmd and the
// `docker run` overrides, USER, WORKDIR, argv[0] by path or by Go's exec.LookPath over PATH,
// permissions for the resolved user, then the kernel: ELF (class, machine, PT_INTERP, then the
// loader simulation of loader.h) or "#!" (binfmt_script, up to kMaxShebangDepth levels). It
// follows entrypoint scripts that end in `exec "$@"` to the program they start. The result is
// plain data: the chain of evidence, the first blocker with the text Docker 20.10 prints, and
// the issues found on the way. Rule metadata, history steps and rendering live in rules/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/source.h"
#include "linux/root.h"
#include "linux/users.h"

namespace coroner::linux_ {

// The kernel rewrites the binary at most this many times for "#!" lines (DESIGN.md: 4 levels).
inline constexpr int kMaxShebangDepth = 4;
// fs/binfmt_script.c works on bprm->buf, BINPRM_BUF_SIZE = 256 bytes since Linux 5.1 (commit
// 6eb3c3d0a52d), of which the last byte is never part of the line (buf_end = buf + 255).
inline constexpr size_t kBinprmBufSize = 256;
// Docker adds this PATH when the container's Env has none (oci.DefaultPathEnv for Linux).
inline constexpr std::string_view kDockerDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// `docker run` flags that change how the process starts.
struct RunOverrides {
  std::optional<std::string> entrypoint;         // --entrypoint ("" clears it)
  std::optional<std::string> user;               // --user
  std::optional<std::string> workdir;            // --workdir
  std::vector<std::string> env;                  // -e KEY=VALUE, in order
  std::optional<std::vector<std::string>> args;  // trailing args: replace Cmd
};

// One step of the chain of evidence: "/app/entry.sh: #!/bin/sh\r".
struct ExecStep {
  std::string path;  // what was looked at (absolute inside the image, or a name)
  std::string what;  // what was found there, one line
};

// A problem found by the simulation. `node` is the culprit (its top version's layer is the
// layer to blame); `deleted_in` is set when the culprit path existed below and a later layer
// deleted it.
struct ExecIssue {
  std::string rule;
  std::string path;
  std::optional<fs::NodeId> node;
  std::optional<uint32_t> layer;  // layer to blame (node's top version, or the deleting layer)
  std::string message;
  std::vector<std::string> evidence;
  std::string fix;
  bool blocks = true;  // false: found on the way but not what stops the start (a hazard)
};

struct ExecVerdict {
  bool starts = true;
  std::optional<std::string> reason;  // rule id
  std::string predicted_error;        // as Docker 20.10 (runc 1.1) prints it
  std::optional<int> predicted_exit;  // 125 daemon, 126/127 runc, 1/2/127 in the container
};

struct ExecResult {
  std::vector<std::string> argv;        // as runc receives it
  std::string user_spec;                // USER as used ("" is root)
  std::optional<ExecUser> user;         // resolved (nullopt when Docker refuses the USER)
  std::string workdir;                  // "/" when unset
  std::vector<std::string> env;         // the container's Env as runc sets it (PATH, HOME added)
  std::string path_env;                 // PATH used for the lookup
  std::vector<std::string> exec_chain;  // argv[0] resolved, interpreters, loader, CMD program
  std::vector<ExecStep> steps;          // evidence in order
  std::vector<ExecIssue> issues;        // the blocker first (if any), then the rest
  ExecVerdict verdict;
  // Programs that the process will run, in order (argv[0] after lookup, interpreters, the
  // program an entrypoint script execs): for the hazard rules (gosu, postgres, capabilities).
  std::vector<std::string> programs;
  std::vector<fs::NodeId> program_nodes;
  std::vector<std::vector<std::string>> program_args;  // the argv each program receives
  // The user the final program runs as (after gosu/su-exec), when known.
  std::optional<ExecUser> final_user;
};

struct ExecOptions {
  RunOverrides overrides;
  std::string platform;  // "linux/amd64" (os/arch[/variant]); empty: taken from the config
  // x86-64 level of the host CPU (LoaderEnv::x86_64_level): which glibc-hwcaps/x86-64-vN
  // libraries the loader picks. 1: the baseline.
  int x86_64_level = 1;
};

// Simulates `docker run IMAGE` for the image described by `config` over `root`. Never throws on
// odd image content: every problem is a result.
ExecResult simulate_exec(const RootView& root, const image::ImageConfig& config,
                         const ExecOptions& options);

// What the kernel's binfmt_script reads from a "#!" line (fs/binfmt_script.c, Linux >= 5.1).
struct Shebang {
  enum class Status : uint8_t {
    kOk,
    kNotScript,      // no "#!": ENOEXEC
    kNoInterpreter,  // only spaces/tabs after "#!": ENOEXEC
    kTruncated,      // no newline in the buffer and no space/tab/NUL after the interpreter
                     // path: the kernel refuses to run a truncated path (ENOEXEC)
  };
  Status status = Status::kNotScript;
  std::string interpreter;         // up to the first space, tab or NUL; "\r" stays in it
  std::optional<std::string> arg;  // the rest, one argument, trailing spaces/tabs trimmed
};
// `head` is the file's first bytes (at least min(size, kBinprmBufSize)), or the first line as
// the scan kept it.
Shebang parse_shebang(std::string_view head);

// Go's exec.LookPath for a name without "/" never returns a directory or a non-executable file.
// The daemon's and the CLI's mapping of a start error to `docker run`'s exit status (docker/cli
// runStartContainerErr): "executable file not found" or "no such file or directory" -> 127,
// "permission denied" or "is a directory" -> 126, else 125.
int docker_start_error_exit(std::string_view message);

// The kind of a known interpreter and the file argument it is told to run ("node server.js",
// "java -jar app.jar"), or nullopt.
struct ProgramFile {
  std::string interpreter;  // "node", "python", "java", "ruby", "php", "sh"
  std::string file;         // as written
  size_t argv_index = 0;
};
std::optional<ProgramFile> program_file_of(const std::vector<std::string>& argv);

// The command an entrypoint script hands over to at its end: `exec "$@"`, `exec gosu USER "$@"`,
// `exec su-exec USER "$@"`, `exec setpriv ... "$@"`, `exec tini -- "$@"`, or `exec /fixed/prog
// args`. `line` is 1-based.
struct ScriptHandover {
  std::vector<std::string> words;  // the words after "exec", "$@" kept as a word
  uint32_t line = 0;
  bool passes_args = false;                // "$@" is among the words
  std::optional<std::string> switch_user;  // the USER of gosu / su-exec
  std::string switcher;                    // "gosu", "su-exec", "setpriv", "chroot"
};
std::optional<ScriptHandover> find_handover(std::string_view script);

}  // namespace coroner::linux_
