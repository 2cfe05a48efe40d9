// The sources over the Docker Engine API (engine.h): docker-daemon:NAME (the layers of
// GET /images/{id}/get, read by the docker-archive reader, or with via "export" the flat
// export of a created, never started container that is always removed again) and
// container:ID_OR_NAME (its export, state, last log lines and changes). Also what `coroner ps`
// lists: the containers that died or keep restarting, with a suspected cause.
#pragma once

#include <memory>
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

// One container's state, last log lines and changes (no export). Error as for container:.
ContainerState container_state(engine::Client& client, const std::string& name);

// The containers that exited non-zero or are restarting, most recent first, each with its
// state and last log lines (no export, no changes).
std::vector<ContainerState> list_failed_containers(engine::Client& client);

// One phrase from the exit code, OOMKilled and the last log lines: 126 not executable, 127 not
// found, 137 out of memory or killed, 139 segfault, 143 SIGTERM, else the log's last error line.
std::string suspected_cause(const ContainerState& c);

// A client for the daemon the environment names (resolve_endpoint over the environment).
engine::Client connect_from_env();

}  // namespace coroner::image
