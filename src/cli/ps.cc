#include "cli/ps.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "base/error.h"
#include "base/text.h"
#include "image/engine_source.h"

namespace coroner::cli {
namespace {

using json = nlohmann::json;

json explanation_json(const image::ExitExplanation& e) {
  return {{"summary", e.summary},
          {"detail", e.detail},
          {"signal", e.signal ? json(*e.signal) : json(nullptr)},
          {"log_errors", e.log_errors}};
}

json to_json(const image::ContainerState& c) {
  json changes = json::array();
  for (const auto& [kind, path] : c.changes) {
    changes.push_back({{"kind", std::string(1, kind)}, {"path", path}});
  }
  return {{"id", c.id},
          {"name", c.name},
          {"image", c.image},
          {"image_id", c.image_id},
          {"status", c.status},
          {"exit_code", c.exit_code},
          {"error", c.error},
          {"oom_killed", c.oom_killed},
          {"restarting", c.restarting},
          {"restart_count", c.restart_count},
          {"started_at", c.started_at},
          {"finished_at", c.finished_at},
          {"suspected_cause", image::suspected_cause(c)},
          {"exit", explanation_json(image::explain_exit(c))},
          {"log_tail", c.log_tail},
          {"changes", changes}};
}

void print_one(const image::ContainerState& c) {
  std::printf("container %s (%s), image %s (%s)\n", escape(c.name).c_str(),
              image::engine::short_id(c.id).c_str(), escape(c.image).c_str(),
              image::engine::short_id(c.image_id).c_str());
  std::printf("status %s, exit code %d, OOMKilled %s, restarts %d\n", escape(c.status).c_str(),
              c.exit_code, c.oom_killed ? "true" : "false", c.restart_count);
  std::printf("started %s, finished %s\n", escape(c.started_at).c_str(),
              escape(c.finished_at).c_str());
  if (!c.error.empty()) std::printf("error: %s\n", escape(c.error).c_str());
  std::printf("suspected cause: %s\n", image::suspected_cause(c).c_str());
  // The same explanation `diagnose container:X` gives, without scanning the file system.
  if (c.status != "running" && c.status != "paused") {
    image::ExitExplanation e = image::explain_exit(c);
    std::printf("exit: %s\n", e.summary.c_str());
    if (!e.detail.empty()) std::printf("  %s\n", e.detail.c_str());
    std::printf("  (coroner diagnose container:%s compares it with what the image predicts)\n",
                escape(c.name.empty() ? image::engine::short_id(c.id) : c.name).c_str());
  }
  std::printf("last log lines (%zu):\n", c.log_tail.size());
  for (const std::string& l : c.log_tail) std::printf("  %s\n", escape(l, 400).c_str());
  std::printf("changes (%zu):\n", c.changes.size());
  for (const auto& [kind, path] : c.changes) std::printf("  %c %s\n", kind, escape(path).c_str());
}

void print_table(const std::vector<image::ContainerState>& list) {
  std::printf("%-24s %-28s %5s  %-20s  %s\n", "NAME", "IMAGE", "EXIT", "FINISHED", "CAUSE");
  for (const image::ContainerState& c : list) {
    std::string when = c.finished_at.substr(0, 19);  // seconds are enough
    std::string exit = c.restarting ? "restart" : std::to_string(c.exit_code);
    std::printf("%-24s %-28s %5s  %-20s  %s\n", escape(c.name, 24).c_str(),
                escape(c.image, 28).c_str(), exit.c_str(), when.c_str(),
                image::suspected_cause(c).c_str());
  }
}

}  // namespace

CommandResult run_ps(const Request& r) {
  image::engine::Client client = image::connect_from_env();
  if (!r.image.ref.empty()) {
    std::string name = r.image.ref;
    if (starts_with(name, "container:")) name.erase(0, 10);
    image::ContainerState c = image::container_state(client, name);
    if (r.json) {
      std::printf("%s\n", to_json(c).dump(2).c_str());
    } else {
      print_one(c);
    }
    return {};
  }
  std::vector<image::ContainerState> list = image::list_failed_containers(client);
  if (r.json) {
    json out = json::array();
    for (const auto& c : list) out.push_back(to_json(c));
    std::printf("%s\n", out.dump(2).c_str());
    return {};
  }
  print_table(list);
  return {};
}

}  // namespace coroner::cli
