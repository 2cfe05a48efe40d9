// `coroner packages IMAGE [--verify] [--json] [--format text|json|cyclonedx|spdx]`: the
// installed dpkg and apk packages with the layer that installed each (pkg/verify.h), as a
// table, JSON, CycloneDX 1.5 or SPDX 2.3; --verify prints what `dpkg --verify` would print,
// line for line. The command parses its own flags (as ldd does).
#pragma once

#include "cli/commands.h"

namespace coroner::cli {

CommandResult run_packages(const Request& request);

}  // namespace coroner::cli
