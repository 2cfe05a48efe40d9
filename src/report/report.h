// Reports: the diagnosis of one image (what was run, the verdict, the findings, a few figures)
// rendered as human text or as the JSON contract "coroner/diagnosis/v1" (DESIGN.md). Renderers
// only format: every decision was made in rules/. SARIF and HTML plug in here later, through
// the same render() entry point.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "rules/finding.h"

namespace coroner::report {

enum class Format { kText, kJson };

// The image as the diagnosis saw it (after `docker run` overrides).
struct ImageSummary {
  std::string ref, digest, platform;
  uint64_t layers = 0;
  std::string user;
  std::vector<std::string> entrypoint, cmd;
  std::string workdir;
  std::vector<std::string> env;
};

struct Stats {
  uint64_t files = 0, bytes = 0;
  double seconds = 0;
};

struct Report {
  ImageSummary image;
  rules::Verdict verdict;
  std::vector<rules::Finding> findings;  // sorted by rules::sort_findings
  Stats stats;
  std::string runtime = "docker";  // what the verdict assumed
  std::vector<std::string> notes;  // what the diagnosis could not check (text output only)
};

struct TextOptions {
  bool color = false;
};

void render(const Report& report, Format format, std::ostream& out, const TextOptions& text = {});

// The JSON document of the schema "coroner/diagnosis/v1", serialised with 2-space indent.
std::string to_json(const Report& report);
void render_text(const Report& report, std::ostream& out, const TextOptions& options);

}  // namespace coroner::report
