#include "cli/ldd.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/text.h"
#include "explore/open_image.h"
#include "linux/loader.h"
#include "linux/root.h"

namespace coroner::cli {
namespace {

constexpr uint16_t ET_EXEC = 2, ET_DYN = 3;

struct LddRequest {
  std::string image, platform, path;
  bool all = false, json = false;
  SourceFlags source;
  linux_::LoaderEnv env;
  std::string help;
};

LddRequest parse_ldd_args(const std::vector<std::string>& args) {
  LddRequest l;
  CLI::App app("what the image's dynamic loader would load (ld.so --list, simulated)",
               "coroner ldd");
  app.add_option("IMAGE", l.image, "image reference")->required();
  app.add_option("PATH", l.path, "ELF file inside the image (symlinks followed)");
  app.add_flag("--all", l.all, "every ELF executable and shared object, one JSON line each");
  app.add_flag("--json", l.json, "JSON output (always with --all)");
  app.add_option("--platform", l.platform, "os/arch[/variant] of a multi-platform image");
  add_source_flags(app, l.source);
  app.add_option("--ld-library-path", l.env.ld_library_path, "LD_LIBRARY_PATH to simulate");
  app.add_option("--workdir", l.env.cwd, "working directory for relative paths (default /)");
  app.add_option("--x86-64-level", l.env.x86_64_level,
                 "CPU level for glibc-hwcaps/x86-64-vN (1 = baseline, the default, .. 4)")
      ->check(CLI::Range(1, 4));
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    l.help = app.help() +
             "\nExit codes: 0 everything loads, 1 a library, version or loader is missing, 2 bad "
             "input or usage, 3 internal error.\n";
    return l;
  } catch (const CLI::ParseError& e) {
    throw Error("ldd: " + escape(e.what()) + " (see `coroner ldd --help`)");
  }
  if (l.all == !l.path.empty()) throw Error("ldd: give either PATH or --all");
  if (l.all) l.json = true;
  return l;
}

std::string_view libc_name(linux_::Libc libc) {
  switch (libc) {
    case linux_::Libc::kGlibc:
      return "glibc";
    case linux_::Libc::kMusl:
      return "musl";
    case linux_::Libc::kUnknown:
      break;
  }
  return "";
}

nlohmann::json to_json(const fs::Tree& tree, const std::string& path, const elf::ElfInfo& e,
                       const linux_::LoadResult& r) {
  nlohmann::json j;
  j["path"] = path;
  j["interp"] = r.interp ? nlohmann::json(*r.interp) : nlohmann::json(nullptr);
  j["libc"] = libc_name(r.libc);
  j["static"] = r.loaded.size() <= 1 && !r.interp && e.needed.empty();
  j["needed"] = e.needed;
  nlohmann::json loaded = nlohmann::json::array();
  nlohmann::json resolved = nlohmann::json::object();
  for (size_t i = 1; i < r.loaded.size(); ++i) {
    const linux_::LoadedObject& o = r.loaded[i];
    loaded.push_back({{"name", o.name},
                      {"path", o.path},
                      {"real", tree.path_of(o.node)},
                      {"via", o.found_via},
                      {"needed_by", o.needed_by},
                      {"also_named", o.also_named}});
    resolved[o.name] = o.path;
    for (const std::string& n : o.also_named) resolved[n] = o.path;
  }
  j["loaded"] = loaded;
  j["resolved"] = resolved;
  nlohmann::json missing = nlohmann::json::array();
  for (const linux_::MissingLibrary& m : r.missing) {
    nlohmann::json mj = {{"name", m.name}, {"needed_by", m.needed_by}, {"searched", m.searched}};
    if (m.found_elsewhere) {
      mj["found_elsewhere"] = *m.found_elsewhere;
      mj["why"] = m.found_elsewhere_why;
    }
    if (!m.error.empty()) mj["error"] = m.error;
    missing.push_back(mj);
  }
  j["missing"] = missing;
  nlohmann::json versions = nlohmann::json::array();
  for (const linux_::VersionError& v : r.version_errors) {
    versions.push_back({{"version", v.version},
                        {"file", v.file},
                        {"needed_by", v.needed_by},
                        {"provider", v.provider}});
  }
  j["version_errors"] = versions;
  if (r.interp_error) j["interp_error"] = *r.interp_error;
  j["notes"] = r.notes;
  j["ok"] = r.ok();
  return j;
}

// ld.so --list, with the reason in place of the load address.
std::string to_text(const elf::ElfInfo& e, const linux_::LoadResult& r) {
  std::string out;
  if (r.interp_error) return "\terror: " + *r.interp_error + "\n";
  if (r.loaded.size() <= 1 && r.missing.empty() && !r.interp && e.needed.empty()) {
    return "\tstatically linked\n";
  }
  for (size_t i = 1; i < r.loaded.size(); ++i) {
    const linux_::LoadedObject& o = r.loaded[i];
    if (o.name == o.path) {
      out += "\t" + o.path + " (" + o.found_via + ")\n";
    } else {
      out += "\t" + o.name + " => " + o.path + " (" + o.found_via + ")\n";
    }
  }
  for (const linux_::MissingLibrary& m : r.missing) {
    out += "\t" + m.name + " => not found";
    if (!m.error.empty()) out += ": " + m.error;
    if (m.found_elsewhere)
      out += " (on disk at " + *m.found_elsewhere + ": " + m.found_elsewhere_why + ")";
    out += "\n";
  }
  for (const linux_::VersionError& v : r.version_errors) {
    out += "\t" + v.provider + ": version `" + v.version + "' not found (required by " +
           v.needed_by + ")\n";
  }
  for (const std::string& n : r.notes) out += "\tnote: " + n + "\n";
  return out;
}

void put(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) {
    throw Error("cannot write to standard output");
  }
}

}  // namespace

CommandResult run_ldd(const Request& request) {
  LddRequest l = parse_ldd_args(request.ldd_args);
  if (!l.help.empty()) {
    put(l.help);
    return {};
  }
  // Open the source, scan the layers (capturing ld.so.cache, ld.so.conf, ld-musl-*.path), merge.
  explore::ImageRequest ir{l.image, l.platform};
  l.source.apply(ir);
  ir.capture = linux_::capture_paths;
  std::unique_ptr<explore::Image> image = explore::open_image(ir);
  const fs::Tree& tree = image->tree();
  linux_::RootView root(tree, image->layers());
  linux_::LoaderContext context(root);
  int exit_code = 0;
  auto one = [&](fs::NodeId node, const std::string& shown) {
    const scan::Facts* f = root.facts(node);
    const elf::ElfInfo& e = *f->elf;
    linux_::LoadResult r = linux_::simulate_load(context, node, l.env);
    if (!r.ok()) exit_code = 1;
    put(l.json ? to_json(tree, shown, e, r)
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                     "\n"
               : to_text(e, r));
  };
  if (!l.all) {
    fs::ResolveResult res = root.resolve(l.path);
    if (!res.ok()) throw Error("ldd: " + escape(l.path) + ": no such file in the image");
    const scan::Facts* f = root.facts(*res.node);
    if (f == nullptr || !f->elf) {
      put("\tnot a dynamic executable\n");
      return {1, {}};
    }
    one(*res.node, l.path);
    return {exit_code, {}};
  }
  // Every ELF executable or shared object, in path order.
  tree.walk([&](fs::NodeId id) {
    const fs::Node& n = tree.node(id);
    if (!n.is_regular()) return true;
    const scan::Facts* f = root.facts(id);
    if (f == nullptr || !f->elf || (f->elf->e_type != ET_EXEC && f->elf->e_type != ET_DYN)) {
      return true;
    }
    one(id, tree.path_of(id));
    return true;
  });
  return {exit_code, {}};
}

}  // namespace coroner::cli
