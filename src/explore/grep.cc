#include "explore/grep.h"

#include <regex.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "base/bytes.h"
#include "base/error.h"
#include "base/text.h"
#include "explore/layer_reader.h"
#include "explore/listing.h"
#include "fs/tree.h"

namespace coroner::explore {
namespace {

constexpr std::string_view kEreMeta = ".[]()*+?{}|^$\\";

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool searchable(const scan::Entry& inode, bool binary) {
  if (inode.type != scan::FileType::kRegular) return false;
  if (binary) return true;
  return inode.kind == scan::ContentKind::kText || inode.kind == scan::ContentKind::kScript ||
         inode.kind == scan::ContentKind::kEmpty;
}

// Splits a stream into lines and feeds the matcher, keeping what the query wants.
class LineScanner {
 public:
  LineScanner(const Matcher& m, const GrepQuery& q, GrepFile& out) : m_(m), q_(q), out_(out) {}
  void feed(std::string_view chunk) {
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        partial_.append(chunk);
        return;
      }
      if (partial_.empty()) {
        line(chunk.substr(0, nl));
      } else {
        partial_.append(chunk.substr(0, nl));
        line(partial_);
        partial_.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  void finish() {
    if (!partial_.empty()) line(partial_);
  }

 private:
  void line(std::string_view text) {
    ++number_;
    if (q_.files_only && out_.count > 0) return;
    if (!m_.matches(text)) return;
    ++out_.count;
    if (!q_.files_only && !q_.count) out_.lines.emplace_back(number_, std::string(text));
  }

  const Matcher& m_;
  const GrepQuery& q_;
  GrepFile& out_;
  std::string partial_;
  uint64_t number_ = 0;
};

}  // namespace

struct Matcher::Regex {
  regex_t re;
  ~Regex() { regfree(&re); }
};

Matcher::Matcher(std::string_view pattern, bool ignore_case) : ignore_case_(ignore_case) {
  literal_ = pattern.find_first_of(kEreMeta) == std::string_view::npos;
  if (literal_) {
    needle_ = pattern;
    if (ignore_case) std::transform(needle_.begin(), needle_.end(), needle_.begin(), lower);
    return;
  }
  regex_ = std::make_unique<Regex>();
  int flags = REG_EXTENDED | REG_NOSUB | (ignore_case ? REG_ICASE : 0);
  std::string p(pattern);
  if (int rc = regcomp(&regex_->re, p.c_str(), flags); rc != 0) {
    char msg[256];
    regerror(rc, &regex_->re, msg, sizeof msg);
    regex_.reset();  // regcomp failed: nothing to free
    throw Error("grep: pattern " + escape(pattern) + ": " + msg);
  }
}

Matcher::~Matcher() = default;

bool Matcher::matches(std::string_view line) const {
  if (literal_) {
    if (!ignore_case_) return line.find(needle_) != std::string_view::npos;
    auto it = std::search(line.begin(), line.end(), needle_.begin(), needle_.end(),
                          [](char a, char b) { return lower(a) == b; });
    return it != line.end() || needle_.empty();
  }
  // regexec needs a NUL-terminated string; a NUL inside a line (-a) ends it, as in grep -a on
  // glibc's regex.
  std::string s(line);
  return regexec(&regex_->re, s.c_str(), 0, nullptr, 0) == 0;
}

std::vector<GrepFile> grep(const Image& image, const GrepQuery& query,
                           std::span<const std::string> paths) {
  Matcher matcher(query.pattern, query.ignore_case);
  const fs::Tree& tree = image.tree();
  std::vector<std::string> roots(paths.begin(), paths.end());
  if (roots.empty()) roots.push_back("/");

  // Collect the files, each path once.
  std::set<fs::NodeId> seen;
  std::vector<GrepFile> files;
  std::map<uint32_t, std::map<const scan::Entry*, std::vector<size_t>>> by_layer;
  for (const std::string& root : roots) {
    fs::NodeId from = resolve_or_throw(image, root, /*follow_last=*/true);
    tree.walk(
        [&](fs::NodeId id) {
          const fs::Node& n = tree.node(id);
          if (!seen.insert(id).second || !searchable(*n.inode, query.binary)) return true;
          by_layer[n.inode_layer][n.inode].push_back(files.size());
          files.push_back({tree.path_of(id), n.layer, 0, {}});
          return true;
        },
        from);
  }

  // Stream each layer once; hardlinked paths share one read.
  for (auto& layer_files : by_layer) {
    uint32_t layer = layer_files.first;
    auto& inodes = layer_files.second;  // a plain reference: clang 14 cannot capture bindings
    std::vector<const scan::Entry*> wanted;
    for (const auto& [inode, _] : inodes) wanted.push_back(inode);
    read_entries(image.source(), image.layers()[layer], wanted,
                 [&](const scan::Entry& e, ByteStream& content) {
                   const std::vector<size_t>& users = inodes.at(&e);
                   GrepFile& first = files[users[0]];
                   LineScanner scanner(matcher, query, first);
                   std::array<std::byte, 64 * 1024> buf;
                   while (size_t n = content.read(buf))
                     scanner.feed(as_chars(std::span(buf).first(n)));
                   scanner.finish();
                   for (size_t i = 1; i < users.size(); ++i) {
                     files[users[i]].count = first.count;
                     files[users[i]].lines = first.lines;
                   }
                 });
  }
  std::sort(files.begin(), files.end(),
            [](const GrepFile& a, const GrepFile& b) { return a.path < b.path; });
  return files;
}

}  // namespace coroner::explore
