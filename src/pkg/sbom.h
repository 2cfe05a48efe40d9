// Package URLs and SBOM documents for an Inventory: purl (github.com/package-url/purl-spec,
// pkg:deb and pkg:apk), CycloneDX 1.5 JSON and SPDX 2.3 JSON. Pure functions returning text;
// cli/ prints them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pkg/verify.h"

namespace coroner::pkg {

// "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12&upstream=glibc":
// qualifiers sorted by key, values percent-encoded; upstream only when the source differs.
std::string purl(const InstalledPackage& p, const OsRelease& os);

struct SbomSubject {
  std::string ref;                         // the image reference as given
  std::string digest;                      // image digest or "" when unknown
  std::vector<std::string> layer_digests;  // "sha256:…" per layer ("" for a folder)
  std::string created;                     // SPDX creationInfo.created ("2026-01-01T00:00:00Z")
};

std::string cyclonedx_json(const Inventory& inv, const SbomSubject& subject);
std::string spdx_json(const Inventory& inv, const SbomSubject& subject);

}  // namespace coroner::pkg
