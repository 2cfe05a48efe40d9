// Rules: the one list of rule ids (RuleInfo: severity, summary, fix, whether it is implemented
// yet) and run_rules(), which turns the exec simulation into the verdict and start-up blocker
// findings and adds the start-up hazards (ports, capabilities, privilege switches, daemons that
// refuse root, stale pid/lock files, HOME, HEALTHCHECK). Findings are plain data (finding.h);
// report/ renders them.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "image/source.h"
#include "linux/exec.h"
#include "linux/root.h"
#include "rules/finding.h"
#include "rules/host_rules.h"

namespace coroner::rules {

enum class Family : uint8_t { kBlocker, kHazard, kAudit };

struct RuleInfo {
  std::string_view id;
  Severity severity;
  Family family;
  std::string_view summary;
  std::string_view fix;
  bool implemented;  // false: listed in DESIGN.md, not checked yet (docs and SARIF say so)
  uint8_t runtimes = kAllRuntimes;
};

// Every rule id of DESIGN.md, in its order.
std::span<const RuleInfo> all_rules();
const RuleInfo* find_rule(std::string_view id);

// "docker", "kubernetes", "podman" -> Runtime; nullopt for anything else.
std::optional<Runtime> parse_runtime(std::string_view name);
std::string_view runtime_name(Runtime r);

struct RuleInput {
  const linux_::RootView& root;
  const image::ImageInfo& info;  // config (history, ports, healthcheck), layers, platform
  const linux_::ExecResult& exec;
  Runtime runtime = kDocker;  // where the image will run: decides runtime-dependent verdicts
  Host host = {};  // the kernel and CPU assumed for kernel-too-old, cpu-isa-level (host_rules.h)
};

struct RuleOutput {
  Verdict verdict;
  std::vector<Finding> findings;  // sorted (severity, rule, path, layer)
};

RuleOutput run_rules(const RuleInput& input);

// The history step of each layer: the i-th non-empty history entry made layer i ("" if none).
std::vector<std::string> created_by_of_layers(const image::ImageInfo& info);

// Deterministic order for reports: severity, rule, path, layer.
void sort_findings(std::vector<Finding>& findings);

}  // namespace coroner::rules
