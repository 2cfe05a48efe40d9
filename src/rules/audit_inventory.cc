#include "rules/audit_inventory.h"

#include <algorithm>
#include <map>
#include <unordered_set>

#include "base/text.h"
#include "fs/resolve.h"

namespace coroner::rules {
namespace {

// Where packages put programs: an executable here that no package lists was installed by hand.
constexpr std::string_view kSystemBinDirs[] = {
    "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/libexec", "/usr/local/bin", "/usr/local/sbin"};

std::string parent_of(std::string_view p) {
  size_t s = p.rfind('/');
  return s == 0 || s == std::string_view::npos ? "/" : std::string(p.substr(0, s));
}

template <typename K>
std::vector<std::pair<K, uint64_t>> by_count(const std::map<K, uint64_t>& m) {
  std::vector<std::pair<K, uint64_t>> v(m.begin(), m.end());
  std::stable_sort(v.begin(), v.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return v;
}

bool is_conf(std::string_view name) { return ends_with(name, ".conf"); }

}  // namespace

std::string executable_kind(const linux_::RootView& root, fs::NodeId id) {
  const fs::Node& n = root.tree().node(id);
  const scan::Facts* facts = root.facts(id);
  switch (n.inode->kind) {
    case scan::ContentKind::kElf: {
      if (!facts || !facts->elf) return "ELF (unparsed)";
      const elf::ElfInfo& e = *facts->elf;
      if (e.interp) return "ELF dynamic";
      if (e.is_static_pie()) return "ELF static-pie";
      if (e.e_type == 2) return "ELF static";
      return e.has_dynamic ? "ELF shared object" : "ELF static";
    }
    case scan::ContentKind::kScript: {
      if (!facts) return "script";
      std::string_view l = facts->first_line;
      if (starts_with(l, "#!")) l.remove_prefix(2);
      l = trim(l);
      // The kernel: the interpreter ends at the first space or tab; "\r" stays in the name.
      size_t end = l.find_first_of(" \t");
      std::string_view interp = l.substr(0, end);
      std::string_view rest = end == std::string_view::npos ? "" : trim(l.substr(end));
      if (ends_with(interp, "/env") && !rest.empty()) {
        while (starts_with(rest, "-")) {  // env -S, env -i
          size_t sp = rest.find_first_of(" \t");
          if (sp == std::string_view::npos) break;
          rest = trim(rest.substr(sp));
        }
        return "script #!env " + escape(rest.substr(0, rest.find_first_of(" \t")));
      }
      return "script #!" + escape(interp);
    }
    case scan::ContentKind::kText:
      return "text without #!";
    case scan::ContentKind::kEmpty:
      return "empty";
    default:
      return "other";
  }
}

ExecutableInventory inventory_executables(const linux_::RootView& root,
                                          const std::vector<std::string>& owned) {
  const fs::Tree& t = root.tree();
  // dpkg lists /bin/ls where usrmerge put it at /usr/bin/ls: compare canonical paths.
  std::unordered_set<std::string> own;
  fs::ResolveOptions no_follow;
  no_follow.follow_last = false;
  for (const std::string& p : owned) {
    fs::ResolveResult r = fs::resolve(t, p, no_follow);
    if (r.ok()) own.insert(r.path);
  }
  ExecutableInventory inv;
  std::map<std::string, uint64_t> kinds, dirs;
  std::map<uint32_t, uint64_t> layers;
  std::map<std::pair<std::string, uint32_t>, ExecutableInventory::Unowned> unowned;
  t.walk([&](fs::NodeId id) {
    const fs::Node& n = t.node(id);
    if (n.is_dir() && n.parent == fs::kRootNode && (n.name == "proc" || n.name == "sys")) {
      return false;
    }
    if (!n.is_regular() || !(n.inode->mode & 0111)) return true;
    std::string path = t.path_of(id);
    std::string kind = executable_kind(root, id);
    ++inv.total;
    ++kinds[kind];
    ++layers[n.layer];
    std::string dir = parent_of(path);
    ++dirs[dir];
    bool system = std::any_of(std::begin(kSystemBinDirs), std::end(kSystemBinDirs),
                              [&](std::string_view d) { return dir == d; });
    bool local = dir == "/usr/local/bin" || dir == "/usr/local/sbin";
    if (system && !own.count(path) && (local || !owned.empty())) {
      auto& u = unowned[{dir, n.layer}];
      u.dir = dir;
      u.layer = n.layer;
      u.paths.push_back(path);
      u.kinds.push_back(kind);
    }
    return true;
  });
  inv.by_kind = by_count(kinds);
  inv.by_directory = by_count(dirs);
  inv.by_layer.assign(layers.begin(), layers.end());
  for (auto& [key, u] : unowned) inv.unowned.push_back(std::move(u));
  return inv;
}

bool settings_capture_paths(std::string_view p) {
  if (p == "etc/security/limits.conf" || p == "etc/sysctl.conf") return true;
  for (std::string_view d : {"etc/security/limits.d/", "etc/sysctl.d/"}) {
    if (starts_with(p, d) && p.find('/', d.size()) == std::string_view::npos) return true;
  }
  return false;
}

std::vector<SettingsFile> limits_and_sysctl(const linux_::RootView& root) {
  const fs::Tree& t = root.tree();
  std::vector<std::pair<std::string, bool>> files = {{"/etc/security/limits.conf", false}};
  // pam_limits reads limits.d/*.conf, systemd-sysctl and procps read sysctl.d/*.conf, by name.
  for (auto [dir, sysctl] : {std::pair{"/etc/security/limits.d", false}, {"/etc/sysctl.d", true}}) {
    if (dir == std::string_view("/etc/sysctl.d")) files.emplace_back("/etc/sysctl.conf", true);
    std::optional<fs::NodeId> d = t.lookup(dir);
    if (!d) continue;
    std::vector<std::string> names;
    for (fs::NodeId c : t.children(*d)) {
      if (is_conf(t.node(c).name)) names.push_back(t.path_of(c));
    }
    std::sort(names.begin(), names.end());
    for (std::string& n : names) files.emplace_back(std::move(n), sysctl);
  }
  std::vector<SettingsFile> out;
  for (const auto& [path, sysctl] : files) {
    std::optional<std::string_view> text = root.content(path);
    if (!text) continue;
    SettingsFile f{path, sysctl, {}};
    uint32_t line = 0;
    for (std::string_view l : split(*text, '\n')) {
      ++line;
      l = trim(l);
      if (l.empty() || l[0] == '#' || (sysctl && l[0] == ';')) continue;
      f.lines.push_back(path + ":" + std::to_string(line) + ": " + escape(l, 200));
    }
    if (!f.lines.empty()) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace coroner::rules
