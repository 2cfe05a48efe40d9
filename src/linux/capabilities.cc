#include "linux/capabilities.h"

#include <algorithm>
#include <cctype>

#include "base/text.h"

namespace coroner::linux_ {
namespace {

// Capability names (linux/capability.h order), as libcap spells them after "cap_".
constexpr std::string_view kCapNames[] = {"chown",
                                          "dac_override",
                                          "dac_read_search",
                                          "fowner",
                                          "fsetid",
                                          "kill",
                                          "setgid",
                                          "setuid",
                                          "setpcap",
                                          "linux_immutable",
                                          "net_bind_service",
                                          "net_broadcast",
                                          "net_admin",
                                          "net_raw",
                                          "ipc_lock",
                                          "ipc_owner",
                                          "sys_module",
                                          "sys_rawio",
                                          "sys_chroot",
                                          "sys_ptrace",
                                          "sys_pacct",
                                          "sys_admin",
                                          "sys_boot",
                                          "sys_nice",
                                          "sys_resource",
                                          "sys_time",
                                          "sys_tty_config",
                                          "mknod",
                                          "lease",
                                          "audit_write",
                                          "audit_control",
                                          "setfcap",
                                          "mac_override",
                                          "mac_admin",
                                          "syslog",
                                          "wake_alarm",
                                          "block_suspend",
                                          "audit_read",
                                          "perfmon",
                                          "bpf",
                                          "checkpoint_restore"};
constexpr uint64_t kAllCaps = (uint64_t{1} << std::size(kCapNames)) - 1;

bool cap_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// One capability name ("cap_chown", "CAP_CHOWN" or a number below 64) at s[i]: its bit.
std::optional<uint64_t> cap_bit(std::string_view name) {
  if (!name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    if (name.size() > 2) return std::nullopt;
    int n = std::stoi(std::string(name));
    if (n >= 64) return std::nullopt;
    return uint64_t{1} << n;
  }
  std::string low = ascii_lower(name);
  if (!starts_with(low, "cap_")) return std::nullopt;
  for (size_t k = 0; k < std::size(kCapNames); ++k) {
    if (low.substr(4) == kCapNames[k]) return uint64_t{1} << k;
  }
  return std::nullopt;
}

}  // namespace

std::span<const std::string_view> capability_names() { return kCapNames; }

std::string capability_list(uint64_t caps) {
  std::string s;
  for (size_t k = 0; k < 64; ++k) {
    if (!(caps & (uint64_t{1} << k))) continue;
    s += s.empty() ? "" : ",";
    s += k < std::size(kCapNames) ? "cap_" + std::string(kCapNames[k]) : "cap_" + std::to_string(k);
  }
  return s;
}

std::optional<FileCaps> parse_cap_text(std::string_view s) {
  FileCaps caps;
  size_t i = 0;
  auto space = [&](size_t at) {
    return at < s.size() && std::isspace(static_cast<unsigned char>(s[at]));
  };
  for (;;) {
    while (space(i)) ++i;
    if (i >= s.size()) return caps;
    // The capabilities of this clause: names separated by ',' ("all" is every one), or none
    // before '=' (every one).
    uint64_t list = 0;
    bool listed = false;
    if (cap_name_char(s[i])) {
      for (;;) {
        size_t end = i;
        while (end < s.size() && cap_name_char(s[end])) ++end;
        std::string_view name = s.substr(i, end - i);
        i = end;
        if (ascii_lower(name) == "all") {
          list |= kAllCaps;
        } else if (auto bit = cap_bit(name)) {
          list |= *bit;
        } else {
          return std::nullopt;
        }
        if (i >= s.size() || s[i] != ',') break;
        ++i;
        if (i >= s.size() || !cap_name_char(s[i])) return std::nullopt;
      }
      listed = true;
    } else if (s[i] == '+' || s[i] == '-') {
      return std::nullopt;
    } else {
      list = kAllCaps;
    }
    // Operations: [=+-] then flags (e, i, p); '=' alone clears; several may follow each other.
    if (i >= s.size()) return std::nullopt;
    bool first = true;
    while (i < s.size() && !space(i)) {
      char op = s[i++];
      if (op != '=' && op != '+' && op != '-') return std::nullopt;
      if (first && op == '=' && i < s.size() && (s[i] == '+' || s[i] == '-')) {
        if (!listed) return std::nullopt;
        // "=+flags" is "=flags"; "=-flags" clears everything.
        op = s[i++] == '+' ? '=' : '0';
      }
      first = false;
      bool e = false, in = false, p = false;
      size_t flags = 0;
      while (i < s.size() && (s[i] == 'e' || s[i] == 'i' || s[i] == 'p')) {
        e |= s[i] == 'e';
        in |= s[i] == 'i';
        p |= s[i] == 'p';
        ++i;
        ++flags;
      }
      if (flags == 0 && op != '=') return std::nullopt;
      if (i < s.size() && !space(i) && s[i] != '=' && s[i] != '+' && s[i] != '-') {
        return std::nullopt;
      }
      if (op == '=' || op == '0') {
        caps.effective &= ~list;
        caps.inheritable &= ~list;
        caps.permitted &= ~list;
        if (op == '0') continue;
        op = '+';
      }
      auto apply = [&](uint64_t& set, bool on) {
        if (!on) return;
        if (op == '+')
          set |= list;
        else
          set &= ~list;
      };
      apply(caps.effective, e);
      apply(caps.inheritable, in);
      apply(caps.permitted, p);
    }
  }
}

std::optional<FileCaps> decode_vfs_cap(std::string_view v) {
  auto le32 = [&](size_t off) {
    uint32_t x = 0;
    for (size_t k = 4; k-- > 0;) x = (x << 8) | static_cast<uint8_t>(v[off + k]);
    return x;
  };
  if (v.size() < 4) return std::nullopt;
  uint32_t magic = le32(0);
  uint32_t revision = magic & 0xff000000u;
  size_t words = revision == 0x01000000u ? 1 : 2;
  size_t need = revision == 0x01000000u   ? 12
                : revision == 0x02000000u ? 20
                : revision == 0x03000000u ? 24
                                          : 0;
  if (need == 0 || v.size() != need) return std::nullopt;
  if (magic & ~(0xff000000u | 1u)) return std::nullopt;  // flags other than effective
  FileCaps caps;
  for (size_t w = 0; w < words; ++w) {
    caps.permitted |= uint64_t{le32(4 + 8 * w)} << (32 * w);
    caps.inheritable |= uint64_t{le32(8 + 8 * w)} << (32 * w);
  }
  if (magic & 1u) caps.effective = caps.permitted | caps.inheritable;
  return caps;
}

}  // namespace coroner::linux_
