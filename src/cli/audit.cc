#include "cli/audit.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <optional>
#include <sstream>

#include "base/digest.h"
#include "base/error.h"
#include "base/stream.h"
#include "base/text.h"
#include "explore/layer_reader.h"
#include "image/ref.h"
#include "linux/root.h"
#include "pkg/digest_pass.h"
#include "pkg/verify.h"
#include "report/report.h"
#include "rules/audit_rules.h"
#include "rules/rules.h"
#include "rules/secrets.h"
#include "scan/layer_index.h"

namespace coroner::cli {
namespace {

struct AuditRequest {
  std::string image, platform, via;
  SourceFlags source;
  std::string format = "text";
  std::string fail_on = "error";
  std::string baseline, against;
  std::string help;
};

AuditRequest parse_audit_args(const std::vector<std::string>& args) {
  AuditRequest a;
  CLI::App app(
      "what is inside the image that should not be: secrets, keys, risky modes, "
      "orphan owners, leftovers, wasted space",
      "coroner audit");
  bool json = false;
  app.add_option("IMAGE", a.image, "image reference")->required();
  app.add_option("--format", a.format, "text (default), json, sarif or html")
      ->check(CLI::IsMember({"text", "json", "sarif", "html"}));
  app.add_flag("--json", json, "same as --format json");
  app.add_option("--fail-on", a.fail_on,
                 "exit 1 on findings at or above: error (default), "
                 "warning, info, never")
      ->check(CLI::IsMember({"error", "warning", "info", "never"}));
  app.add_option("--platform", a.platform, "os/arch[/variant] of a multi-platform image");
  add_source_flags(app, a.source);
  app.add_option("--via", a.via, "docker-daemon: read the layers by save (default) or export")
      ->check(CLI::IsMember({"save", "export"}));
  app.add_option("--baseline", a.baseline, "write sha256 checksums of key config files to FILE");
  app.add_option("--against", a.against, "compare key config files with a --baseline FILE");
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    a.help = app.help();
    return a;
  } catch (const CLI::ParseError& e) {
    throw Error("audit: " + escape(e.what()) + " (see `coroner audit --help`)");
  }
  if (json) a.format = "json";
  return a;
}

// Key config files whose checksums make the baseline (captured by the scan).
bool baseline_path(std::string_view p) {
  static constexpr std::string_view kExact[] = {"etc/passwd",         "etc/group",
                                                "etc/shadow",         "etc/gshadow",
                                                "etc/sudoers",        "etc/nsswitch.conf",
                                                "etc/hosts",          "etc/resolv.conf",
                                                "etc/ld.so.conf",     "etc/ld.so.preload",
                                                "etc/profile",        "etc/environment",
                                                "etc/crontab",        "etc/ssh/sshd_config",
                                                "etc/ssh/ssh_config", "etc/security/limits.conf",
                                                "etc/sysctl.conf",    "etc/pam.d/common-auth",
                                                "etc/os-release",     "etc/login.defs"};
  for (std::string_view e : kExact) {
    if (p == e) return true;
  }
  for (std::string_view d : {"etc/sudoers.d/", "etc/sysctl.d/", "etc/security/limits.d/",
                             "etc/ld.so.conf.d/", "etc/cron.d/"}) {
    if (starts_with(p, d)) return true;
  }
  return false;
}

bool capture_for_audit(std::string_view p, uint64_t size) {
  return linux_::capture_paths(p, size) || rules::audit_capture_paths(p, size) ||
         pkg::capture_package_db(p, size) || (size <= rules::kMaxAuditCapture && baseline_path(p));
}

std::map<std::string, std::string> baseline_map(std::string_view text) {
  std::map<std::string, std::string> m;
  for (std::string_view l : split(text, '\n')) {
    size_t sp = l.find("  ");
    if (l.empty() || l.front() == '#' || sp == std::string_view::npos) continue;
    m[std::string(l.substr(sp + 2))] = std::string(l.substr(0, sp));
  }
  return m;
}

bool fails(const std::vector<rules::Finding>& findings, std::string_view fail_on) {
  if (fail_on == "never") return false;
  rules::Severity limit = fail_on == "info"      ? rules::Severity::kInfo
                          : fail_on == "warning" ? rules::Severity::kWarning
                                                 : rules::Severity::kError;
  return std::any_of(findings.begin(), findings.end(),
                     [&](const rules::Finding& f) { return f.severity <= limit; });
}

report::Format format_of(std::string_view f) {
  if (f == "json") return report::Format::kJson;
  if (f == "sarif") return report::Format::kSarif;
  if (f == "html") return report::Format::kHtml;
  return report::Format::kText;
}

std::string read_file(const std::string& path) {
  auto text = read_small_file(path, 256 << 20);
  if (!text) throw Error("audit: --against " + escape(path) + ": cannot open");
  return *text;
}

}  // namespace

std::unique_ptr<explore::Image> open_image_for_audit(const explore::ImageRequest& request) {
  explore::ImageRequest r = request;
  auto other = request.capture;
  r.capture = [other](std::string_view p, uint64_t size) {
    return capture_for_audit(p, size) || (other && other(p, size));
  };
  // The secret scanner and the digests of package files (pkg/digest_pass.h: the packages'
  // digests then need no second read) run in the scan's single pass; files a finished upper
  // layer replaces are not hashed.
  pkg::PassHooks pass = pkg::digest_pass_hooks([] { return rules::make_secret_scanner(); });
  r.layer_scanned = [done = std::move(pass.layer_scanned),
                     other_done = request.layer_scanned](const scan::LayerIndex& l) {
    done(l);
    if (other_done) other_done(l);
  };
  r.content_scanner = std::move(pass.content_scanner);
  return explore::open_image(r);
}

std::vector<rules::Finding> audit_findings(const explore::Image& image,
                                           std::vector<std::string> config_drift,
                                           std::vector<std::string>* notes) {
  linux_::RootView root(image.tree(), image.layers());
  // Package verification: the digests of the scan's pass, and a re-read (each layer once) of the
  // package files it did not hash. It runs on a thread of its own while the rules that need no
  // package data run here (both only read the image; the rules read no layer again).
  pkg::PassDigests digests(image.layers());
  std::future<pkg::VerifyReport> verifying = std::async(std::launch::async, [&] {
    return pkg::verify(
        image.tree(), image.layers(),
        [&](uint32_t layer, std::span<const scan::Entry* const> entries,
            const pkg::EntryContentFn& fn) {
          explore::read_entries(image.source(), image.layers()[layer], entries, fn);
        },
        digests.known());
  });
  std::optional<pkg::VerifyReport> packages;
  rules::AuditInput in{root, image.info()};
  in.packages = [&] {
    packages = verifying.get();
    return &*packages;
  };
  in.config_drift = std::move(config_drift);
  std::vector<rules::Finding> findings = rules::run_audit(in);
  if (notes && packages)
    notes->insert(notes->end(), packages->notes.begin(), packages->notes.end());
  return findings;
}

std::string config_baseline(const explore::Image& image) {
  linux_::RootView root(image.tree(), image.layers());
  std::string out;
  image.tree().walk([&](fs::NodeId id) {
    const fs::Node& n = image.tree().node(id);
    if (!n.is_regular()) return true;
    std::string p = image.tree().path_of(id);
    if (!baseline_path(std::string_view(p).substr(1))) return true;
    std::optional<std::string_view> text = root.content(id);
    std::string sum =
        text ? sha256_digest(std::as_bytes(std::span(text->data(), text->size()))) : "not-captured";
    out += sum + "  " + p + "\n";
    return true;
  });
  return out;
}

std::vector<std::string> compare_baseline(const explore::Image& image, std::string_view baseline) {
  std::map<std::string, std::string> was = baseline_map(baseline);
  std::map<std::string, std::string> now = baseline_map(config_baseline(image));
  std::vector<std::string> diffs;
  for (const auto& [path, sum] : now) {
    auto it = was.find(path);
    if (it == was.end()) {
      diffs.push_back(path + ": new since the baseline");
    } else if (it->second != sum) {
      diffs.push_back(path + ": changed since the baseline (" + it->second.substr(0, 19) + "… -> " +
                      sum.substr(0, 19) + "…)");
    }
  }
  for (const auto& [path, sum] : was) {
    if (!now.count(path)) diffs.push_back(path + ": gone since the baseline");
  }
  return diffs;
}

CommandResult run_audit(const Request& request) {
  AuditRequest a = parse_audit_args(request.audit_args);
  if (!a.help.empty()) {
    std::fputs(a.help.c_str(), stdout);
    return {};
  }
  auto start = std::chrono::steady_clock::now();
  // Open, scan with the secret scanner, merge.
  explore::ImageRequest ir{a.image, a.platform};
  ir.via = a.via;
  a.source.apply(ir);
  std::unique_ptr<explore::Image> image = open_image_for_audit(ir);
  // The audit rules.
  report::Report rep;
  // Config checksums: write a baseline, or compare with one (drift is a finding, so the JSON
  // report keeps it, and a note in text).
  std::vector<std::string> drift;
  if (!a.against.empty()) drift = compare_baseline(*image, read_file(a.against));
  for (const std::string& d : drift) rep.notes.push_back("config drift: " + d);
  rep.findings = audit_findings(*image, drift, &rep.notes);
  if (!a.baseline.empty()) {
    std::ofstream out(a.baseline, std::ios::binary | std::ios::trunc);
    out << config_baseline(*image);
    out.close();
    if (!out) throw Error("audit: --baseline " + escape(a.baseline) + ": cannot write");
  }
  // Render.
  const image::ImageInfo& info = image->info();
  rep.image.ref = info.ref.empty() ? a.image : info.ref;
  rep.image.digest = info.digest;
  rep.image.platform = info.platform;
  rep.image.layers = info.layers.size();
  rep.image.user = info.config.user;
  rep.image.entrypoint = info.config.entrypoint;
  rep.image.cmd = info.config.cmd;
  rep.image.workdir = info.config.workdir;
  for (const std::string& n : info.notes) rep.notes.push_back(n);
  rep.stats.files = image->tree().stats().files;
  rep.stats.bytes = image->tree().stats().bytes;
  rep.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ostringstream text;
  report::TextOptions to;
  to.color = a.format == "text" && ::isatty(STDOUT_FILENO);
  report::render(rep, format_of(a.format), text, to);
  std::fputs(text.str().c_str(), stdout);
  return {fails(rep.findings, a.fail_on) ? 1 : 0, {}};
}

}  // namespace coroner::cli
