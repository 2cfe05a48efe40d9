// One short function per subcommand, in one table (ninja's kTools): each opens the image through
// explore/, calls the explore function that does the work, and renders the result (render.h).
// Commands print their output on stdout but never an error: they throw, and main.cc prints.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"

namespace coroner::cli {

struct CommandResult {
  int exit_code = 0;
  std::vector<std::string> warnings;  // main.cc prints them on stderr
};

struct CommandDef {
  Command command;
  std::string_view name;
  CommandResult (*run)(const Request&);
};

CommandResult run_command(const Request& request);

}  // namespace coroner::cli
