// Text and JSON renderings of the explore results, on stdout. Text is for people (aligned
// columns, human sizes in `layers`); JSON keeps every field, with modes as octal strings and
// times as seconds since the epoch. Bytes that are not UTF-8 in paths are replaced by U+FFFD in
// JSON (the text output writes paths as they are, like ls and find).
#pragma once

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "explore/content.h"
#include "explore/diff.h"
#include "explore/export.h"
#include "explore/grep.h"
#include "explore/layers.h"
#include "explore/listing.h"

namespace coroner::cli {

void render_ls(std::span<const explore::Listing> listings, bool long_format, bool json,
               const explore::Image& image);
void render_find(std::span<const explore::FileInfo> files, bool json);
void render_grep(std::span<const explore::GrepFile> files, const explore::GrepQuery& query,
                 bool json, const explore::Image& image);
void render_history(std::span<const explore::HistoryRow> rows, const explore::Image& image,
                    bool json, size_t width);
void render_changes(std::span<const explore::LayerChange> changes, uint32_t layer,
                    const explore::Image& image, bool json);
// cat --json: {path, resolved, size, mode, layer, layer_digest, content | content_base64}.
void render_content_json(const std::string& path, const explore::ContentTarget& target,
                         const std::string& content, const explore::Image& image);
// diff: "C /path  size,content  layer 3: created_by" lines, or JSON lines.
void render_diff(std::span<const explore::DiffEntry> entries, const explore::Image& b, bool json,
                 size_t width);
void render_export(const explore::ExportStats& stats, const std::string& where, bool json,
                   FILE* out);

// "512B", "1.23kB", "45.6MB" (decimal units, three significant digits, as docker history).
std::string human_size(uint64_t bytes);
// "2023-11-14 22:13" (UTC).
std::string format_time(int64_t seconds);

}  // namespace coroner::cli
