#include "report/wrap.h"

namespace coroner::report {

// Display width of UTF-8 text: one column per code point (CJK and emoji are rare in findings).
size_t columns(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// Writes `prefix` + `body`, word-wrapped at `width` columns (0: no wrapping); continuation lines
// are indented by `indent` spaces. A word longer than a line stays whole.
void wrapped(std::ostream& out, std::string_view prefix, std::string_view body, size_t indent,
             size_t width) {
  out << prefix;
  size_t col = columns(prefix);
  if (width == 0 || col + columns(body) <= width) {
    out << body << "\n";
    return;
  }
  bool first = true;
  while (!body.empty()) {
    size_t sp = body.find(' ');
    std::string_view word = body.substr(0, sp);
    body = sp == std::string_view::npos ? std::string_view() : body.substr(sp + 1);
    size_t w = columns(word);
    if (!first && col + 1 + w > width) {
      out << "\n" << std::string(indent, ' ');
      col = indent;
      first = true;
    }
    if (!first) {
      out << ' ';
      ++col;
    }
    out << word;
    col += w;
    first = false;
  }
  out << "\n";
}

}  // namespace coroner::report
