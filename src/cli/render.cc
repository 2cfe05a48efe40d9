#include "cli/render.h"

#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "explore/mode.h"

namespace coroner::cli {
namespace {

using nlohmann::json;

void print_json(const json& j, FILE* out = stdout) {
  std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);
  s += '\n';
  std::fwrite(s.data(), 1, s.size(), out);
}

// Names come from the image: in text output every control byte and invalid UTF-8 is escaped
// (base/text.h), so a file name cannot drive the terminal. JSON carries them as they are.
std::string shown(std::string_view s) { return escape(s, SIZE_MAX); }

// A text line of a file (grep): tabs kept, other control bytes escaped.
std::string shown_line(std::string_view s) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && s[i] != '\t') continue;
    out += escape(s.substr(start, i - start), SIZE_MAX);
    if (i < s.size()) out += '\t';
    start = i + 1;
  }
  return out;
}

std::string octal_mode(uint32_t mode) { return fmt::format("{:04o}", mode & 07777); }

std::string_view type_of(const explore::FileInfo& f) {
  return f.hardlink ? "hardlink" : explore::type_name(f.type);
}

bool is_device(const explore::FileInfo& f) {
  return f.type == scan::FileType::kCharDevice || f.type == scan::FileType::kBlockDevice;
}

// ls -l's size column: the size, or "major, minor" for a device as ls prints it.
std::string size_column(const explore::FileInfo& f) {
  return is_device(f) ? fmt::format("{}, {}", f.dev_major, f.dev_minor) : std::to_string(f.size);
}

json file_json(const explore::FileInfo& f) {
  json j = {{"path", f.path},
            {"type", type_of(f)},
            {"mode", octal_mode(f.mode)},
            {"uid", f.uid},
            {"gid", f.gid},
            {"size", f.size},
            {"mtime", f.mtime},
            {"layer", f.layer},
            {"layer_digest", f.layer_digest},
            {"link", f.link.empty() ? json(nullptr) : json(f.link)}};
  if (is_device(f)) j["rdev"] = {{"major", f.dev_major}, {"minor", f.dev_minor}};
  return j;
}

std::string owner(const std::optional<std::string>& name, uint32_t id) {
  return name ? *name : std::to_string(id);
}

void print_long(const std::vector<explore::FileInfo>& entries, const explore::Image& image) {
  size_t wu = 0, wg = 0, ws = 0;
  for (const auto& f : entries) {
    wu = std::max(wu, owner(f.user, f.uid).size());
    wg = std::max(wg, owner(f.group, f.gid).size());
    ws = std::max(ws, size_column(f).size());
  }
  for (const auto& f : entries) {
    std::string name = shown(f.name);
    if (f.type == scan::FileType::kSymlink) name += " -> " + shown(f.link);
    if (f.hardlink) name += " => " + shown(f.link);
    fmt::print("{} {:<{}} {:<{}} {:>{}} {} {:>2} {} {}\n", explore::mode_string(f.type, f.mode),
               owner(f.user, f.uid), wu, owner(f.group, f.gid), wg, size_column(f), ws,
               format_time(f.mtime), f.layer, image.short_digest(f.layer), name);
  }
}

}  // namespace

std::string human_size(uint64_t bytes) {
  if (bytes < 1000) return fmt::format("{}B", bytes);
  const char* units[] = {"kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int u = -1;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  int decimals = v < 10 ? 2 : v < 100 ? 1 : 0;
  return fmt::format("{:.{}f}{}", v, decimals, units[u]);
}

std::string format_time(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return std::to_string(seconds);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

void render_ls(std::span<const explore::Listing> listings, bool long_format, bool json_out,
               const explore::Image& image) {
  bool headers = listings.size() > 1;
  for (size_t i = 0; i < listings.size(); ++i) {
    const explore::Listing& l = listings[i];
    if (json_out) {
      for (const auto& f : l.entries) {
        json j = file_json(f);
        j["name"] = f.name;
        j["mode_string"] = explore::mode_string(f.type, f.mode);
        j["user"] = f.user ? json(*f.user) : json(nullptr);
        j["group"] = f.group ? json(*f.group) : json(nullptr);
        print_json(j);
      }
      continue;
    }
    if (headers) fmt::print("{}{}:\n", i ? "\n" : "", shown(l.dir));
    if (long_format) {
      print_long(l.entries, image);
      continue;
    }
    for (const auto& f : l.entries) fmt::print("{}\n", shown(l.is_dir ? f.name : f.path));
  }
}

void render_find(std::span<const explore::FileInfo> files, bool json_out) {
  for (const auto& f : files) {
    if (json_out) {
      print_json(file_json(f));
    } else {
      fmt::print("{}\n", shown(f.path));
    }
  }
}

void render_grep(std::span<const explore::GrepFile> files, const explore::GrepQuery& q,
                 bool json_out, const explore::Image& image) {
  for (const auto& f : files) {
    if (f.count == 0 && !q.count) continue;
    if (json_out) {
      json base = {
          {"path", f.path}, {"layer", f.layer}, {"layer_digest", image.layer_digest(f.layer)}};
      if (q.count || q.files_only) {
        if (q.count) base["count"] = f.count;
        print_json(base);
        continue;
      }
      for (const auto& [line, text] : f.lines) {
        json j = base;
        j["line"] = line;
        j["text"] = text;
        print_json(j);
      }
      continue;
    }
    if (q.files_only) {
      fmt::print("{}\n", shown(f.path));
    } else if (q.count) {
      fmt::print("{}:{}\n", shown(f.path), f.count);
    } else {
      for (const auto& [line, text] : f.lines) {
        fmt::print("{}:{}:{}\n", shown(f.path), line, shown_line(text));
      }
    }
  }
}

void render_history(std::span<const explore::HistoryRow> rows, const explore::Image& image,
                    bool json_out, size_t width) {
  if (json_out) {
    json j = {{"ref", image.info().ref},
              {"digest", image.info().digest},
              {"platform", image.info().platform},
              {"history", json::array()}};
    for (const auto& r : rows) {
      j["history"].push_back({{"layer", r.layer ? json(*r.layer) : json(nullptr)},
                              {"digest", r.digest},
                              {"created", r.created},
                              {"created_by", r.created_by},
                              {"comment", r.comment},
                              {"size", r.size},
                              {"compressed_size", r.compressed_size},
                              {"added", r.added},
                              {"modified", r.modified},
                              {"deleted", r.deleted},
                              {"wasted_bytes", r.wasted_bytes}});
    }
    print_json(j);
    return;
  }
  constexpr std::string_view kHeader =
      "LAYER  DIGEST        SIZE      ADDED  CHANGED  DELETED  WASTED    CREATED BY";
  fmt::print("{}\n", kHeader);
  for (const auto& r : rows) {
    std::string line;
    if (r.layer) {
      line = fmt::format("{:<5}  {:<12}  {:<8}  {:>5}  {:>7}  {:>7}  {:<8}  ", *r.layer,
                         image.short_digest(*r.layer), human_size(r.size), r.added, r.modified,
                         r.deleted, human_size(r.wasted_bytes));
    } else {
      line = fmt::format("{:<5}  {:<12}  {:<8}  {:>5}  {:>7}  {:>7}  {:<8}  ", "-", "-", "-", "",
                         "", "", "");
    }
    // `docker import` leaves created_by empty and says "Imported from -" in the comment.
    std::string created_by =
        r.created_by.empty() && !r.comment.empty() ? "(" + r.comment + ")" : r.created_by;
    std::replace(created_by.begin(), created_by.end(), '\n', ' ');
    created_by = shown_line(created_by);
    if (width > line.size() + 3 && line.size() + created_by.size() > width) {
      created_by = created_by.substr(0, width - line.size() - 3) + "...";
    }
    fmt::print("{}{}\n", line, created_by);
  }
}

void render_changes(std::span<const explore::LayerChange> changes, uint32_t layer,
                    const explore::Image& image, bool json_out) {
  if (json_out) {
    json j = {{"layer", layer},
              {"digest", image.layer_digest(layer)},
              {"created_by", image.created_by(layer)},
              {"changes", json::array()}};
    for (const auto& c : changes) {
      j["changes"].push_back({{"change", std::string(1, c.kind)},
                              {"path", c.path},
                              {"size", c.size},
                              {"directory", c.is_dir},
                              {"regular", c.regular}});
    }
    print_json(j);
    return;
  }
  size_t ws = 1;
  for (const auto& c : changes) ws = std::max(ws, std::to_string(c.size).size());
  for (const auto& c : changes) {
    std::string size = c.regular && c.kind != 'D' ? std::to_string(c.size) : "-";
    fmt::print("{}  {:>{}}  {}{}\n", c.kind, size, ws, shown(c.path),
               c.is_dir && c.path != "/" ? "/" : "");
  }
}

namespace {}  // namespace

void render_content_json(const std::string& path, const explore::ContentTarget& target,
                         const std::string& content, const explore::Image& image) {
  json j = {{"path", path},
            {"resolved", target.path},
            {"size", target.inode->size},
            {"mode", octal_mode(target.inode->mode)},
            {"layer", target.layer},
            {"layer_digest", image.layer_digest(target.layer)}};
  j["content"] = content;
  try {
    (void)j.dump();  // strict: throws on bytes that are not UTF-8
  } catch (const json::type_error&) {
    j.erase("content");
    j["content_base64"] = base64_encode(content);
  }
  print_json(j);
}

void render_diff(std::span<const explore::DiffEntry> entries, const explore::Image& b,
                 bool json_out, size_t width) {
  for (const explore::DiffEntry& d : entries) {
    if (json_out) {
      json j = {{"kind", std::string(1, d.kind)},
                {"path", d.path},
                {"changes", d.changes},
                {"a", d.a ? file_json(*d.a) : json(nullptr)},
                {"b", d.b ? file_json(*d.b) : json(nullptr)},
                {"layer", d.layer ? json(*d.layer) : json(nullptr)},
                {"layer_digest", d.layer ? json(b.layer_digest(*d.layer)) : json(nullptr)},
                {"created_by", d.layer ? json(b.created_by(*d.layer)) : json(nullptr)}};
      print_json(j);
      continue;
    }
    std::string line = fmt::format("{} {}", d.kind, shown(d.path));
    if (!d.changes.empty()) line += fmt::format("  {}", fmt::join(d.changes, ","));
    if (d.layer) {
      line += fmt::format("  layer {}", *d.layer);
      std::string created_by = b.created_by(*d.layer);
      std::replace(created_by.begin(), created_by.end(), '\n', ' ');
      created_by = shown_line(created_by);
      if (!created_by.empty()) {
        line += ": ";
        if (width > line.size() + 3 && line.size() + created_by.size() > width) {
          created_by = created_by.substr(0, width - line.size() - 3) + "...";
        }
        line += created_by;
      }
    }
    fmt::print("{}\n", line);
  }
}

void render_export(const explore::ExportStats& s, const std::string& where, bool json_out,
                   FILE* out) {
  if (json_out) {
    print_json({{"output", where},
                {"entries", s.entries},
                {"files", s.files},
                {"bytes", s.bytes},
                {"hardlinks", s.hardlinks},
                {"notes", s.notes}},
               out);
    return;
  }
  fmt::print(out, "exported {} entries ({} files, {} bytes, {} hardlinks) to {}\n", s.entries,
             s.files, s.bytes, s.hardlinks, where);
}

}  // namespace coroner::cli
