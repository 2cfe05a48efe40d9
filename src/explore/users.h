// The image's own user and group names, from the /etc/passwd and /etc/group that the scan
// captured: only what ls -l and find -user/-nouser need (id <-> name). The full account model
// (shells, homes, supplementary groups) for the exec simulation belongs to linux/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace coroner::explore {

class IdNames {
 public:
  // Parses passwd(5) or group(5) text: "name:x:ID:..." per line; comments, blank and malformed
  // lines are skipped. The first line for an id or a name wins, as getpwuid(3) does.
  static IdNames parse(std::string_view text);

  std::optional<std::string_view> name(uint32_t id) const;
  std::optional<uint32_t> id(std::string_view name) const;
  bool empty() const { return by_id_.empty(); }

 private:
  std::map<uint32_t, std::string> by_id_;
  std::map<std::string, uint32_t, std::less<>> by_name_;
};

struct Accounts {
  IdNames users;   // /etc/passwd
  IdNames groups;  // /etc/group
  bool has_passwd = false;
  bool has_group = false;
};

// "NAME" or a decimal id: the id, or nullopt when NAME is not in `names`.
std::optional<uint32_t> lookup_id(const IdNames& names, std::string_view name_or_id);

}  // namespace coroner::explore
