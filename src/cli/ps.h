// `coroner ps [--json] [CONTAINER]`: the containers of the local Docker Engine that exited
// non-zero or keep restarting, one line each (name, image, exit code, when, suspected cause);
// with CONTAINER, that one container's state, last log lines and file changes.
#pragma once

#include "cli/commands.h"

namespace coroner::cli {

CommandResult run_ps(const Request& request);

}  // namespace coroner::cli
