// `coroner diagnose IMAGE [--entrypoint X] [--user U] [--workdir W] [-e K=V]... [--runtime R]
// [--kernel VERSION] [--cpu LEVEL] [--format text|json] [--fail-on error|warning|never] [--platform
// P] [-- ARGS...]`: will the container's main process start, and if not, why. The command parses
// its own flags (they mirror `docker run`), then runs the pipeline: open → scan → merge → simulate
// exec → rules → render.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace coroner::cli {

struct DiagnoseRequest {
  std::string image, platform;
  SourceFlags source;
  std::string via;  // docker-daemon: save | export
  std::optional<std::string> entrypoint, user, workdir;
  std::vector<std::string> env;
  std::optional<std::vector<std::string>> args;  // after IMAGE or "--": replace CMD
  std::string runtime = "docker";
  // The host assumed by kernel-too-old and cpu-isa-level; empty: this machine's.
  std::string kernel, cpu;
  std::string format = "text";
  std::string fail_on = "error";
  bool all = false;    // --all: add the audit findings (cli/audit.h)
  std::string output;  // -o FILE ("" or "-": stdout)
  bool quiet = false;
  std::string help;  // set when --help was asked: print it and stop
};

// Throws Error on bad usage (exit 2).
DiagnoseRequest parse_diagnose_args(const std::vector<std::string>& args);

CommandResult run_diagnose(const Request& request);

}  // namespace coroner::cli
