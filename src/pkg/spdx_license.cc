#include "pkg/spdx_license.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/text.h"

namespace coroner::pkg {
namespace {

constexpr std::string_view kIdsText =
#include "spdx_license_ids.inc"
    ;

// Lower-cased identifier -> as the list writes it.
const std::unordered_map<std::string, std::string_view>& known_ids() {
  static const auto* ids = [] {
    auto* m = new std::unordered_map<std::string, std::string_view>;
    std::string_view rest = kIdsText;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line[0] != '#') m->emplace(ascii_lower(line), line);
    }
    return m;
  }();
  return *ids;
}

bool idstring_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
}

// Recursive descent over the tokens; writes the canonical form to `out`.
class Parser {
 public:
  explicit Parser(std::vector<std::string> tokens) : t_(std::move(tokens)) {}

  std::optional<std::string> parse() {
    std::optional<std::string> e = chain(0, true);
    if (!e || i_ != t_.size()) return std::nullopt;
    return e;
  }

 private:
  bool is(std::string_view word) const { return i_ < t_.size() && ascii_lower(t_[i_]) == word; }

  // OR over AND over primaries: left (OP right)*.
  std::optional<std::string> chain(int depth, bool is_or) {
    auto operand = [&] { return is_or ? chain(depth, false) : primary(depth); };
    std::optional<std::string> left = operand();
    while (left && is(is_or ? "or" : "and")) {
      ++i_;
      std::optional<std::string> right = operand();
      if (!right) return std::nullopt;
      *left += (is_or ? " OR " : " AND ") + *right;
    }
    return left;
  }

  std::optional<std::string> primary(int depth) {
    if (i_ >= t_.size() || depth > 32) return std::nullopt;
    if (t_[i_] == "(") {
      ++i_;
      std::optional<std::string> e = chain(depth + 1, true);
      if (!e || i_ >= t_.size() || t_[i_] != ")") return std::nullopt;
      ++i_;
      return "(" + *e + ")";
    }
    std::optional<std::string> id = license(t_[i_]);
    if (!id) return std::nullopt;
    ++i_;
    if (is("with")) {
      ++i_;
      if (i_ >= t_.size()) return std::nullopt;
      std::optional<std::string> exception = license(t_[i_]);
      if (!exception || exception->back() == '+') return std::nullopt;
      ++i_;
      *id += " WITH " + *exception;
    }
    return id;
  }

  // An identifier of the list (maybe with "+"), or a LicenseRef / DocumentRef reference.
  static std::optional<std::string> license(std::string_view tok) {
    std::string l = ascii_lower(tok);
    if (l == "and" || l == "or" || l == "with" || tok == "(" || tok == ")") return std::nullopt;
    if (l.starts_with("licenseref-") || l.starts_with("documentref-")) {
      return std::all_of(tok.begin(), tok.end(),
                         [](char c) { return idstring_char(c) || c == ':'; })
                 ? std::optional<std::string>(tok)
                 : std::nullopt;
    }
    bool plus = !tok.empty() && tok.back() == '+';
    if (plus) l.pop_back();
    auto it = known_ids().find(l);
    if (it == known_ids().end()) return std::nullopt;
    return std::string(it->second) + (plus ? "+" : "");
  }

  std::vector<std::string> t_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::string> spdx_expression(std::string_view text) {
  if (text.size() > 4096) return std::nullopt;
  std::vector<std::string> tokens;
  std::string cur;
  auto flush = [&] {
    if (!cur.empty()) tokens.push_back(std::move(cur));
    cur.clear();
  };
  for (char c : text) {
    if (c == ' ' || c == '\t') {
      flush();
    } else if (c == '(' || c == ')') {
      flush();
      tokens.emplace_back(1, c);
    } else if (idstring_char(c) || c == '+' || c == ':') {
      cur += c;
    } else {
      return std::nullopt;
    }
  }
  flush();
  if (tokens.empty()) return std::nullopt;
  return Parser(std::move(tokens)).parse();
}

}  // namespace coroner::pkg
