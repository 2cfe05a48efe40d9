// The container section of `coroner diagnose container:X`: why its main process ended (its exit
// code, OOMKilled, State.Error and the log's last error lines, image::explain_exit), whether the
// exec simulation agrees, and what the process wrote before it died, from /changes and the
// container's exported file system (pid and lock files, core dumps, logs with error records).
// Rendered as a block of the text report and as the "container" object of the JSON report.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "image/engine_source.h"
#include "image/source.h"
#include "linux/root.h"
#include "rules/finding.h"

namespace coroner::report {

// A file the container added or changed (from /changes), as its export shows it.
struct ContainerWrite {
  std::string path;
  std::string kind;   // "core dump", "pid file", "lock file", "log", "socket", "file"
  char change = 'A';  // 'A' added, 'C' changed
  uint64_t size = 0;
  std::string detail;                 // "pid 1", "3 error records"; may be empty
  std::vector<std::string> evidence;  // "PATH:LINE: text" of error records (the last 5)
};

struct ContainerSection {
  image::ContainerState state;
  image::ExitExplanation exit;
  // The diagnosis used the config the container was created with (Entrypoint, Cmd, User, Env,
  // WorkingDir of /containers/{id}/json), not the image's.
  bool config_from_container = true;
  std::string prediction;  // how the exec simulation's verdict compares with what happened
  std::vector<ContainerWrite> wrote;  // core dumps, pid/lock files, logs with errors, then the rest
  uint64_t unlisted = 0;              // files changed but not listed (past the limit)
};

// What diagnose captures during the scan of a container's export so that the section can read
// pid files and logs: *.pid, *.lock, *.log and files under var/log, up to 1 MiB.
bool container_capture(std::string_view path, uint64_t size);

// Requires: `root` is the merged view of the container's export.
ContainerSection container_section(const image::ContainerState& state,
                                   const rules::Verdict& verdict, const linux_::RootView& root);

// The text block (a heading line, then indented lines; `width` wraps, 0 does not).
void container_text(const ContainerSection& s, std::ostream& out, size_t width);
// The "container" object of coroner/diagnosis/v1 (docs/schema/diagnosis-v1.schema.json).
nlohmann::ordered_json container_json(const ContainerSection& s);

}  // namespace coroner::report
