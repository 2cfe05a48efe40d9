#include "testing/compile.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

extern char** environ;

namespace coroner::testing {
namespace {

// Closes a file descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

std::optional<CommandResult> run_command(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  Fd rd{fds[0]}, wr{fds[1]};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, wr.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, wr.fd, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return std::nullopt;
  close(wr.fd);
  wr.fd = -1;
  CommandResult result;
  char buf[65536];
  for (;;) {
    ssize_t n = read(rd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::optional<std::string> compile(const std::string& compiler, const std::string& source,
                                   const std::vector<std::string>& flags, const std::string& out) {
  std::string src = out + (compiler.find("++") != std::string::npos ? ".src.cc" : ".src.c");
  {
    std::ofstream f(src, std::ios::binary);
    f << source;
    if (!f) return "cannot write " + src;
  }
  std::vector<std::string> argv{compiler, src};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("-o");
  argv.push_back(out);
  auto r = run_command(argv);
  if (!r)
    return "compiler '" + compiler + "' is not installed (not found in PATH); install it " +
           "(scripts/install-deps.sh) instead of skipping this test";
  if (r->exit_code != 0) {
    std::string cmd;
    for (const std::string& a : argv) cmd += a + " ";
    return cmd + "failed with exit code " + std::to_string(r->exit_code) + ":\n" + r->output;
  }
  return std::nullopt;
}

std::string make_test_dir(const std::string& name) {
  std::string base;
  if (const char* t = std::getenv("CORONER_TEST_TMP"); t && *t) {
    base = t;
  } else if (const char* d = std::getenv("TMPDIR"); d && *d) {
    base = d;
  } else {
    base = "/tmp";
  }
  std::filesystem::create_directories(base);
  std::string tmpl = base + "/" + name + ".XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) return {};
  return buf.data();
}

std::vector<std::byte> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(chars.size());
  if (!chars.empty()) std::memcpy(out.data(), chars.data(), chars.size());
  return out;
}

void write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace coroner::testing
