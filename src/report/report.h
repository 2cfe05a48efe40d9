// Reports: the diagnosis of one image (what was run, the verdict, the findings, a few figures,
// optionally the layers and a size summary of the filesystem) rendered by one formatter per
// format: human text (text.cc, the only place with colour), the JSON contract
// "coroner/diagnosis/v1" (json.cc, docs/schema/diagnosis-v1.schema.json), SARIF 2.1.0 for
// code-scanning UIs (sarif.cc) and one self-contained HTML page (html.cc). Renderers only
// format: every decision was made in rules/.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "report/container.h"
#include "rules/finding.h"

namespace coroner::report {

enum class Format { kText, kJson, kSarif, kHtml };

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

// One layer for the HTML timeline (explore::history_rows has the same figures).
struct LayerRow {
  uint32_t index = 0;
  std::string digest;
  std::string created_by;
  uint64_t size = 0;  // uncompressed bytes of the layer stream
  uint64_t compressed_size = 0;
  uint64_t added = 0, modified = 0, deleted = 0;  // paths
  uint64_t wasted_bytes = 0;
};

// A directory of the merged filesystem with the bytes below it, for the HTML treemap. Small
// entries and deep levels are folded into one child named by `kOtherName` so the page stays
// small for big images (summarize_filesystem in filesystem.h decides the cut-off).
struct DirSize {
  std::string name;    // one path component ("" for the root)
  uint64_t bytes = 0;  // content bytes of present regular files below (hardlink groups once)
  uint64_t files = 0;  // present non-directories below
  uint32_t layer = 0;  // layer of the top version
  bool dir = false;
  bool folded = false;  // "other": several entries aggregated, or a directory cut at the depth
  std::vector<DirSize> children;  // by bytes, descending
};

struct Filesystem {
  DirSize root;
};

struct Report {
  ImageSummary image;
  rules::Verdict verdict;
  std::vector<rules::Finding> findings;  // sorted by rules::sort_findings
  Stats stats;
  std::string runtime = "docker";  // what the verdict assumed
  std::vector<std::string> notes;  // what the diagnosis could not check (text, SARIF, HTML)
  // For HTML (and nothing else): the layer timeline and the treemap. Empty when not computed.
  std::vector<LayerRow> layers;
  std::optional<Filesystem> filesystem;
  // container:X only: its exit explained and what it wrote (container.h); JSON "container".
  std::optional<ContainerSection> container;
};

struct TextOptions {
  bool color = false;  // ANSI colour: the caller decides (TTY and NO_COLOR)
  size_t width = 0;    // wrap long lines at this many columns (0: no wrapping)
  bool quiet = false;  // the verdict line alone
};

void render(const Report& report, Format format, std::ostream& out, const TextOptions& text = {});

// The JSON document of the schema "coroner/diagnosis/v1", serialised with 2-space indent.
std::string to_json(const Report& report);
void render_text(const Report& report, std::ostream& out, const TextOptions& options);
// SARIF 2.1.0: one run, the rules of rules::all_rules(), one result per finding.
std::string to_sarif(const Report& report);
// One self-contained HTML page (inline CSS and JS, a CSP that forbids every fetch).
std::string to_html(const Report& report);

// Where docs/rules.md#<id> is published (CORONER_REPO_URL at configure time).
std::string rule_help_uri(std::string_view rule_id);
std::string_view tool_version();
std::string_view repo_url();

}  // namespace coroner::report
