// Word wrapping for the text renderings (the diagnosis report and its container section).
#pragma once

#include <cstddef>
#include <ostream>
#include <string_view>

namespace coroner::report {

// Display width of UTF-8 text: one column per code point (CJK and emoji are rare in findings).
size_t columns(std::string_view s);

// Writes `prefix` + `body`, word-wrapped at `width` columns (0: no wrapping); continuation lines
// are indented by `indent` spaces. A word longer than a line stays whole.
void wrapped(std::ostream& out, std::string_view prefix, std::string_view body, size_t indent,
             size_t width);

}  // namespace coroner::report
