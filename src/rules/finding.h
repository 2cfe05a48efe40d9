// Findings and the verdict: plain data, the contract between rules/ and report/. Nothing here
// knows how it is printed (colour, JSON, SARIF and HTML live in report/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::rules {

enum class Severity : uint8_t { kError, kWarning, kInfo };

// "error", "warning", "info": as the JSON contract (DESIGN.md) spells them.
constexpr std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kError:
      return "error";
    case Severity::kWarning:
      return "warning";
    case Severity::kInfo:
      return "info";
  }
  return "info";
}

// Which runtimes a hazard applies to; a blocker applies to all.
enum Runtime : uint8_t { kDocker = 1, kKubernetes = 2, kPodman = 4, kAllRuntimes = 7 };

struct Finding {
  std::string rule;  // a rule id of DESIGN.md, e.g. "shebang-crlf"
  Severity severity = Severity::kError;
  std::string path;  // inside the image, absolute ("/app/entry.sh"); may be empty
  std::optional<uint32_t> layer_index;  // the layer that introduced the cause
  std::string layer_digest;
  std::string created_by;             // the history step of that layer
  std::string message;                // one sentence
  std::vector<std::string> evidence;  // the chain, one step per line
  std::string fix;
  uint8_t runtimes = kAllRuntimes;
};

struct Verdict {
  bool starts = true;
  std::optional<std::string> reason;    // the rule id that blocks start-up
  std::string predicted_error;          // what Docker would print
  std::optional<int> predicted_exit;    // 125 daemon, 126/127 runc, 1/127 inside the container
  std::vector<std::string> exec_chain;  // argv[0] resolved, interpreters, loader
};

}  // namespace coroner::rules
