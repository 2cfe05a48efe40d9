#include "cli/packages.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/text.h"
#include "explore/layer_reader.h"
#include "explore/open_image.h"
#include "pkg/digest_pass.h"
#include "pkg/sbom.h"
#include "pkg/verify.h"

namespace coroner::cli {
namespace {

struct PackagesRequest {
  std::string image, platform, format = "text";
  bool verify = false, json = false;
  SourceFlags source;
  std::string help;
};

PackagesRequest parse_packages_args(const std::vector<std::string>& args) {
  PackagesRequest p;
  CLI::App app(
      "installed packages (dpkg, apk, rpm), the layer that installed each, and verification",
      "coroner packages");
  app.add_option("IMAGE", p.image, "image reference")->required();
  app.add_flag("--verify", p.verify,
               "compare package files with the image, as `dpkg --verify` / `rpm -V` do (exit 1 on "
               "findings)");
  app.add_flag("--json", p.json, "JSON output (same as --format json)");
  app.add_option("--format", p.format, "text (default), json, cyclonedx (1.5) or spdx (2.3)")
      ->check(CLI::IsMember({"text", "json", "cyclonedx", "spdx"}));
  app.add_option("--platform", p.platform, "os/arch[/variant] of a multi-platform image");
  add_source_flags(app, p.source);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    p.help = app.help() +
             "\n--verify text output is `dpkg --verify` format (\"??5?????? c /etc/x\", "
             "\"missing     /usr/bin/x\"), rpm files in `rpm -V` format (\"S.5....T.  c /etc/x\"); "
             "the layer of each finding is in --json.\n"
             "Package databases read: dpkg (var/lib/dpkg/status, status.d/), apk "
             "(lib/apk/db/installed), rpm (rpmdb.sqlite; BerkeleyDB Packages; SUSE's ndb "
             "Packages.db).\n"
             "Exit codes: 0 ok, 1 --verify found changes, 2 bad input or usage, 3 internal "
             "error.\n";
    return p;
  } catch (const CLI::ParseError& e) {
    throw Error("packages: " + escape(e.what()) + " (see `coroner packages --help`)");
  }
  if (p.json) p.format = "json";
  if (p.verify && (p.format == "cyclonedx" || p.format == "spdx")) {
    throw Error("packages: --verify goes with text or json output, not an SBOM");
  }
  return p;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string_view manager_name(pkg::Manager m) {
  return m == pkg::Manager::kApk ? "apk" : m == pkg::Manager::kRpm ? "rpm" : "dpkg";
}

nlohmann::json layer_json(const explore::Image& image, std::optional<uint32_t> layer) {
  if (!layer) return nullptr;
  return {{"index", *layer}, {"digest", image.layer_digest(*layer)}};
}

void print_table(const pkg::Inventory& inv, const explore::Image& image) {
  std::printf("%-32s %-28s %-8s %-24s %10s  %s\n", "NAME", "VERSION", "ARCH", "SOURCE", "SIZE",
              "LAYER");
  for (const pkg::InstalledPackage& p : inv.packages) {
    std::string size = p.installed_size ? std::to_string(*p.installed_size / 1024) + "K" : "-";
    std::string layer =
        p.layer ? std::to_string(*p.layer) + " " + image.short_digest(*p.layer) : "-";
    std::string name = escape(p.name) + (p.ok ? "" : " (" + p.status + ")");
    std::printf("%-32s %-28s %-8s %-24s %10s  %s\n", name.c_str(), escape(p.version).c_str(),
                escape(p.arch).c_str(), escape(p.source).c_str(), size.c_str(), layer.c_str());
  }
}

nlohmann::json inventory_json(const pkg::Inventory& inv, const explore::Image& image) {
  nlohmann::json pkgs = nlohmann::json::array();
  for (const pkg::InstalledPackage& p : inv.packages) {
    pkgs.push_back(
        {{"manager", manager_name(p.manager)},
         {"name", p.name},
         {"version", p.version},
         {"arch", p.arch},
         {"source", p.source},
         {"source_version", p.source_version},
         {"installed_size", p.installed_size ? nlohmann::json(*p.installed_size) : nullptr},
         {"status", p.status},
         {"ok", p.ok},
         {"purl", pkg::purl(p, inv.os)},
         {"layer", layer_json(image, p.layer)}});
  }
  return pkgs;
}

nlohmann::json verify_json(const pkg::VerifyReport& r, const explore::Image& image) {
  nlohmann::json findings = nlohmann::json::array();
  for (const pkg::VerifyFinding& f : r.findings) {
    findings.push_back({{"rule", f.rule()},
                        {"manager", manager_name(f.manager)},
                        {"package", f.package},
                        {"path", f.path},
                        {"conffile", f.conffile},
                        {"dpkg", f.line()},
                        {"layer", layer_json(image, f.layer)},
                        {"created_by", f.layer ? image.created_by(*f.layer) : ""}});
  }
  return {{"findings", findings},
          {"paths_checked", r.paths_checked},
          {"files_hashed", r.files_hashed},
          {"bytes_hashed", r.bytes_hashed}};
}

}  // namespace

CommandResult run_packages(const Request& request) {
  PackagesRequest p = parse_packages_args(request.packages_args);
  if (!p.help.empty()) {
    std::fputs(p.help.c_str(), stdout);
    return {};
  }
  // Open and scan, keeping the package databases whole.
  explore::ImageRequest ir{p.image, p.platform};
  p.source.apply(ir);
  ir.capture = pkg::capture_package_db;
  // The packages' digests of their files in the scan's single pass (pkg/digest_pass.h).
  if (p.verify) {
    pkg::PassHooks pass = pkg::digest_pass_hooks();
    ir.layer_scanned = std::move(pass.layer_scanned);
    ir.content_scanner = std::move(pass.content_scanner);
  }
  auto image = explore::open_image(ir);
  // Inventory from the captured databases.
  pkg::Inventory inv = pkg::inventory(image->tree(), image->layers());
  CommandResult result;
  result.warnings = inv.notes;
  if (p.format == "cyclonedx" || p.format == "spdx") {
    pkg::SbomSubject s{p.image, image->info().digest, {}, utc_now()};
    for (uint32_t i = 0; i < image->layers().size(); ++i)
      s.layer_digests.push_back(image->layer_digest(i));
    std::string doc = p.format == "spdx" ? pkg::spdx_json(inv, s) : pkg::cyclonedx_json(inv, s);
    std::fputs(doc.c_str(), stdout);
    return result;
  }
  // Verification: each layer holding package-owned content is streamed once.
  std::optional<pkg::VerifyReport> report;
  pkg::PassDigests pass(image->layers());
  if (p.verify) {
    report = pkg::verify(
        image->tree(), image->layers(),
        [&](uint32_t layer, std::span<const scan::Entry* const> entries,
            const pkg::EntryContentFn& fn) {
          explore::read_entries(image->source(), image->layers()[layer], entries, fn);
        },
        pass.known());
    result.warnings.insert(result.warnings.end(), report->notes.begin(), report->notes.end());
    if (!report->findings.empty()) result.exit_code = 1;
  }
  if (p.format == "json") {
    nlohmann::json doc = {{"schema", "coroner/packages/v1"},
                          {"image", p.image},
                          {"os", {{"id", inv.os.id}, {"version_id", inv.os.version_id}}},
                          {"packages", inventory_json(inv, *image)},
                          {"notes", result.warnings}};
    if (report) doc["verify"] = verify_json(*report, *image);
    std::puts(doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return result;
  }
  if (!report) {
    print_table(inv, *image);
    return result;
  }
  for (const pkg::VerifyFinding& f : report->findings) std::puts(escape(f.line(), 4096).c_str());
  size_t missing = 0, conf = 0;
  for (const pkg::VerifyFinding& f : report->findings) {
    missing += f.missing != pkg::Missing::kPresent;
    conf += f.conffile;
  }
  std::fprintf(stderr,
               "packages: %zu packages, %llu paths checked, %llu files hashed (%llu bytes): %zu "
               "missing, %zu changed, %zu of them conffiles\n",
               inv.packages.size(), static_cast<unsigned long long>(report->paths_checked),
               static_cast<unsigned long long>(report->files_hashed),
               static_cast<unsigned long long>(report->bytes_hashed), missing,
               report->findings.size() - missing, conf);
  return result;
}

}  // namespace coroner::cli
