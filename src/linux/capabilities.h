// Linux file capabilities: the capability names in linux/capability.h order, libcap's text
// form (cap_from_text) and the security.capability xattr (struct vfs_cap_data) as the kernel
// and libcap read it. Used by the runtime rules (caps beyond Docker's bounding set) and by
// rpm -V's 'P' check. Pure functions over strings; no libcap.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace coroner::linux_ {

// Capability names as libcap spells them after "cap_", bit n = capability n (0 chown ... 40
// checkpoint_restore).
std::span<const std::string_view> capability_names();

// "cap_net_bind_service,cap_sys_admin" for a set of bits; a bit without a name is "cap_N".
std::string capability_list(uint64_t caps);

// A file's capability sets, as libcap's cap_t holds them (bit n: capability n).
struct FileCaps {
  uint64_t effective = 0, permitted = 0, inheritable = 0;
  bool operator==(const FileCaps&) const = default;
};

// libcap's cap_from_text(3) of a FILECAPS string ("cap_net_raw,cap_net_admin+ep", "=",
// "all=ep cap_sys_admin-e"); nullopt where libcap would fail to parse it.
std::optional<FileCaps> parse_cap_text(std::string_view text);

// The security.capability xattr (struct vfs_cap_data, revisions 1-3, little-endian) as libcap's
// cap_get_file(3) loads it: the effective set is permitted | inheritable when the effective flag
// is set. nullopt for a malformed value (cap_get_file fails).
std::optional<FileCaps> decode_vfs_cap(std::string_view xattr);

}  // namespace coroner::linux_
