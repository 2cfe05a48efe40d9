#include "cli/diagnose.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <span>
#include <sstream>

#include "base/error.h"
#include "base/text.h"
#include "cli/audit.h"
#include "explore/open_image.h"
#include "linux/exec.h"
#include "linux/root.h"
#include "report/container.h"
#include "report/filesystem.h"
#include "report/report.h"
#include "rules/rules.h"

namespace coroner::cli {
namespace {

// Scripts up to this size are kept by the scan so that entrypoint scripts can be followed.
constexpr uint64_t kScriptCapture = 64 * 1024;

bool fails(const std::vector<rules::Finding>& findings, std::string_view fail_on) {
  if (fail_on == "never") return false;
  rules::Severity limit =
      fail_on == "warning" ? rules::Severity::kWarning : rules::Severity::kError;
  return std::any_of(findings.begin(), findings.end(),
                     [&](const rules::Finding& f) { return f.severity <= limit; });
}

report::ImageSummary summarize(const explore::Image& image, const DiagnoseRequest& d,
                               const linux_::ExecResult& exec) {
  const image::ImageInfo& info = image.info();
  report::ImageSummary s;
  s.ref = info.ref.empty() ? d.image : info.ref;
  s.digest = info.digest;
  s.platform = info.platform;
  s.layers = info.layers.size();
  s.user = exec.user_spec;
  s.entrypoint = info.config.entrypoint;
  s.cmd = info.config.cmd;
  if (d.entrypoint) {
    s.entrypoint.clear();
    if (!d.entrypoint->empty()) s.entrypoint.push_back(*d.entrypoint);
    s.cmd.clear();
  }
  if (d.args) s.cmd = *d.args;
  s.workdir = exec.workdir;
  s.env = exec.env;
  return s;
}

std::vector<std::string> notes_of(const explore::Image& image, const linux_::ExecResult& exec) {
  std::vector<std::string> notes;
  if (!image.info().has_config) {
    notes.push_back(
        "the source has no image config (flat tar or folder): no ENTRYPOINT, CMD, "
        "USER or Env; pass --entrypoint and args to diagnose a command");
  }
  for (const std::string& n : image.info().notes) notes.push_back(n);
  for (const linux_::ExecStep& s : exec.steps) {
    if (s.path == "ld.so") notes.push_back("ld.so: " + s.what);
  }
  return notes;
}

// One stderr line, redrawn in place while the layers stream ("layers 2/5  34.1 MiB of 80.0 MiB
// 12.3 MiB/s  ETA 4s"): only on a terminal, at most every 100 ms, erased when the scan ends.
// Called from the scanning threads.
class ScanProgress {
 public:
  ~ScanProgress() { finish(); }

  void update(uint32_t layer, uint64_t bytes, std::span<const image::LayerDesc> layers) {
    std::lock_guard<std::mutex> lock(mu_);
    if (read_.size() != layers.size()) read_.assign(layers.size(), 0);
    if (layer >= read_.size()) return;
    read_[layer] = bytes;
    auto now = std::chrono::steady_clock::now();
    if (drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    uint64_t sum = 0, total = 0;
    size_t done = 0;
    bool sizes = true;
    for (size_t i = 0; i < layers.size(); ++i) {
      sum += read_[i];
      total += layers[i].size;
      sizes = sizes && layers[i].size > 0;
      done += layers[i].size > 0 && read_[i] >= layers[i].size;
    }
    double secs = std::chrono::duration<double>(now - start_).count();
    double rate = secs > 0 ? static_cast<double>(sum) / secs : 0;
    std::string line =
        sizes ? "layers " + std::to_string(done) + "/" + std::to_string(layers.size())
              : "layer " + std::to_string(layer + 1) + "/" + std::to_string(layers.size());
    line += "  " + human(static_cast<double>(sum));
    if (sizes) line += " of " + human(static_cast<double>(total));
    line += "  " + human(rate) + "/s";
    if (sizes && rate > 0 && total > sum) {
      line += "  ETA " +
              std::to_string(static_cast<uint64_t>(static_cast<double>(total - sum) / rate + 0.5)) +
              "s";
    }
    std::fprintf(stderr, "\r\x1b[K%s", line.c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

  void finish() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!drawn_) return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  static std::string human(double v) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    for (; v >= 1024 && u < 4; ++u) v /= 1024;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
  }

  std::mutex mu_;
  std::vector<uint64_t> read_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_;
  bool drawn_ = false;
};

report::Format report_format(std::string_view f) {
  if (f == "json") return report::Format::kJson;
  if (f == "sarif") return report::Format::kSarif;
  if (f == "html") return report::Format::kHtml;
  return report::Format::kText;
}

// Colour only on a terminal and without NO_COLOR (https://no-color.org: set and not empty);
// wrap to the terminal's width.
report::TextOptions text_options(const DiagnoseRequest& d) {
  report::TextOptions to;
  to.quiet = d.quiet;
  if (d.format != "text" || !d.output.empty() || !::isatty(STDOUT_FILENO)) return to;
  const char* no_color = std::getenv("NO_COLOR");
  to.color = !(no_color && *no_color);
  struct winsize ws {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40) to.width = ws.ws_col;
  return to;
}

void write_report(const std::string& s, const std::string& path) {
  if (path.empty() || path == "-") {
    std::fputs(s.c_str(), stdout);
    return;
  }
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << s;
  f.close();
  if (!f) throw Error("diagnose: -o " + escape(path) + ": cannot write the report");
}

}  // namespace

DiagnoseRequest parse_diagnose_args(const std::vector<std::string>& args) {
  DiagnoseRequest d;
  std::vector<std::string> before = args, after;
  bool dashdash = false;
  if (auto it = std::find(args.begin(), args.end(), "--"); it != args.end()) {
    before.assign(args.begin(), it);
    after.assign(it + 1, args.end());
    dashdash = true;
  }
  CLI::App app("will the container's main process start? (as `docker run IMAGE` would)",
               "coroner diagnose");
  std::string entrypoint, user, workdir;
  std::vector<std::string> rest;
  bool json = false;
  app.add_option("IMAGE", d.image, "image reference")->required();
  app.add_option("ARGS", rest, "arguments that replace CMD (also after --)");
  auto* ep = app.add_option("--entrypoint", entrypoint, "override ENTRYPOINT (\"\" clears it)");
  auto* us = app.add_option("-u,--user", user, "override USER (name|uid[:group|gid])");
  auto* wd = app.add_option("-w,--workdir", workdir, "override WORKDIR");
  app.add_option("-e,--env", d.env, "add KEY=VALUE to the environment (repeatable)");
  app.add_option("--runtime", d.runtime, "docker (default), kubernetes or podman")
      ->check(CLI::IsMember({"docker", "kubernetes", "podman"}));
  app.add_option("--kernel", d.kernel,
                 "kernel release of the host that will run it (default: this machine's uname -r)");
  app.add_option("--cpu", d.cpu,
                 "x86-64 level of that host's CPU: x86-64, x86-64-v2, -v3, -v4 (default: this "
                 "machine's)")
      ->check([](const std::string& v) {
        return rules::parse_x86_64_level(v) ? std::string() : "expected x86-64 or x86-64-v2..v4";
      });
  app.add_option("--format", d.format, "text (default), json, sarif or html")
      ->check(CLI::IsMember({"text", "json", "sarif", "html"}));
  app.add_option("-o,--output", d.output, "write the report to FILE instead of stdout");
  app.add_flag("-q,--quiet", d.quiet, "text: print the verdict line alone");
  app.add_flag("--json", json, "same as --format json");
  app.add_flag("--all", d.all, "also run the audit (secrets, modes, leftovers; `coroner audit`)");
  app.add_option("--fail-on", d.fail_on,
                 "exit 1 on findings at or above: error (default), "
                 "warning, never")
      ->check(CLI::IsMember({"error", "warning", "never"}));
  app.add_option("--platform", d.platform, "os/arch[/variant] of a multi-platform image");
  add_source_flags(app, d.source);
  app.add_option("--via", d.via, "docker-daemon: read the layers by save (default) or export")
      ->check(CLI::IsMember({"save", "export"}));
  std::vector<std::string> reversed(before.rbegin(), before.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    d.help = app.help() +
             "\nExit codes: 0 clean, 1 findings at or above --fail-on, 2 bad input or usage, 3 "
             "internal error.\n";
    return d;
  } catch (const CLI::ParseError& e) {
    throw Error("diagnose: " + escape(e.what()) + " (see `coroner diagnose --help`)");
  }
  if (ep->count()) d.entrypoint = entrypoint;
  if (us->count()) d.user = user;
  if (wd->count()) d.workdir = workdir;
  if (!d.kernel.empty() && !rules::kernel_version_code(d.kernel)) {
    throw Error("diagnose: --kernel " + escape(d.kernel) + ": expected a release like 5.10.0");
  }
  if (json) d.format = "json";
  for (const std::string& kv : d.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      throw Error("diagnose: -e " + escape(kv) + ": expected KEY=VALUE");
    }
  }
  rest.insert(rest.end(), after.begin(), after.end());
  if (!rest.empty() || dashdash) d.args = rest;
  if (d.args && d.args->empty()) d.args.reset();
  return d;
}

CommandResult run_diagnose(const Request& request) {
  DiagnoseRequest d = parse_diagnose_args(request.diagnose_args);
  if (!d.help.empty()) {
    std::fputs(d.help.c_str(), stdout);
    return {};
  }
  auto start = std::chrono::steady_clock::now();
  // Open the source, scan the layers (capturing what the simulations read), merge.
  explore::ImageRequest ir{d.image, d.platform};
  ir.via = d.via;
  d.source.apply(ir);
  ir.single_pass = !d.all;  // the audit may read content again; the diagnosis does not
  ir.capture = linux_::capture_paths;
  // container:X: also its pid files and logs, for what it wrote before it died.
  if (starts_with(d.image, "container:")) {
    ir.capture = [](std::string_view path, uint64_t size) {
      return linux_::capture_paths(path, size) || report::container_capture(path, size);
    };
  }
  ir.capture_scripts_up_to = kScriptCapture;
  ScanProgress progress;
  if (::isatty(STDERR_FILENO)) {
    ir.progress = [&progress](uint32_t layer, uint64_t bytes,
                              std::span<const image::LayerDesc> layers) {
      progress.update(layer, bytes, layers);
    };
  }
  std::unique_ptr<explore::Image> image =
      d.all ? open_image_for_audit(ir) : explore::open_image(ir);
  progress.finish();
  linux_::RootView root(image->tree(), image->layers());
  // Simulate what the daemon, runc and the kernel would do.
  // The host the image will run on (this machine unless --kernel / --cpu say otherwise).
  rules::Host host = rules::this_host();
  if (!d.kernel.empty()) host.kernel = d.kernel, host.kernel_from = "--kernel";
  if (!d.cpu.empty())
    host.x86_64_level = *rules::parse_x86_64_level(d.cpu), host.cpu_from = "--cpu";
  linux_::ExecOptions eo;
  eo.overrides = {d.entrypoint, d.user, d.workdir, d.env, d.args};
  eo.platform = image->info().platform;
  if (host.x86_64_level > 0) eo.x86_64_level = host.x86_64_level;
  linux_::ExecResult exec = linux_::simulate_exec(root, image->info().config, eo);
  // Rules: the verdict, the blockers and the hazards for the chosen runtime.
  rules::RuleOutput out =
      rules::run_rules({root, image->info(), exec, *rules::parse_runtime(d.runtime), host});
  // Render.
  report::Report rep;
  rep.image = summarize(*image, d, exec);
  rep.verdict = out.verdict;
  rep.findings = std::move(out.findings);
  if (d.all) {
    std::vector<rules::Finding> audit = audit_findings(*image);
    rep.findings.insert(rep.findings.end(), audit.begin(), audit.end());
    rules::sort_findings(rep.findings);
  }
  rep.runtime = d.runtime;
  rep.notes = notes_of(*image, exec);
  // container:X: the config above is the one the container was created with (the source
  // builds info().config from /containers/{id}/json Config); explain how it ended.
  if (const auto& c = image->info().container) {
    rep.container = report::container_section(*c, rep.verdict, root);
  }
  const fs::TreeStats& ts = image->tree().stats();
  rep.stats.files = ts.files;
  rep.stats.bytes = ts.bytes;
  rep.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::ostringstream text;
  if (d.format == "html") {
    rep.layers = report::layer_rows(*image);
    rep.filesystem = report::summarize_filesystem(image->tree());
  }
  report::render(rep, report_format(d.format), text, text_options(d));
  write_report(text.str(), d.output);
  return {fails(rep.findings, d.fail_on) ? 1 : 0, {}};
}

}  // namespace coroner::cli
