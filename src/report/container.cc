#include "report/container.h"

#include <algorithm>

#include "base/text.h"
#include "report/wrap.h"
#include "scan/layer_index.h"

namespace coroner::report {
namespace {

constexpr size_t kMaxListed = 30;   // files listed; the rest are counted
constexpr size_t kMaxEvidence = 5;  // error records quoted per log
constexpr uint64_t kMaxCapture = 1 << 20;

std::string_view base_of(std::string_view p) {
  size_t slash = p.rfind('/');
  return slash == std::string_view::npos ? p : p.substr(slash + 1);
}

bool is_core_dump(std::string_view name) {
  if (name == "core" || ends_with(name, ".core")) return true;
  if (!starts_with(name, "core.") || name.size() <= 5) return false;
  return std::all_of(name.begin() + 5, name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_log(std::string_view path) {
  return ends_with(path, ".log") || starts_with(path, "/var/log/") || starts_with(path, "var/log/");
}

bool is_lock(std::string_view name) {
  return ends_with(name, ".lock") || ends_with(name, "-lock") || name == "LOCK" || name == "lock";
}

// Order of the listing: what explains a death first.
int rank(const ContainerWrite& w) {
  if (w.kind == "core dump") return 0;
  if (w.kind == "log" && !w.evidence.empty()) return 1;
  if (w.kind == "pid file") return 2;
  if (w.kind == "lock file") return 3;
  if (w.kind == "log") return 4;
  if (w.kind == "socket") return 5;
  return 6;
}

std::optional<ContainerWrite> classify(const fs::Tree& tree, const linux_::RootView& root,
                                       char change, const std::string& path) {
  std::optional<fs::NodeId> id = tree.lookup(path);
  if (!id) return std::nullopt;  // not in the export (a mount, or gone again)
  const fs::Node& n = tree.node(*id);
  if (n.is_dir()) return std::nullopt;
  ContainerWrite w;
  w.path = path;
  w.change = change;
  w.size = n.inode->size;
  std::string_view name = base_of(path);
  if (n.inode->type == scan::FileType::kSocket) {
    w.kind = "socket";
    return w;
  }
  if (!n.is_regular()) {
    w.kind = n.is_symlink() ? "symlink" : "file";
    return w;
  }
  if (is_core_dump(name)) {
    w.kind = "core dump";
    w.detail = "the process dumped core: open it with gdb and the same binary";
    return w;
  }
  std::optional<std::string_view> text = root.content(*id);
  if (ends_with(name, ".pid")) {
    w.kind = "pid file";
    if (text) {
      std::string_view pid = trim(*text);
      if (!pid.empty() && pid.size() < 20) w.detail = "pid " + escape(pid, 20);
    }
    w.detail += std::string(w.detail.empty() ? "" : ": ") +
                "left behind: a restart of this container finds it (stale-pid-file)";
    return w;
  }
  if (is_lock(name)) {
    w.kind = "lock file";
    w.detail = "left behind: a restart of this container finds it (stale-lock-file)";
    return w;
  }
  if (is_log(path)) {
    w.kind = "log";
    if (!text || n.inode->kind == scan::ContentKind::kBinary) return w;
    size_t line = 0, errors = 0;
    std::vector<std::string> quoted;
    for (std::string_view l : split(*text, '\n')) {
      ++line;
      if (!image::is_error_line(l)) continue;
      ++errors;
      quoted.push_back(path + ":" + std::to_string(line) + ": " + escape(trim(l), 200));
      if (quoted.size() > kMaxEvidence) quoted.erase(quoted.begin());
    }
    if (errors > 0) {
      w.detail = std::to_string(errors) + " error record" + (errors == 1 ? "" : "s");
      w.evidence = std::move(quoted);
    }
    return w;
  }
  w.kind = "file";
  return w;
}

std::string prediction_text(const image::ContainerState& c, const rules::Verdict& v) {
  std::string code = std::to_string(c.exit_code);
  if (c.status == "running" || (c.status == "created" && c.error.empty())) return {};
  if (!v.starts) {
    std::string what =
        "the exec simulation predicts that it cannot start (" + v.reason.value_or("?") + ")";
    if (v.predicted_exit && *v.predicted_exit == c.exit_code) {
      return what + ", exit code " + code + ", as happened";
    }
    if (v.predicted_exit) {
      return what + " with exit code " + std::to_string(*v.predicted_exit) + "; it exited " + code;
    }
    return what + "; it exited " + code;
  }
  if (c.exit_code == 0) return "the exec simulation finds nothing that stops the start";
  return "the exec simulation finds nothing that stops the start: the process ran and failed "
         "on its own (exit code " +
         code + ")";
}

}  // namespace

bool container_capture(std::string_view path, uint64_t size) {
  if (size > kMaxCapture) return false;
  std::string_view name = base_of(path);
  return ends_with(name, ".pid") || is_lock(name) || is_log(path);
}

ContainerSection container_section(const image::ContainerState& state,
                                   const rules::Verdict& verdict, const linux_::RootView& root) {
  ContainerSection s;
  s.state = state;
  s.exit = image::explain_exit(state);
  s.prediction = prediction_text(state, verdict);
  const fs::Tree& tree = root.tree();
  std::vector<ContainerWrite> all;
  for (const auto& [kind, path] : state.changes) {
    if (kind == 'D') continue;
    if (auto w = classify(tree, root, kind, path)) all.push_back(std::move(*w));
  }
  std::stable_sort(all.begin(), all.end(), [](const ContainerWrite& a, const ContainerWrite& b) {
    int ra = rank(a), rb = rank(b);
    return ra != rb ? ra < rb : a.path < b.path;
  });
  if (all.size() > kMaxListed) {
    s.unlisted = all.size() - kMaxListed;
    all.resize(kMaxListed);
  }
  s.wrote = std::move(all);
  return s;
}

void container_text(const ContainerSection& s, std::ostream& out, size_t width) {
  const image::ContainerState& c = s.state;
  auto line = [&](std::string_view prefix, const std::string& body, size_t indent) {
    wrapped(out, prefix, body, indent, width);
  };
  std::string head = "container " + escape(c.name) + " (" + image::engine::short_id(c.id) +
                     "), image " + escape(c.image) + ": " + escape(c.status);
  if (c.status != "running" && c.status != "created")
    head += ", exit code " + std::to_string(c.exit_code);
  if (c.oom_killed) head += ", OOMKilled";
  if (c.restart_count > 0) head += ", restarted " + std::to_string(c.restart_count) + " times";
  out << "\n";
  line("", head, 2);
  if (!c.started_at.empty() && !starts_with(c.started_at, "0001-")) {
    std::string when = "started " + escape(c.started_at);
    if (!c.finished_at.empty() && !starts_with(c.finished_at, "0001-"))
      when += ", finished " + escape(c.finished_at);
    line("  ", when, 4);
  }
  line("  why it ended: ", s.exit.summary, 4);
  if (!s.exit.detail.empty()) line("    ", s.exit.detail, 4);
  if (!s.exit.log_errors.empty()) {
    bool errors = std::any_of(c.log_tail.begin(), c.log_tail.end(),
                              [](const std::string& l) { return image::is_error_line(l); });
    out << "  " << (errors ? "last error lines of its log:" : "last lines of its log:") << "\n";
    for (const std::string& l : s.exit.log_errors) line("    | ", l, 6);
  }
  if (!s.prediction.empty()) line("  ", s.prediction, 4);
  if (s.config_from_container) {
    line("  ",
         "the diagnosis uses the config the container ran with (its entrypoint, cmd, user, env "
         "and workdir), not the image's",
         4);
  }
  if (s.wrote.empty()) {
    out << "  it wrote no files (" << c.changes.size() << " changes in all)\n";
    return;
  }
  out << "  what it wrote before it died (" << s.wrote.size() + s.unlisted << " files):\n";
  for (const ContainerWrite& w : s.wrote) {
    std::string l = std::string(1, w.change) + " " + escape(w.path) + "  " + w.kind + ", " +
                    std::to_string(w.size) + " bytes";
    if (!w.detail.empty()) l += ": " + w.detail;
    line("    ", l, 8);
    for (const std::string& e : w.evidence) line("        | ", e, 10);
  }
  if (s.unlisted > 0) out << "    … and " << s.unlisted << " more files\n";
}

nlohmann::ordered_json container_json(const ContainerSection& s) {
  using oj = nlohmann::ordered_json;
  const image::ContainerState& c = s.state;
  oj j;
  j["id"] = c.id;
  j["name"] = c.name;
  j["image"] = c.image;
  j["image_id"] = c.image_id;
  j["status"] = c.status;
  j["exit_code"] = c.exit_code;
  j["error"] = c.error;
  j["oom_killed"] = c.oom_killed;
  j["restart_count"] = c.restart_count;
  j["started_at"] = c.started_at;
  j["finished_at"] = c.finished_at;
  j["signal"] = s.exit.signal ? oj(image::signal_name(*s.exit.signal)) : oj(nullptr);
  j["explanation"] = s.exit.summary;
  j["detail"] = s.exit.detail;
  j["log_errors"] = s.exit.log_errors;
  j["log_tail"] = c.log_tail;
  j["prediction"] = s.prediction;
  j["config_from_container"] = s.config_from_container;
  oj wrote = oj::array();
  for (const ContainerWrite& w : s.wrote) {
    wrote.push_back(oj{{"path", w.path},
                       {"kind", w.kind},
                       {"change", std::string(1, w.change)},
                       {"size", w.size},
                       {"detail", w.detail},
                       {"evidence", w.evidence}});
  }
  j["wrote"] = wrote;
  j["unlisted"] = s.unlisted;
  j["changes"] = c.changes.size();
  return j;
}

}  // namespace coroner::report
