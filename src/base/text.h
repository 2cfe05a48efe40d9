// Text helpers: escaping hostile bytes before they reach a message or a terminal, and splitting
// config files into lines and fields.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace coroner {

// Printable ASCII and valid UTF-8 pass through; control bytes, invalid UTF-8 and backslash are
// written as C escapes (\r, \x1b, \\). Output is capped at `max` bytes with "…" appended.
std::string escape(std::string_view s, size_t max = 256);

std::vector<std::string_view> split(std::string_view s, char sep);

std::string_view trim(std::string_view s);

// `s` with A-Z turned into a-z (bytes only: no locale).
std::string ascii_lower(std::string_view s);

// RFC 4648 base64, with '=' padding.
std::string base64_encode(std::string_view in);
// Strict RFC 4648 base64 (its alphabet, '=' padding at the end only); false on anything else.
bool base64_decode(std::string_view in, std::string& out);

bool starts_with(std::string_view s, std::string_view prefix);
bool ends_with(std::string_view s, std::string_view suffix);

}  // namespace coroner
