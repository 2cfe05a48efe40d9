#include "explore/users.h"

#include <charconv>

#include "base/text.h"

namespace coroner::explore {
namespace {

std::optional<uint32_t> parse_u32(std::string_view s) {
  uint32_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

IdNames IdNames::parse(std::string_view text) {
  IdNames out;
  for (std::string_view line : split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    auto fields = split(line, ':');
    if (fields.size() < 3 || fields[0].empty()) continue;
    std::optional<uint32_t> id = parse_u32(fields[2]);
    if (!id) continue;
    std::string name(fields[0]);
    out.by_id_.emplace(*id, name);
    out.by_name_.emplace(std::move(name), *id);
  }
  return out;
}

std::optional<std::string_view> IdNames::name(uint32_t id) const {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> IdNames::id(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

std::optional<uint32_t> lookup_id(const IdNames& names, std::string_view name_or_id) {
  if (auto id = names.id(name_or_id)) return id;
  return parse_u32(name_or_id);
}

}  // namespace coroner::explore
