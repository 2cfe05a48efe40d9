// Test-only helpers that build real binaries with the host toolchains at test time (gcc,
// musl-gcc, aarch64-linux-gnu-gcc), so no binary fixture is committed. A missing compiler is a
// failure with a message that names it, never a silent skip: the install script provides them.
// Also: a per-test scratch folder, whole-file reads, and running a tool to capture its output.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace coroner::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when the program could not be started or died on a signal
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv[0] (looked up in PATH) with argv, no shell. Returns nullopt when it cannot be
// started (not installed).
std::optional<CommandResult> run_command(const std::vector<std::string>& argv);

// Writes `source` next to `out` and compiles and links it: `compiler source flags... -o out`.
// The source is C, or C++ when the compiler name contains "++". Returns nullopt on success,
// otherwise why it failed: the compiler is not installed, or its exit status and output.
std::optional<std::string> compile(const std::string& compiler, const std::string& source,
                                   const std::vector<std::string>& flags, const std::string& out);

// A fresh folder for one test's files: under $CORONER_TEST_TMP (set by ctest) when set, else
// under $TMPDIR or /tmp; `name` is part of its name. The folder is not removed.
std::string make_test_dir(const std::string& name);

// The whole file, or an empty vector when it cannot be read.
std::vector<std::byte> read_file(const std::string& path);
void write_file(const std::string& path, const std::vector<std::byte>& bytes);

}  // namespace coroner::testing
