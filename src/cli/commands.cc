#include "cli/commands.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>

#include "base/error.h"
#include "base/text.h"
#include "cli/audit.h"
#include "cli/diagnose.h"
#include "cli/ldd.h"
#include "cli/packages.h"
#include "cli/ps.h"
#include "cli/render.h"
#include "explore/content.h"
#include "explore/diff.h"
#include "explore/export.h"
#include "explore/grep.h"
#include "explore/layers.h"
#include "explore/listing.h"
#include "explore/open_image.h"
#include "fs/tree.h"

namespace coroner::cli {
namespace {

// Where created_by is cut: $COLUMNS, else the terminal's width, else not at all (a pipe).
size_t output_width() {
  if (const char* c = std::getenv("COLUMNS")) return std::strtoul(c, nullptr, 10);
  winsize ws{};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) return ws.ws_col;
  return 0;
}

void write_stdout(std::span<const std::byte> data) {
  if (std::fwrite(data.data(), 1, data.size(), stdout) != data.size()) {
    throw Error("cannot write to standard output");
  }
}

CommandResult run_help(const Request& r) {
  std::fputs(r.help.c_str(), stdout);
  return {};
}

CommandResult run_ls(const Request& r) {
  explore::ImageRequest ir = r.image;
  ir.single_pass = true;  // one pass over each layer: no temporary copy of a save stream
  auto image = explore::open_image(ir);
  auto listings = explore::list(*image, r.path, r.recursive);
  render_ls(listings, r.long_format, r.json, *image);
  return {};
}

CommandResult run_find(const Request& r) {
  explore::ImageRequest ir = r.image;
  ir.single_pass = true;  // one pass over each layer: no temporary copy of a save stream
  auto image = explore::open_image(ir);
  auto files = explore::find(*image, r.path, r.find);
  render_find(files, r.json);
  return {};
}

CommandResult run_cat(const Request& r) {
  auto image = explore::open_image(r.image);
  explore::ContentTarget target = explore::resolve_content(*image, r.path);
  if (!r.json) {
    explore::read_content(*image, target, write_stdout);
    return {};
  }
  std::string content;
  explore::read_content(*image, target, [&](std::span<const std::byte> b) {
    content.append(reinterpret_cast<const char*>(b.data()), b.size());
  });
  render_content_json(r.path, target, content, *image);
  return {};
}

CommandResult run_grep(const Request& r) {
  auto image = explore::open_image(r.image);
  auto files = explore::grep(*image, r.grep, r.paths);
  render_grep(files, r.grep, r.json, *image);
  bool any = std::any_of(files.begin(), files.end(), [](const auto& f) { return f.count > 0; });
  return {any ? 0 : 1, {}};  // as grep: 1 when nothing matched
}

CommandResult run_layers(const Request& r) {
  explore::ImageRequest ir = r.image;
  ir.single_pass = true;  // one pass over each layer: no temporary copy of a save stream
  auto image = explore::open_image(ir);
  if (r.layer) {
    uint32_t layer = explore::resolve_layer(*image, *r.layer);
    render_changes(explore::layer_change_list(*image, layer), layer, *image, r.json);
    return {};
  }
  render_history(explore::history_rows(*image), *image, r.json, r.no_trunc ? 0 : output_width());
  return {};
}

CommandResult run_export(const Request& r) {
  auto image = explore::open_image(r.image);
  bool to_stdout = r.output == "-";
  auto writer = r.dir.empty() ? explore::make_tar_writer(r.output)
                              : explore::make_dir_writer(r.dir, ::geteuid() == 0);
  explore::ExportStats stats = explore::export_root(*image, *writer);
  if (!r.layer_map.empty()) {
    std::ofstream map(r.layer_map, std::ios::binary | std::ios::trunc);
    explore::write_layer_map(*image, map);
    map.close();
    if (!map) throw Error("cannot write " + escape(r.layer_map));
  }
  render_export(stats, r.dir.empty() ? r.output : r.dir, r.json, to_stdout ? stderr : stdout);
  // What the merge decided on its own (a parent symlink followed, a hardlink skipped) shapes
  // the exported root too: say so.
  std::vector<std::string> warnings;
  for (const fs::Note& n : image->tree().notes()) {
    warnings.push_back("layer " + std::to_string(n.layer) + ": /" + escape(n.path) + ": " +
                       n.message);
  }
  warnings.insert(warnings.end(), stats.notes.begin(), stats.notes.end());
  return {0, std::move(warnings)};
}

CommandResult run_diff(const Request& r) {
  explore::ImageRequest ra = r.image, rb = r.image_b;
  ra.single_pass = rb.single_pass = true;  // digests come from the scan: no second read
  if (r.diff.content) ra.content_scanner = rb.content_scanner = explore::content_digests;
  // Both images at once: each scan is parallel over its own layers, and a small image should
  // not wait for a big one.
  auto first = std::async(std::launch::async, [&] { return explore::open_image(ra); });
  std::unique_ptr<explore::Image> b;
  try {
    b = explore::open_image(rb);
  } catch (...) {
    first.wait();
    throw;
  }
  std::unique_ptr<explore::Image> a = first.get();
  auto entries = explore::diff(*a, *b, r.diff);
  render_diff(entries, *b, r.json, output_width());
  return {entries.empty() ? 0 : 1, {}};  // as diff(1): 1 when the images differ
}

constexpr auto kCommands = std::to_array<CommandDef>({
    {Command::kHelp, "help", run_help},
    {Command::kLs, "ls", run_ls},
    {Command::kFind, "find", run_find},
    {Command::kCat, "cat", run_cat},
    {Command::kGrep, "grep", run_grep},
    {Command::kLayers, "layers", run_layers},
    {Command::kExport, "export", run_export},
    {Command::kDiagnose, "diagnose", run_diagnose},
    {Command::kAudit, "audit", run_audit},
    {Command::kLdd, "ldd", run_ldd},
    {Command::kPackages, "packages", run_packages},
    {Command::kPs, "ps", run_ps},
    {Command::kDiff, "diff", run_diff},
});

}  // namespace

CommandResult run_command(const Request& request) {
  for (const CommandDef& c : kCommands) {
    if (c.command == request.command) return c.run(request);
  }
  CORONER_CHECK(false && "command without an entry in kCommands");
  return {};
}

}  // namespace coroner::cli
