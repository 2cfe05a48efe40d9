#include "pkg/dpkg.h"

#include <array>
#include <cctype>

#include "base/error.h"
#include "base/text.h"

namespace coroner::pkg {
namespace {

struct Field {
  std::string_view name;
  std::string_view first;              // the text after "Name:", trimmed
  std::vector<std::string_view> more;  // continuation lines, trimmed
  uint32_t line = 0;
};

[[noreturn]] void fail(std::string_view what, uint32_t line, const std::string& detail) {
  throw Error(std::string(what) + ": line " + std::to_string(line) + ": " + detail);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool is_hex32(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Splits `text` into lines without their "\n" (a final line without one counts too).
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  uint32_t n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    f(line, ++n);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// Calls f(fields) for every stanza (paragraphs separated by empty lines).
template <typename F>
void for_each_stanza(std::string_view text, std::string_view what, F&& f) {
  std::vector<Field> fields;
  for_each_line(text, [&](std::string_view line, uint32_t n) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      if (!fields.empty()) f(fields);
      fields.clear();
      return;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      if (fields.empty()) fail(what, n, "continuation line before any field");
      fields.back().more.push_back(trim(line));
      return;
    }
    if (line[0] == '#') return;  // deb822 comments; dpkg never writes them
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      fail(what, n, "expected \"Field: value\", got \"" + escape(line, 64) + "\"");
    }
    fields.push_back({trim(line.substr(0, colon)), trim(line.substr(colon + 1)), {}, n});
  });
  if (!fields.empty()) f(fields);
}

template <typename E, size_t N>
E word(std::string_view w, const std::array<std::string_view, N>& names, uint32_t line,
       std::string_view what) {
  for (size_t i = 0; i < N; ++i) {
    if (w == names[i]) return static_cast<E>(i);
  }
  fail("dpkg status", line, std::string(what) + " \"" + escape(w, 64) + "\" is unknown");
}

constexpr std::array<std::string_view, 5> kWant = {"unknown", "install", "hold", "deinstall",
                                                   "purge"};
constexpr std::array<std::string_view, 2> kFlag = {"ok", "reinstreq"};
constexpr std::array<std::string_view, 8> kState = {
    "not-installed",   "config-files",     "half-installed",   "unpacked",
    "half-configured", "triggers-awaited", "triggers-pending", "installed"};

void parse_status_field(DpkgPackage& p, const Field& f) {
  std::vector<std::string_view> words;
  for (std::string_view w : split(f.first, ' ')) {
    if (!w.empty()) words.push_back(w);
  }
  if (words.size() != 3) {
    fail("dpkg status", f.line, "Status needs three words, got \"" + escape(f.first, 64) + "\"");
  }
  p.want = word<Want>(words[0], kWant, f.line, "want");
  p.flag = word<EFlag>(words[1], kFlag, f.line, "flag");
  p.state = word<State>(words[2], kState, f.line, "state");
}

uint64_t parse_size(const Field& f) {
  if (f.first.empty() || f.first.size() > 19) {
    fail("dpkg status", f.line, "Installed-Size \"" + escape(f.first, 64) + "\" is not a number");
  }
  uint64_t v = 0;
  for (char c : f.first) {
    if (c < '0' || c > '9') {
      fail("dpkg status", f.line, "Installed-Size \"" + escape(f.first, 64) + "\" is not a number");
    }
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

void parse_source(DpkgPackage& p, const Field& f) {
  std::string_view v = f.first;
  size_t paren = v.find('(');
  if (paren == std::string_view::npos) {
    p.source = std::string(v);
    return;
  }
  if (v.back() != ')') fail("dpkg status", f.line, "Source: unbalanced \"(\"");
  p.source = std::string(trim(v.substr(0, paren)));
  p.source_version = std::string(trim(v.substr(paren + 1, v.size() - paren - 2)));
}

// " /etc/x <md5> [obsolete] [remove-on-upgrade]": flags come last, the path may hold spaces.
Conffile parse_conffile_line(std::string_view line, uint32_t n) {
  Conffile c;
  for (;;) {
    size_t sp = line.rfind(' ');
    if (sp == std::string_view::npos) break;
    std::string_view last = line.substr(sp + 1);
    if (last == "obsolete") {
      c.obsolete = true;
    } else if (last == "remove-on-upgrade") {
      c.remove_on_upgrade = true;
    } else {
      break;
    }
    line = trim(line.substr(0, sp));
  }
  size_t sp = line.rfind(' ');
  if (sp == std::string_view::npos) {
    fail("dpkg status", n, "Conffiles: \"" + escape(line, 64) + "\" has no digest");
  }
  c.md5 = ascii_lower(line.substr(sp + 1));
  c.path = std::string(trim(line.substr(0, sp)));
  if (c.path.empty() || c.path[0] != '/') {
    fail("dpkg status", n, "Conffiles: \"" + escape(c.path, 64) + "\" is not an absolute path");
  }
  if (!is_hex32(c.md5) && c.md5 != "newconffile") {
    fail("dpkg status", n, "Conffiles: digest \"" + escape(c.md5, 64) + "\" is not 32 hex digits");
  }
  return c;
}

DpkgPackage parse_stanza(const std::vector<Field>& fields) {
  DpkgPackage p;
  p.line = fields.front().line;
  bool has_package = false;
  for (const Field& f : fields) {
    if (iequals(f.name, "Package")) {
      p.name = std::string(f.first);
      has_package = !p.name.empty();
    } else if (iequals(f.name, "Version")) {
      p.version = std::string(f.first);
    } else if (iequals(f.name, "Architecture")) {
      p.architecture = std::string(f.first);
    } else if (iequals(f.name, "Source")) {
      parse_source(p, f);
    } else if (iequals(f.name, "Installed-Size")) {
      p.installed_size = parse_size(f);
    } else if (iequals(f.name, "Status")) {
      parse_status_field(p, f);
    } else if (iequals(f.name, "Multi-Arch")) {
      p.multi_arch = std::string(f.first);
    } else if (iequals(f.name, "Conffiles")) {
      if (!f.first.empty()) p.conffiles.push_back(parse_conffile_line(f.first, f.line));
      for (size_t i = 0; i < f.more.size(); ++i) {
        if (f.more[i].empty()) continue;
        p.conffiles.push_back(parse_conffile_line(f.more[i], f.line + 1 + i));
      }
    }
  }
  if (!has_package) fail("dpkg status", p.line, "stanza without a Package field");
  if (p.source.empty()) p.source = p.name;
  if (p.source_version.empty()) p.source_version = p.version;
  return p;
}

}  // namespace

std::string_view state_name(State s) { return kState[static_cast<size_t>(s)]; }

std::vector<DpkgPackage> parse_status(std::string_view text) {
  std::vector<DpkgPackage> out;
  for_each_stanza(text, "dpkg status",
                  [&](const std::vector<Field>& fields) { out.push_back(parse_stanza(fields)); });
  return out;
}

std::vector<std::string> parse_list(std::string_view text) {
  std::vector<std::string> out;
  for_each_line(text, [&](std::string_view line, uint32_t n) {
    if (line.empty()) return;
    if (line[0] != '/') {
      fail("dpkg list", n, "\"" + escape(line, 64) + "\" is not an absolute path");
    }
    out.emplace_back(line);
  });
  return out;
}

std::vector<Md5Entry> parse_md5sums(std::string_view text) {
  std::vector<Md5Entry> out;
  for_each_line(text, [&](std::string_view line, uint32_t n) {
    if (line.empty()) return;
    if (line.size() < 34 || !is_hex32(line.substr(0, 32)) || line[32] != ' ') {
      fail("dpkg md5sums", n,
           "expected \"<32 hex digits>  path\", got \"" + escape(line, 64) + "\"");
    }
    std::string_view path = line.substr(33);
    // md5sum(1) writes two spaces ("  ") or " *" (binary mode) before the name.
    if (!path.empty() && (path[0] == ' ' || path[0] == '*')) path.remove_prefix(1);
    while (!path.empty() && path[0] == '/') path.remove_prefix(1);
    if (path.empty()) fail("dpkg md5sums", n, "empty path");
    out.push_back({"/" + std::string(path), ascii_lower(line.substr(0, 32))});
  });
  return out;
}

std::vector<Conffile> parse_conffiles(std::string_view text) {
  std::vector<Conffile> out;
  for_each_line(text, [&](std::string_view line, uint32_t n) {
    line = trim(line);
    if (line.empty()) return;
    Conffile c;
    if (starts_with(line, "remove-on-upgrade ")) {
      c.remove_on_upgrade = true;
      line = trim(line.substr(18));
    }
    if (line.empty() || line[0] != '/') {
      fail("dpkg conffiles", n, "\"" + escape(line, 64) + "\" is not an absolute path");
    }
    c.path = std::string(line);
    out.push_back(std::move(c));
  });
  return out;
}

std::vector<Diversion> parse_diversions(std::string_view text) {
  std::vector<std::string_view> lines;
  for_each_line(text, [&](std::string_view line, uint32_t) { lines.push_back(line); });
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.size() % 3 != 0) {
    fail("dpkg diversions", static_cast<uint32_t>(lines.size()),
         "expected three lines per diversion, got " + std::to_string(lines.size()) + " lines");
  }
  std::vector<Diversion> out;
  for (size_t i = 0; i < lines.size(); i += 3) {
    if (lines[i].empty() || lines[i][0] != '/' || lines[i + 1].empty() || lines[i + 1][0] != '/') {
      fail("dpkg diversions", static_cast<uint32_t>(i + 1), "diversion paths must be absolute");
    }
    out.push_back({std::string(lines[i]), std::string(lines[i + 1]), std::string(lines[i + 2])});
  }
  return out;
}

}  // namespace coroner::pkg
