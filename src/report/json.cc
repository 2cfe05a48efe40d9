#include <nlohmann/json.hpp>

#include "report/report.h"

namespace coroner::report {
namespace {

// Strings from the image are hostile bytes: nlohmann::json refuses invalid UTF-8 on dump, so
// invalid sequences are replaced (U+FFFD) rather than throwing.
nlohmann::json finding_json(const rules::Finding& f) {
  nlohmann::json j;
  j["rule"] = f.rule;
  j["severity"] = rules::severity_name(f.severity);
  j["path"] = f.path;
  j["layer_index"] = f.layer_index ? nlohmann::json(*f.layer_index) : nlohmann::json(nullptr);
  j["layer_digest"] = f.layer_digest;
  j["created_by"] = f.created_by;
  j["message"] = f.message;
  j["evidence"] = f.evidence;
  j["fix"] = f.fix;
  return j;
}

}  // namespace

std::string to_json(const Report& r) {
  nlohmann::ordered_json j;
  j["schema"] = "coroner/diagnosis/v1";
  const ImageSummary& im = r.image;
  j["image"] = {{"ref", im.ref},       {"digest", im.digest},   {"platform", im.platform},
                {"layers", im.layers}, {"user", im.user},       {"entrypoint", im.entrypoint},
                {"cmd", im.cmd},       {"workdir", im.workdir}, {"env", im.env}};
  nlohmann::ordered_json v;
  v["starts"] = r.verdict.starts;
  v["reason"] = r.verdict.reason ? nlohmann::ordered_json(*r.verdict.reason)
                                 : nlohmann::ordered_json(nullptr);
  v["predicted_error"] = r.verdict.predicted_error;
  // The exit status of `docker run` when it does not start (125 daemon, 126/127 runc, the
  // program's own code inside the container); null when it starts or is not predicted.
  v["predicted_exit"] = r.verdict.predicted_exit ? nlohmann::ordered_json(*r.verdict.predicted_exit)
                                                 : nlohmann::ordered_json(nullptr);
  v["exec_chain"] = r.verdict.exec_chain;
  j["verdict"] = v;
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const rules::Finding& f : r.findings) {
    nlohmann::json fj = finding_json(f);
    nlohmann::ordered_json o;
    for (const char* k : {"rule", "severity", "path", "layer_index", "layer_digest", "created_by",
                          "message", "evidence", "fix"}) {
      o[k] = fj[k];
    }
    findings.push_back(o);
  }
  j["findings"] = findings;
  j["stats"] = {{"files", r.stats.files}, {"bytes", r.stats.bytes}, {"seconds", r.stats.seconds}};
  if (r.container) j["container"] = container_json(*r.container);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void render(const Report& report, Format format, std::ostream& out, const TextOptions& text) {
  switch (format) {
    case Format::kJson:
      out << to_json(report) << "\n";
      return;
    case Format::kSarif:
      out << to_sarif(report) << "\n";
      return;
    case Format::kHtml:
      out << to_html(report);
      return;
    case Format::kText:
      break;
  }
  render_text(report, out, text);
}

}  // namespace coroner::report
