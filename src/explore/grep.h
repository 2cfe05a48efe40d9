// grep -rn over the merged view: text files only (scan's content kind: text, script, empty)
// unless `binary`, every layer streamed once with all the files whose top version it holds. The
// pattern is a POSIX extended regular expression (regcomp/regexec, as grep -E), with a fast path
// for patterns without metacharacters (a plain substring search).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "explore/open_image.h"

namespace coroner::explore {

struct GrepQuery {
  std::string pattern;
  bool ignore_case = false;
  bool files_only = false;  // -l: stop collecting lines at the first match
  bool count = false;       // -c
  bool binary = false;      // -a: search every regular file
};

// A compiled pattern. Error for an invalid regular expression.
class Matcher {
 public:
  Matcher(std::string_view pattern, bool ignore_case);
  ~Matcher();
  Matcher(const Matcher&) = delete;
  Matcher& operator=(const Matcher&) = delete;
  bool matches(std::string_view line) const;
  bool is_literal() const { return literal_; }

 private:
  bool literal_ = false;
  bool ignore_case_ = false;
  std::string needle_;  // lower-cased with ignore_case
  struct Regex;
  std::unique_ptr<Regex> regex_;
};

struct GrepFile {
  std::string path;  // absolute
  uint32_t layer = 0;
  uint64_t count = 0;                                   // matching lines
  std::vector<std::pair<uint64_t, std::string>> lines;  // (1-based line number, text)
};

// Every searched file under `paths` (default "/"), sorted by path; files without a match are
// included (with count 0) so that -c can print them, as grep -c does.
std::vector<GrepFile> grep(const Image& image, const GrepQuery& query,
                           std::span<const std::string> paths);

}  // namespace coroner::explore
