// SARIF 2.1.0 (OASIS), the subset code-scanning UIs read: GitHub code scanning needs every
// result to have a physicalLocation with a non-empty artifactLocation.uri, and a stable
// partialFingerprints entry to match alerts across runs; GitLab reads the same fields.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "report/report.h"
#include "rules/rules.h"

#ifndef CORONER_VERSION
#define CORONER_VERSION "0.0.0"
#endif
#ifndef CORONER_REPO_URL
#define CORONER_REPO_URL "https://github.com/coroner/coroner"
#endif

namespace coroner::report {
namespace {

using Json = nlohmann::ordered_json;

// The base every image path is relative to: the root of the merged filesystem.
constexpr std::string_view kImageRoot = "IMAGEROOT";
// Findings about the config (USER, ENTRYPOINT, EXPOSE...) have no path in the image; they are
// located at the Dockerfile that wrote the config, relative to the checkout being scanned.
constexpr std::string_view kSrcRoot = "%SRCROOT%";
constexpr std::string_view kDockerfile = "Dockerfile";

std::string_view level_of(rules::Severity s) {
  switch (s) {
    case rules::Severity::kError:
      return "error";
    case rules::Severity::kWarning:
      return "warning";
    case rules::Severity::kInfo:
      return "note";
  }
  return "note";
}

std::string_view family_name(rules::Family f) {
  switch (f) {
    case rules::Family::kBlocker:
      return "start-up-blocker";
    case rules::Family::kHazard:
      return "start-up-hazard";
    case rules::Family::kAudit:
      return "audit";
  }
  return "audit";
}

// An absolute image path as a relative URI reference (RFC 3986): unreserved bytes and "/" stay,
// every other byte (spaces, '%', '#', '?', non-ASCII, invalid UTF-8) is percent-encoded.
std::string path_uri(std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string out;
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/';
    if (keep) {
      out += ch;
      continue;
    }
    char buf[4];
    std::snprintf(buf, sizeof buf, "%%%02X", c);
    out += buf;
  }
  return out;
}

// FNV-1a 64: stable across runs and platforms (std::hash is neither).
std::string fingerprint(const rules::Finding& f) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (std::string_view part :
       {std::string_view(f.rule), std::string_view(f.path), std::string_view(f.created_by)}) {
    for (char c : part) {
      h ^= static_cast<unsigned char>(c);
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;
    h *= 0x100000001b3ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

Json rule_json(const rules::RuleInfo& r) {
  std::string full(r.summary);
  if (!r.implemented) full += " (not checked yet: listed for its id only)";
  if (r.runtimes != rules::kAllRuntimes) full += " (depends on the runtime)";
  std::string uri = rule_help_uri(r.id);
  std::string text =
      full + "\nFix: " + std::string(r.fix.empty() ? "see the docs" : r.fix) + "\nDocs: " + uri;
  std::string md = "**" + std::string(r.id) + "**: " + full + "\n\n**Fix:** " +
                   std::string(r.fix.empty() ? "see the docs" : r.fix) + "\n\n[" +
                   std::string(r.id) + " in docs/rules.md](" + uri + ")";
  Json j;
  j["id"] = r.id;
  j["name"] = r.id;
  j["shortDescription"] = {{"text", r.summary}};
  j["fullDescription"] = {{"text", full}};
  j["help"] = {{"text", text}, {"markdown", md}};
  j["helpUri"] = uri;
  j["defaultConfiguration"] = {{"enabled", r.implemented}, {"level", level_of(r.severity)}};
  j["properties"] = {{"tags", {family_name(r.family), "containers"}},
                     {"implemented", r.implemented}};
  return j;
}

Json message(std::string_view text) { return {{"text", text}}; }

// The Dockerfile step that made the layer, as a logical location (SARIF has no notion of image
// history; the history string is all an image keeps of its Dockerfile).
Json step_location(const rules::Finding& f, int id) {
  std::string layer = "layer " + std::to_string(*f.layer_index);
  Json ll;
  ll["name"] = f.created_by.empty() ? layer : f.created_by;
  ll["fullyQualifiedName"] = layer + (f.layer_digest.empty() ? "" : " " + f.layer_digest) +
                             (f.created_by.empty() ? "" : ": " + f.created_by);
  ll["kind"] = "declaration";
  Json loc;
  loc["id"] = id;
  loc["logicalLocations"] = Json::array({ll});
  loc["message"] =
      message("added by " + layer + (f.created_by.empty() ? "" : " (" + f.created_by + ")"));
  return loc;
}

Json result_json(const rules::Finding& f, const std::span<const rules::RuleInfo> all) {
  Json j;
  j["ruleId"] = f.rule;
  for (size_t i = 0; i < all.size(); ++i) {
    if (all[i].id == f.rule) j["ruleIndex"] = i;
  }
  j["level"] = level_of(f.severity);
  std::string text = f.message;
  if (!f.fix.empty()) text += " Fix: " + f.fix;
  j["message"] = message(text);
  Json phys;
  if (f.path.empty()) {
    phys["artifactLocation"] = {{"uri", kDockerfile}, {"uriBaseId", kSrcRoot}};
  } else {
    phys["artifactLocation"] = {{"uri", path_uri(f.path)}, {"uriBaseId", kImageRoot}};
  }
  Json loc;
  loc["id"] = 0;
  loc["physicalLocation"] = phys;
  if (!f.path.empty()) {
    loc["logicalLocations"] = Json::array({{{"name", f.path}, {"kind", "resource"}}});
  }
  Json locations = Json::array({loc});
  if (f.layer_index) locations.push_back(step_location(f, 1));
  j["locations"] = locations;
  j["partialFingerprints"] = {{"coronerFinding/v1", fingerprint(f)}};
  Json props;
  props["layer_index"] = f.layer_index ? Json(*f.layer_index) : Json(nullptr);
  props["layer_digest"] = f.layer_digest;
  props["created_by"] = f.created_by;
  props["evidence"] = f.evidence;
  props["fix"] = f.fix;
  j["properties"] = props;
  return j;
}

Json run_properties(const Report& r) {
  const ImageSummary& im = r.image;
  Json v;
  v["starts"] = r.verdict.starts;
  v["reason"] = r.verdict.reason ? Json(*r.verdict.reason) : Json(nullptr);
  v["predicted_error"] = r.verdict.predicted_error;
  v["predicted_exit"] = r.verdict.predicted_exit ? Json(*r.verdict.predicted_exit) : Json(nullptr);
  v["exec_chain"] = r.verdict.exec_chain;
  v["runtime"] = r.runtime;
  Json p;
  p["image"] = {{"ref", im.ref},       {"digest", im.digest},  {"platform", im.platform},
                {"layers", im.layers}, {"user", im.user},      {"entrypoint", im.entrypoint},
                {"cmd", im.cmd},       {"workdir", im.workdir}};
  p["verdict"] = v;
  return p;
}

}  // namespace

std::string_view tool_version() { return CORONER_VERSION; }
std::string_view repo_url() { return CORONER_REPO_URL; }

std::string rule_help_uri(std::string_view rule_id) {
  return std::string(repo_url()) + "/blob/main/docs/rules.md#" + std::string(rule_id);
}

std::string to_sarif(const Report& r) {
  std::span<const rules::RuleInfo> all = rules::all_rules();
  Json driver;
  driver["name"] = "coroner";
  driver["version"] = tool_version();
  driver["semanticVersion"] = tool_version();
  driver["informationUri"] = repo_url();
  Json rule_list = Json::array();
  for (const rules::RuleInfo& info : all) rule_list.push_back(rule_json(info));
  driver["rules"] = rule_list;

  Json run;
  run["tool"] = {{"driver", driver}};
  Json notes = Json::array();
  for (const std::string& n : r.notes)
    notes.push_back({{"level", "note"}, {"message", message(n)}});
  run["invocations"] =
      Json::array({{{"executionSuccessful", true}, {"toolExecutionNotifications", notes}}});
  run["originalUriBaseIds"] = {
      {kImageRoot,
       {{"uri", "file:///"},
        {"description", message("the root of the merged filesystem of " + r.image.ref)}}},
      {kSrcRoot, {{"description", message("the checkout the image was built from")}}}};
  Json results = Json::array();
  for (const rules::Finding& f : r.findings) results.push_back(result_json(f, all));
  run["results"] = results;
  run["properties"] = run_properties(r);

  Json doc;
  doc["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  doc["version"] = "2.1.0";
  doc["runs"] = Json::array({run});
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace coroner::report
