#include "pkg/sbom.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/bytes.h"
#include "base/digest.h"
#include "pkg/spdx_license.h"

namespace coroner::pkg {
namespace {

// purl-spec: everything but unreserved characters is percent-encoded.
std::string pct(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string distro(const InstalledPackage& p, const OsRelease& os) {
  std::string id = !os.id.empty()               ? os.id
                   : p.manager == Manager::kApk ? "alpine"
                   : p.manager == Manager::kRpm ? "fedora"
                                                : "debian";
  return os.version_id.empty() ? id : id + "-" + os.version_id;
}

std::string spdx_id(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) || c == '.' || c == '-' ? char(c) : '-';
  return out;
}

nlohmann::json layer_properties(const InstalledPackage& p, const SbomSubject& subject) {
  nlohmann::json props = nlohmann::json::array();
  if (p.layer) {
    props.push_back({{"name", "coroner:layer_index"}, {"value", std::to_string(*p.layer)}});
    if (*p.layer < subject.layer_digests.size() && !subject.layer_digests[*p.layer].empty()) {
      props.push_back(
          {{"name", "coroner:layer_digest"}, {"value", subject.layer_digests[*p.layer]}});
    }
  }
  if (!p.ok) props.push_back({{"name", "coroner:status"}, {"value", p.status}});
  return props;
}

}  // namespace

std::string purl(const InstalledPackage& p, const OsRelease& os) {
  bool apk = p.manager == Manager::kApk, rpm = p.manager == Manager::kRpm;
  std::string ns = os.id.empty() ? (apk ? "alpine" : rpm ? "fedora" : "debian") : os.id;
  // purl-spec rpm: the version is version-release, the epoch a qualifier.
  std::string version = p.version;
  std::string epoch;
  if (size_t colon = version.find(':'); rpm && colon != std::string::npos) {
    epoch = version.substr(0, colon);
    version = version.substr(colon + 1);
  }
  std::string s = std::string("pkg:") +
                  (apk   ? "apk/"
                   : rpm ? "rpm/"
                         : "deb/") +
                  pct(ns) + "/" + pct(p.name) + "@" + pct(version);
  std::string q;
  auto add = [&](std::string_view k, std::string_view v) {
    if (v.empty()) return;
    q += (q.empty() ? "?" : "&") + std::string(k) + "=" + pct(v);
  };
  add("arch", p.arch);
  add("epoch", epoch);
  add("distro", distro(p, os));
  if (!p.source.empty() && p.source != p.name) {
    add("upstream", p.source_version.empty() || p.source_version == p.version
                        ? p.source
                        : p.source + "@" + p.source_version);
  }
  return s + q;
}

std::string cyclonedx_json(const Inventory& inv, const SbomSubject& subject) {
  nlohmann::json components = nlohmann::json::array();
  for (const InstalledPackage& p : inv.packages) {
    std::string u = purl(p, inv.os);
    nlohmann::json c = {
        {"type", "library"}, {"bom-ref", u}, {"name", p.name}, {"version", p.version}, {"purl", u}};
    // An SPDX expression only when it is one ("GPLv2+" of an older rpm is a license name).
    if (std::optional<std::string> e = spdx_expression(p.license)) {
      c["licenses"] = {{{"expression", *e}}};
    } else if (!p.license.empty()) {
      c["licenses"] = {{{"license", {{"name", p.license}}}}};
    }
    nlohmann::json props = layer_properties(p, subject);
    if (!props.empty()) c["properties"] = props;
    components.push_back(std::move(c));
  }
  nlohmann::json subject_c = {{"type", "container"}, {"name", subject.ref}};
  if (!subject.digest.empty()) subject_c["version"] = subject.digest;
  nlohmann::json doc = {
      {"bomFormat", "CycloneDX"},
      {"specVersion", "1.5"},
      {"version", 1},
      {"metadata",
       {{"tools",
         {{"components", {{{"type", "application"}, {"name", "coroner"}, {"version", "0.1.0"}}}}}},
        {"component", subject_c}}},
      {"components", components}};
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string spdx_json(const Inventory& inv, const SbomSubject& subject) {
  nlohmann::json packages = nlohmann::json::array();
  nlohmann::json relationships = nlohmann::json::array();
  std::string names;
  size_t n = 0;
  // License fields that are no SPDX expression: each becomes a LicenseRef- with its text in
  // hasExtractedLicensingInfos, as SPDX 2.3 wants (raw text -> id).
  std::map<std::string, std::string> refs;
  std::set<std::string> ref_ids;
  auto declared = [&](const std::string& license) -> std::string {
    if (license.empty()) return "NOASSERTION";
    if (std::optional<std::string> e = spdx_expression(license)) return *e;
    auto [it, added] = refs.emplace(license, "");
    if (added) {
      const std::string base = "LicenseRef-" + spdx_id(license);
      std::string id = base;
      for (int k = 2; !ref_ids.insert(id).second; ++k) id = base + "-" + std::to_string(k);
      it->second = id;
    }
    return it->second;
  };
  for (const InstalledPackage& p : inv.packages) {
    std::string_view kind = p.manager == Manager::kApk   ? "apk"
                            : p.manager == Manager::kRpm ? "rpm"
                                                         : "deb";
    std::string id =
        "SPDXRef-Package-" + std::string(kind) + "-" + spdx_id(p.name) + "-" + std::to_string(++n);
    nlohmann::json pk = {{"SPDXID", id},
                         {"name", p.name},
                         {"versionInfo", p.version},
                         {"downloadLocation", "NOASSERTION"},
                         {"filesAnalyzed", false},
                         {"licenseConcluded", "NOASSERTION"},
                         {"licenseDeclared", declared(p.license)},
                         {"copyrightText", "NOASSERTION"},
                         {"externalRefs",
                          {{{"referenceCategory", "PACKAGE-MANAGER"},
                            {"referenceType", "purl"},
                            {"referenceLocator", purl(p, inv.os)}}}}};
    if (!p.source.empty() && p.source != p.name) pk["sourceInfo"] = "built from " + p.source;
    if (p.layer) pk["comment"] = "installed by layer " + std::to_string(*p.layer);
    packages.push_back(std::move(pk));
    relationships.push_back({{"spdxElementId", "SPDXRef-DOCUMENT"},
                             {"relationshipType", "DESCRIBES"},
                             {"relatedSpdxElement", id}});
    names += p.name + "@" + p.version + "\n";
  }
  // A namespace unique to this content and reproducible for the same image.
  std::string ns = sha256_digest(as_bytes(subject.ref + "\n" + subject.digest + "\n" + names));
  nlohmann::json doc = {
      {"spdxVersion", "SPDX-2.3"},
      {"dataLicense", "CC0-1.0"},
      {"SPDXID", "SPDXRef-DOCUMENT"},
      {"name", subject.ref},
      {"documentNamespace", "https://coroner.invalid/spdx/" + ns.substr(ns.find(':') + 1)},
      {"creationInfo", {{"created", subject.created}, {"creators", {"Tool: coroner-0.1.0"}}}},
      {"packages", packages},
      {"relationships", relationships}};
  if (!refs.empty()) {
    nlohmann::json infos = nlohmann::json::array();
    for (const auto& [text, id] : refs) {
      infos.push_back({{"licenseId", id},
                       {"extractedText", text},
                       {"name", text},
                       {"comment",
                        "the license field of the package database, not an SPDX "
                        "license expression"}});
    }
    doc["hasExtractedLicensingInfos"] = infos;
  }
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace coroner::pkg
