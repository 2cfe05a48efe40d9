// The command line in two steps, after ripgrep's lowargs/hiargs: CLI11 fills Options with the
// strings as typed, then make_request() validates them into a Request whose values are parsed
// (sizes, modes, dates, globs) by the explore/ functions that use them. Nothing here opens the
// image or knows what it holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "explore/diff.h"
#include "explore/grep.h"
#include "explore/listing.h"
#include "explore/open_image.h"

namespace CLI {
class App;
}

namespace coroner::cli {

// The flags of the image's source that every command opening an image has.
struct SourceFlags {
  bool insecure = false;         // --insecure: image::OpenOptions::insecure_registry
  bool no_digest_check = false;  // --no-digest-check: no ImageRequest::check_digests
  void apply(explore::ImageRequest& r) const {
    r.insecure = insecure;
    r.check_digests = !no_digest_check;
  }
};
void add_source_flags(CLI::App& app, SourceFlags& flags);

enum class Command {
  kHelp,
  kLs,
  kFind,
  kCat,
  kGrep,
  kLayers,
  kExport,
  kDiagnose,
  kLdd,
  kPs,
  kPackages,
  kAudit,
  kDiff
};

// As typed.
struct Options {
  std::string command;
  bool json = false;
  std::string platform;
  SourceFlags source;
  std::string via;  // docker-daemon: save | export
  std::string image;
  std::string pattern;                          // grep
  std::vector<std::string> paths;               // ls, find, cat: at most one; grep: any
  bool long_format = false, recursive = false;  // ls
  std::vector<std::string> names, path_globs, perms, sizes;                   // find
  std::string type, user, group, newer_than;                                  // find
  bool nouser = false, nogroup = false;                                       // find
  std::optional<int64_t> layer;                                               // find, layers
  bool ignore_case = false, files_only = false, count = false, text = false;  // grep
  bool no_trunc = false;                                                      // layers
  std::string output, dir, layer_map;                                         // export
  std::string image_b;                                                        // diff
  bool no_content = false, mtime = false;                                     // diff
};

// Validated.
struct Request {
  Command command = Command::kHelp;
  bool json = false;
  explore::ImageRequest image;
  std::string path = "/";          // ls, find, cat
  std::vector<std::string> paths;  // grep
  bool long_format = false, recursive = false;
  explore::FindQuery find;
  explore::GrepQuery grep;
  std::optional<int64_t> layer;
  bool no_trunc = false;
  std::string output, dir, layer_map;
  explore::ImageRequest image_b;  // diff: the second image
  explore::DiffOptions diff;
  std::string help;                        // the usage text, for `coroner help`
  std::vector<std::string> diagnose_args;  // diagnose parses its own flags (cli/diagnose.h)
  std::vector<std::string> audit_args;     // audit parses its own flags (cli/audit.h)
  // ldd parses its own flags (cli/ldd.h).
  std::vector<std::string> ldd_args;
  // packages parses its own flags (cli/packages.h).
  std::vector<std::string> packages_args;
};

// Throws Error (exit 2) on bad usage. `--version` and `--help` are answered through
// ParseOutcome without a Request.
struct ParseOutcome {
  std::optional<Request> request;
  std::string message;  // help or version text to print on stdout
  int exit_code = 0;    // with `message`: 0 for --help/--version, 2 for a usage error
};
ParseOutcome parse_command_line(int argc, const char* const* argv);

}  // namespace coroner::cli
