#include <string>

#include "base/text.h"
#include "report/report.h"

namespace coroner::report {
namespace {

std::string_view severity_name(rules::Severity s) {
  switch (s) {
    case rules::Severity::kError:
      return "error";
    case rules::Severity::kWarning:
      return "warning";
    case rules::Severity::kInfo:
      return "info";
  }
  return "info";
}

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
  out << "  " << line << "\n";
}

}  // namespace

void render_text(const Report& r, std::ostream& out, const TextOptions& o) {
  verdict_text(r, out, o);
  out << "\nimage: " << escape(r.image.ref);
  if (!r.image.platform.empty()) out << " (" << r.image.platform << ")";
  out << ", " << r.image.layers << " layers, " << r.stats.files << " files\n";
  if (r.findings.empty()) {
    out << "no findings\n";
  } else {
    out << "\nfindings:\n";
  }
  for (const rules::Finding& f : r.findings) {
    out << "  " << severity_name(f.severity) << "  " << f.rule;
    if (!f.path.empty()) out << "  " << escape(f.path);
    if (f.layer_index) out << "  " << layer_text(f);
    out << "\n      " << f.message << "\n";
    for (const std::string& e : f.evidence) out << "      · " << e << "\n";
    if (f.runtimes != rules::kAllRuntimes) {
      out << "      fails on: " << runtimes_text(f.runtimes) << "\n";
    }
    if (!f.fix.empty()) out << "      fix: " << f.fix << "\n";
  }
  for (const std::string& n : r.notes) out << "note: " << n << "\n";
}

}  // namespace coroner::report
