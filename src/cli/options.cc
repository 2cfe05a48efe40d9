#include "cli/options.h"

#include <CLI/CLI.hpp>

#include <array>
#include <string_view>

#include "base/error.h"
#include "base/text.h"
#include "explore/filters.h"
#include "explore/mode.h"

namespace coroner::cli {
namespace {

constexpr std::string_view kVersion = "coroner 0.1.0";

// find(1) spells its tests with one dash ("-name"); CLI11 wants two. The primaries are
// rewritten before parsing, only in option position (not as the value of the previous one).
struct Primary {
  std::string_view name;
  bool takes_value;
};
constexpr std::array<Primary, 11> kFindPrimaries{{
    {"-name", true},
    {"-path", true},
    {"-type", true},
    {"-perm", true},
    {"-user", true},
    {"-group", true},
    {"-nouser", false},
    {"-nogroup", false},
    {"-size", true},
    {"-newer-than", true},
    {"-layer", true},
}};

std::vector<std::string> lower_args(int argc, const char* const* argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] != "find") return args;
  for (size_t i = 1; i < args.size(); ++i) {
    for (const Primary& p : kFindPrimaries) {
      if (args[i] != p.name) continue;
      args[i] = "-" + args[i];
      if (p.takes_value) ++i;
      break;
    }
  }
  return args;
}

void add_common(CLI::App& cmd, Options& o) {
  cmd.add_flag("--json", o.json, "JSON output (see `coroner help`)");
  cmd.add_option("--platform", o.platform, "os/arch[/variant] to pick from a multi-platform image");
  cmd.add_option("--via", o.via, "docker-daemon: read the layers by save (default) or export")
      ->check(CLI::IsMember({"save", "export"}));
  add_source_flags(cmd, o.source);
}

void configure(CLI::App& app, Options& o) {
  auto* ls = app.add_subcommand("ls", "list a directory, with the layer that wrote each entry");
  add_common(*ls, o);
  ls->add_option("IMAGE", o.image, "image reference")->required();
  ls->add_option("PATH", o.paths, "path inside the image (default /)")->expected(0, 1);
  ls->add_flag("-l", o.long_format, "long format: mode, owner, size, mtime, layer");
  ls->add_flag("-R", o.recursive, "list subdirectories recursively");

  auto* find = app.add_subcommand("find", "search files like find(1); tests are ANDed");
  add_common(*find, o);
  find->add_option("IMAGE", o.image, "image reference")->required();
  find->add_option("PATH", o.paths, "where to start (default /)")->expected(0, 1);
  find->add_option("--name", o.names, "-name GLOB: basename matches (fnmatch)");
  find->add_option("--path", o.path_globs, "-path GLOB: absolute path matches");
  find->add_option("--type", o.type, "-type f|d|l|c|b|p|s");
  find->add_option("--perm", o.perms, "-perm MODE | -MODE | /MODE (octal or u+s,g=rx...)");
  find->add_option("--user", o.user, "-user NAME|UID (the image's /etc/passwd)");
  find->add_option("--group", o.group, "-group NAME|GID (the image's /etc/group)");
  find->add_flag("--nouser", o.nouser, "-nouser: uid not in the image's /etc/passwd");
  find->add_flag("--nogroup", o.nogroup, "-nogroup: gid not in the image's /etc/group");
  find->add_option("--size", o.sizes, "-size [+-]N[cwbkMG], rounded up as find(1) does");
  find->add_option("--newer-than", o.newer_than, "-newer-than DATE (ISO 8601, UTC)");
  find->add_option("--layer", o.layer, "-layer N: top version from layer N (-1: top layer)");

  auto* cat = app.add_subcommand("cat", "print a file (symlinks followed inside the image)");
  add_common(*cat, o);
  cat->add_option("IMAGE", o.image, "image reference")->required();
  cat->add_option("PATH", o.paths, "file inside the image")->required()->expected(1);

  auto* grep = app.add_subcommand("grep", "search text files like grep -rn (POSIX ERE)");
  add_common(*grep, o);
  grep->add_option("PATTERN", o.pattern, "extended regular expression")->required();
  grep->add_option("IMAGE", o.image, "image reference")->required();
  grep->add_option("PATH", o.paths, "paths inside the image (default /)");
  grep->add_flag("-i", o.ignore_case, "ignore case");
  grep->add_flag("-l", o.files_only, "print only the names of files with a match");
  grep->add_flag("-c", o.count, "print the number of matching lines per file");
  grep->add_flag("-a", o.text, "search binary files too");

  auto* layers = app.add_subcommand("layers", "history aligned with layers, and layer changes");
  add_common(*layers, o);
  layers->add_option("IMAGE", o.image, "image reference")->required();
  layers->add_option("--layer", o.layer, "list the changes of layer N (-1: top)");
  layers->add_flag("--no-trunc", o.no_trunc, "do not truncate created_by");

  auto* exp = app.add_subcommand("export", "write the merged root as a tar or a directory");
  add_common(*exp, o);
  exp->add_option("IMAGE", o.image, "image reference")->required();
  auto* out = exp->add_option("-o,--output", o.output, "tar file to write (- for stdout)");
  auto* dir = exp->add_option("--dir", o.dir, "directory to create the files in (new or empty)");
  out->excludes(dir);
  exp->add_option("--layer-map", o.layer_map,
                  "also write path<TAB>layer<TAB>digest<TAB>created_by");

  auto* diff = app.add_subcommand(
      "diff", "what changed between two images: A added, C changed, D deleted, with the layer");
  add_common(*diff, o);
  diff->add_option("IMAGE", o.image, "the first image (before)")->required();
  diff->add_option("IMAGE2", o.image_b, "the second image (after)")->required();
  diff->add_option("PATH", o.paths, "compare only below this path (default /)")->expected(0, 1);
  diff->add_flag("--no-content", o.no_content,
                 "compare metadata and sizes only, not content digests (faster)");
  diff->add_flag("--mtime", o.mtime, "also report files whose mtime alone changed");

  app.add_subcommand("diagnose", "will the container start? (see `coroner diagnose --help`)");
  app.add_subcommand("audit", "secrets, keys, risky modes, leftovers (see `coroner audit --help`)");
  app.add_subcommand("ldd", "what the dynamic loader would load (see `coroner ldd --help`)");
  app.add_subcommand("packages",
                     "installed packages, SBOM, dpkg --verify (see `coroner packages --help`)");
  auto* ps = app.add_subcommand("ps", "Docker containers that died or keep restarting, and why");
  ps->add_flag("--json", o.json, "JSON output");
  ps->add_option("CONTAINER", o.image, "one container: its state, last log lines, changes");

  app.add_subcommand("help", "show this help");
  app.require_subcommand(1);
}

std::string help_text(CLI::App& app) {
  std::string text = app.help();
  text +=
      "\nIMAGE: docker-archive:PATH, oci:DIR[:REF], oci-archive:PATH[:REF], "
      "docker://HOST/NAME[:TAG|@DIGEST], docker-daemon:NAME[:TAG], container:ID, tar:PATH, -, "
      "rootfs:DIR, or a bare path (sniffed).\n"
      "--json: ls, find, grep and diff print one JSON object per line; cat, layers and export "
      "print "
      "one JSON document.\n"
      "Exit codes: 0 ok, 1 findings (grep: no match; diff: differences), 2 bad input or usage, 3 "
      "internal error.\n";
  return text;
}

void require_value(const Options& o, bool cond, std::string_view what) {
  if (!cond) throw Error(o.command + ": " + std::string(what));
}

explore::FindQuery make_find_query(const Options& o) {
  explore::FindQuery q;
  explore::FindFilter& f = q.filter;
  f.names = o.names;
  f.paths = o.path_globs;
  if (!o.type.empty()) {
    auto t = o.type.size() == 1 ? explore::type_from_letter(o.type[0]) : std::nullopt;
    if (!t) throw Error("find: -type " + escape(o.type) + ": expected one of f d l c b p s");
    f.type = t;
  }
  for (const std::string& p : o.perms) f.perms.push_back(explore::parse_perm_test(p));
  for (const std::string& s : o.sizes) f.sizes.push_back(explore::parse_size_test(s));
  if (!o.newer_than.empty()) f.newer_than = explore::parse_utc_date(o.newer_than);
  f.nouser = o.nouser;
  f.nogroup = o.nogroup;
  if (!o.user.empty()) q.user = o.user;
  if (!o.group.empty()) q.group = o.group;
  q.layer = o.layer;
  return q;
}

// lowargs -> hiargs: every string becomes a checked value.
Request make_request(const Options& o) {
  Request r;
  r.json = o.json;
  r.image = {o.image, o.platform};
  r.image.via = o.via;
  o.source.apply(r.image);
  if (!o.paths.empty()) r.path = o.paths[0];
  r.paths = o.paths;
  r.long_format = o.long_format;
  r.recursive = o.recursive;
  r.layer = o.layer;
  r.no_trunc = o.no_trunc;
  r.output = o.output;
  r.dir = o.dir;
  r.layer_map = o.layer_map;
  if (o.command == "ls") r.command = Command::kLs;
  if (o.command == "cat") r.command = Command::kCat;
  if (o.command == "ps") r.command = Command::kPs;
  if (o.command == "layers") r.command = Command::kLayers;
  if (o.command == "find") {
    r.command = Command::kFind;
    r.find = make_find_query(o);
  }
  if (o.command == "grep") {
    r.command = Command::kGrep;
    r.grep = {o.pattern, o.ignore_case, o.files_only, o.count, o.text};
    require_value(o, !(o.files_only && o.count), "-l and -c exclude each other");
  }
  if (o.command == "diff") {
    r.command = Command::kDiff;
    r.image_b = {o.image_b, o.platform};
    r.image_b.via = o.via;
    o.source.apply(r.image_b);
    r.diff.path = r.path;
    r.diff.content = !o.no_content;
    r.diff.mtime = o.mtime;
  }
  if (o.command == "export") {
    r.command = Command::kExport;
    require_value(o, !o.output.empty() || !o.dir.empty(), "one of -o FILE or --dir DIR is needed");
  }
  return r;
}

}  // namespace

void add_source_flags(CLI::App& app, SourceFlags& flags) {
  app.add_flag("--insecure", flags.insecure,
               "docker://: allow http and unverified TLS (loopback registries always are)");
  app.add_flag("--no-digest-check", flags.no_digest_check,
               "do not check layers against their digests (the SHA-256 of each blob and of its "
               "uncompressed tar): faster, for an image you made yourself");
}

ParseOutcome parse_command_line(int argc, const char* const* argv) {
  CLI::App app("coroner: examine container images without running them", "coroner");
  app.set_version_flag("--version", std::string(kVersion));
  Options o;
  configure(app, o);
  const std::string help = help_text(app);  // before parsing: afterwards it is the subcommand's
  std::vector<std::string> args = lower_args(argc, argv);
  // diagnose mirrors `docker run` flags and takes "-- ARGS": it parses its own (cli/diagnose.h).
  if (!args.empty() && args[0] == "diagnose") {
    Request r;
    r.command = Command::kDiagnose;
    r.diagnose_args.assign(args.begin() + 1, args.end());
    return {std::move(r), "", 0};
  }
  if (!args.empty() && args[0] == "packages") {
    Request r;
    r.command = Command::kPackages;
    r.packages_args.assign(args.begin() + 1, args.end());
    return {std::move(r), "", 0};
  }
  if (!args.empty() && args[0] == "audit") {
    Request r;
    r.command = Command::kAudit;
    r.audit_args.assign(args.begin() + 1, args.end());
    return {std::move(r), "", 0};
  }
  if (!args.empty() && args[0] == "ldd") {
    Request r;
    r.command = Command::kLdd;
    r.ldd_args.assign(args.begin() + 1, args.end());
    return {std::move(r), "", 0};
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
  try {
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    auto subs = app.get_subcommands();
    return {std::nullopt, subs.empty() ? help : subs.front()->help(), 0};
  } catch (const CLI::CallForVersion&) {
    return {std::nullopt, std::string(kVersion) + "\n", 0};
  } catch (const CLI::ParseError& e) {
    if (argc <= 1) return {std::nullopt, help, 2};
    throw Error(escape(e.what()) + " (see `coroner help`)");
  }
  CLI::App* sub = app.get_subcommands().front();
  o.command = sub->get_name();
  if (o.command == "help") {
    Request r;
    r.command = Command::kHelp;
    r.help = help;
    return {std::move(r), "", 0};
  }
  return {make_request(o), "", 0};
}

}  // namespace coroner::cli
