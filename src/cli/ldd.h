// `coroner ldd IMAGE PATH [--json]` and `coroner ldd IMAGE --all`: what the image's dynamic
// loader would load for one program, or for every ELF file (one JSON object per line), from
// the loader simulation (linux/loader.h). The text output follows `ld.so --list`:
// "\tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (ld.so.cache)". The command parses its own
// flags (as diagnose does).
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace coroner::cli {

CommandResult run_ldd(const Request& request);

}  // namespace coroner::cli
