// File types and permission bits as ls(1) and find(1) show and take them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "scan/layer_index.h"

namespace coroner::explore {

// "drwxr-xr-x", "-rwsr-xr-x" (setuid with x), "-rwSr--r--" (without), "drwxrwxrwt" (sticky).
// A hardlink shows as a regular file.
std::string mode_string(scan::FileType type, uint32_t mode);

// find -type letter: f d l c b p s (a hardlink is 'f').
char type_letter(scan::FileType type);
std::optional<scan::FileType> type_from_letter(char c);

// "file", "directory", "symlink", ... for messages and JSON.
std::string_view type_name(scan::FileType type);

}  // namespace coroner::explore
