// The sources over the Docker Engine API (engine.h): docker-daemon:NAME (the layers of
// GET /images/{id}/get, read by the docker-archive reader, or with via "export" the flat
// export of a created, never started container that is always removed again) and
// container:ID_OR_NAME (its export, state, last log lines and changes). Also what `coroner ps`
// lists: the containers that died or keep restarting, with a suspected cause.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "image/engine.h"
#include "image/ref.h"
#include "image/source.h"

namespace coroner::image {

// Requires: ref.transport is kDockerDaemon or kContainer.
std::unique_ptr<ImageSource> open_engine_source(const Ref& ref, const OpenOptions& options);

// The image config from /images/{id}/json (Config, Os, Architecture, Variant, RootFS.Layers)
// and /images/{id}/history (newest first). The Engine API does not say which history steps
// made no layer: a step is taken as empty when its Size is 0 and it is a metadata-only
// instruction (ENV, CMD, LABEL...); a count that still disagrees with the layers is a note.
// Error on JSON of the wrong shape.
ImageConfig config_from_inspect(std::string_view inspect_json, std::string_view history_json,
                                std::vector<std::string>& notes);

// The "Id" of the image or container `name` resolves to, given the result of inspecting it
// (`status`, `body`) and the ids the daemon lists; Error "<kind> not found" or, for a short id
// that matches several, an Error listing them (never the first).
std::string resolve_id(std::string_view kind, std::string_view name, const engine::Response& r,
                       const std::vector<std::string>& listed_ids);

// The state fields of a /containers/{id}/json answer (no logs, no changes). Error when it is
// not JSON; missing or mistyped fields are left empty.
ContainerState parse_container_inspect(std::string_view inspect_json);

// One container's state, last log lines and changes (no export). Error as for container:.
ContainerState container_state(engine::Client& client, const std::string& name);

// The containers that exited non-zero or are restarting, most recent first, each with its
// state and last log lines (no export, no changes).
std::vector<ContainerState> list_failed_containers(engine::Client& client);

// One phrase from the exit code, OOMKilled and the last log lines: 126 not executable, 127 not
// found, 137 out of memory or killed, 139 segfault, 143 SIGTERM, else the log's last error line.
std::string suspected_cause(const ContainerState& c);

// Whether a log line looks like an error record (case-insensitive: error, fatal, panic,
// exception, failed, denied, not found, cannot, no such, segmentation fault, traceback...).
bool is_error_line(std::string_view line);

// The lines of a container's log that look like errors (error, fatal, panic, exception,
// failed, denied, not found, cannot, no such, segmentation fault, traceback...), the last `max`
// of them, oldest first, escaped.
std::vector<std::string> log_error_lines(const std::vector<std::string>& lines, size_t max);

// Why a container's main process ended, from its state and last log lines (coroner diagnose
// container:X): one headline, what usually causes it, and the log lines that back it.
struct ExitExplanation {
  std::string summary;  // "killed by SIGSEGV (exit code 139 = 128 + 11): a segmentation fault"
  std::string detail;   // what usually causes it and what to look at
  std::optional<int> signal;            // the signal for exit codes 129..192, OOMKilled: 9
  std::vector<std::string> log_errors;  // the log's last error lines, oldest first (<= 5)
};
// 125 the docker CLI's daemon error, 126 not executable, 127 not found, 137 SIGKILL (OOMKilled:
// the memory limit), 139 SIGSEGV, 143 SIGTERM, 128+N other signals, 1 and others the program's
// own status with its last error lines; State.Error (a failed start) first when set.
ExitExplanation explain_exit(const ContainerState& c);

// "SIGSEGV" for 11, "signal 40" for one without a name.
std::string signal_name(int sig);

// A client for the daemon the environment names (resolve_endpoint over the environment).
engine::Client connect_from_env();

}  // namespace coroner::image
