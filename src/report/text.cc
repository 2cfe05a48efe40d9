#include <sstream>
#include <string>

#include "base/text.h"
#include "report/report.h"
#include "report/wrap.h"
#include "rules/rules.h"

namespace coroner::report {
namespace {

std::string runtimes_text(uint8_t r) {
  std::string s;
  if (r & rules::kDocker) s += "docker";
  if (r & rules::kKubernetes) s += std::string(s.empty() ? "" : ", ") + "kubernetes";
  if (r & rules::kPodman) s += std::string(s.empty() ? "" : ", ") + "podman";
  return s;
}

std::string layer_text(const rules::Finding& f) {
  if (!f.layer_index) return "";
  std::string s = "layer " + std::to_string(*f.layer_index);
  if (!f.created_by.empty()) s += " (" + escape(f.created_by, 100) + ")";
  return s;
}

std::string chain_text(const std::vector<std::string>& chain) {
  std::string s;
  for (const std::string& c : chain) s += (s.empty() ? "" : " → ") + escape(c);
  return s;
}

const rules::Finding* blocker(const Report& r) {
  if (!r.verdict.reason) return nullptr;
  for (const rules::Finding& f : r.findings) {
    if (f.rule == *r.verdict.reason) return &f;
  }
  return nullptr;
}

void verdict_text(const Report& r, std::ostream& out, const TextOptions& o) {
  const char* red = o.color ? "\x1b[1;31m" : "";
  const char* green = o.color ? "\x1b[1;32m" : "";
  const char* reset = o.color ? "\x1b[0m" : "";
  const rules::Verdict& v = r.verdict;
  if (v.starts) {
    out << green << "The container starts" << reset;
    if (!v.exec_chain.empty()) out << ": " << chain_text(v.exec_chain);
    out << " (as " << (r.image.user.empty() ? "root" : escape(r.image.user)) << ", runtime "
        << r.runtime << ").\n";
    return;
  }
  const rules::Finding* f = blocker(r);
  out << red << "The container will not start" << reset;
  if (!v.predicted_error.empty()) {
    out << ": Docker prints \"" << escape(v.predicted_error, 1024) << "\"";
    if (v.predicted_exit) out << " (exit code " << *v.predicted_exit << ")";
  } else if (f) {
    out << ": " << f->message;
  }
  out << " [" << v.reason.value_or("?") << "].\n";
  if (!f) return;
  std::string line = chain_text(v.exec_chain);
  line += (line.empty() ? "" : " → ") + f->message;
  if (f->layer_index) line += " — added in " + layer_text(*f);
  if (!f->fix.empty()) line += " — fix: " + f->fix;
  wrapped(out, "  ", line, 4, o.width);
}

std::string_view plural_heading(rules::Severity s) {
  switch (s) {
    case rules::Severity::kError:
      return "errors";
    case rules::Severity::kWarning:
      return "warnings";
    case rules::Severity::kInfo:
      return "info";
  }
  return "info";
}

const char* severity_color(rules::Severity s) {
  switch (s) {
    case rules::Severity::kError:
      return "\x1b[1;31m";
    case rules::Severity::kWarning:
      return "\x1b[1;33m";
    case rules::Severity::kInfo:
      return "\x1b[1;34m";
  }
  return "";
}

size_t count_if_severity(const std::vector<rules::Finding>& fs, rules::Severity s) {
  size_t n = 0;
  for (const rules::Finding& f : fs) n += f.severity == s;
  return n;
}

void finding_text(const rules::Finding& f, std::ostream& out, const TextOptions& o) {
  std::string head = f.path.empty() ? "(image config)" : escape(f.path);
  if (f.layer_index) head += "  " + layer_text(f);
  wrapped(out, "    ", head, 6, o.width);
  wrapped(out, "      ", f.message, 6, o.width);
  for (const std::string& e : f.evidence) wrapped(out, "      · ", e, 8, o.width);
  if (f.runtimes != rules::kAllRuntimes) {
    wrapped(out, "      fails on: ", runtimes_text(f.runtimes), 8, o.width);
  }
  if (!f.fix.empty()) wrapped(out, "      fix: ", f.fix, 8, o.width);
}

// Grouped by severity, then rule (the findings are sorted so), each group with a heading.
void findings_text(const Report& r, std::ostream& out, const TextOptions& o) {
  const char* bold = o.color ? "\x1b[1m" : "";
  const char* reset = o.color ? "\x1b[0m" : "";
  const rules::Finding* prev = nullptr;
  for (const rules::Finding& f : r.findings) {
    if (!prev || prev->severity != f.severity) {
      out << "\n"
          << (o.color ? severity_color(f.severity) : "") << plural_heading(f.severity) << reset
          << " (" << count_if_severity(r.findings, f.severity) << "):\n";
    }
    if (!prev || prev->severity != f.severity || prev->rule != f.rule) {
      std::string summary;
      if (const rules::RuleInfo* info = rules::find_rule(f.rule)) summary = info->summary;
      // The escape codes take no columns: wrap the summary as if the rule id were plain.
      size_t used = 2 + f.rule.size();
      out << "  " << bold << f.rule << reset;
      wrapped(out, summary.empty() ? "" : ": ", summary, 4,
              o.width > used + 20 ? o.width - used : 0);
    }
    finding_text(f, out, o);
    prev = &f;
  }
}

}  // namespace

void render_text(const Report& r, std::ostream& out, const TextOptions& o) {
  if (o.quiet) {
    std::ostringstream v;
    verdict_text(r, v, o);
    std::string s = v.str();
    out << s.substr(0, s.find('\n') + 1);
    return;
  }
  verdict_text(r, out, o);
  if (r.container) container_text(*r.container, out, o.width);
  out << "\nimage: " << escape(r.image.ref);
  if (!r.image.platform.empty()) out << " (" << r.image.platform << ")";
  out << ", " << r.image.layers << " layers, " << r.stats.files << " files\n";
  if (r.findings.empty()) out << "no findings\n";
  findings_text(r, out, o);
  if (!r.notes.empty()) out << "\n";
  for (const std::string& n : r.notes) wrapped(out, "note: ", n, 6, o.width);
}

}  // namespace coroner::report
