#include "pkg/verify.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/text.h"
#include "fs/resolve.h"
#include "linux/capabilities.h"
#include "linux/users.h"
#include "pkg/apk.h"
#include "pkg/dpkg.h"
#include "pkg/rpm.h"
#include "pkg/rpm_bdb.h"
#include "pkg/rpm_ndb.h"

namespace coroner::pkg {
namespace {

constexpr std::string_view kDpkgDir = "var/lib/dpkg/";
constexpr std::string_view kApkDb = "lib/apk/db/installed";
// Where rpm keeps its database: Fedora >= 36 moved it to /usr/lib/sysimage/rpm (and links
// /var/lib/rpm there); RHEL 9 and older Fedora use /var/lib/rpm.
constexpr std::string_view kRpmDirs[] = {"/usr/lib/sysimage/rpm", "/var/lib/rpm"};

// The captured content of `path` as the merged view shows it (symlinks followed), and the
// node holding it.
struct Captured {
  std::string_view text;
  fs::NodeId node = fs::kRootNode;
};

class Db {
 public:
  Db(const fs::Tree& tree, std::span<const scan::LayerIndex> layers)
      : tree_(tree), layers_(layers) {}

  std::optional<Captured> file(std::string_view path) const {
    fs::ResolveResult r = fs::resolve(tree_, path);
    if (!r.ok()) return std::nullopt;
    const fs::Node& n = tree_.node(*r.node);
    if (!n.is_regular()) return std::nullopt;
    const scan::LayerIndex& layer = layers_[n.inode_layer];
    auto it = layer.captured.find(n.inode->path);
    if (it == layer.captured.end()) return std::nullopt;
    return Captured{it->second, *r.node};
  }
  const fs::Tree& tree() const { return tree_; }
  std::span<const scan::LayerIndex> layers() const { return layers_; }

 private:
  const fs::Tree& tree_;
  std::span<const scan::LayerIndex> layers_;
};

// A dpkg package with where its records live.
struct DpkgRecord {
  DpkgPackage pkg;
  std::optional<fs::NodeId> status_d;  // distroless: status.d/<name>
};

std::string info_path(const DpkgPackage& p, std::string_view ext, bool with_arch) {
  std::string s = "/var/lib/dpkg/info/" + p.name;
  if (with_arch) s += ":" + p.architecture;
  return s + "." + std::string(ext);
}

std::optional<Captured> info_file(const Db& db, const DpkgPackage& p, std::string_view ext) {
  if (auto c = db.file(info_path(p, ext, true))) return c;
  return db.file(info_path(p, ext, false));
}

// status plus status.d/*; a file that does not parse becomes a note.
std::vector<DpkgRecord> read_dpkg(const Db& db, std::vector<std::string>& notes) {
  std::vector<DpkgRecord> out;
  if (auto status = db.file("/var/lib/dpkg/status")) {
    try {
      for (DpkgPackage& p : parse_status(status->text)) out.push_back({std::move(p), {}});
    } catch (const Error& e) {
      notes.push_back(std::string("/var/lib/dpkg/status: ") + e.what());
    }
  }
  auto dir = db.tree().lookup("/var/lib/dpkg/status.d");
  if (!dir) return out;
  for (fs::NodeId child : db.tree().children(*dir)) {
    std::string path = db.tree().path_of(child);
    if (ends_with(path, ".md5sums")) continue;
    auto c = db.file(path);
    if (!c) continue;
    try {
      for (DpkgPackage& p : parse_status(c->text)) {
        // distroless writes no Status: a package with a status.d file is installed.
        if (p.want == Want::kUnknown && p.state == State::kNotInstalled) {
          p.want = Want::kInstall;
          p.state = State::kInstalled;
        }
        out.push_back({std::move(p), child});
      }
    } catch (const Error& e) {
      notes.push_back(escape(path) + ": " + e.what());
    }
  }
  return out;
}

uint32_t node_layer(const fs::Tree& tree, fs::NodeId id) { return tree.node(id).layer; }

std::optional<uint32_t> dpkg_layer(const Db& db, const DpkgRecord& r) {
  if (auto list = info_file(db, r.pkg, "list")) return node_layer(db.tree(), list->node);
  if (r.status_d) return node_layer(db.tree(), *r.status_d);
  if (auto status = db.file("/var/lib/dpkg/status")) return node_layer(db.tree(), status->node);
  return std::nullopt;
}

// The first layer, in the run of versions that ends with the present one, whose copy of the
// apk database lists this name and version: the layer that installed it.
std::optional<uint32_t> apk_layer(const Db& db, fs::NodeId node, const ApkPackage& p,
                                  std::map<uint32_t, std::vector<ApkPackage>>& cache) {
  std::vector<fs::Version> history = db.tree().history(node);
  std::optional<uint32_t> found;
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->change == fs::Change::kDeleted || !it->inode) break;
    const scan::LayerIndex& layer = db.layers()[it->inode_layer];
    auto c = layer.captured.find(it->inode->path);
    if (c == layer.captured.end()) break;
    auto cached = cache.find(it->layer);
    if (cached == cache.end()) {
      std::vector<ApkPackage> pkgs;
      try {
        pkgs = parse_apk_installed(c->second);
      } catch (const Error&) {
      }
      cached = cache.emplace(it->layer, std::move(pkgs)).first;
    }
    bool has = std::any_of(cached->second.begin(), cached->second.end(), [&](const auto& q) {
      return q.name == p.name && q.version == p.version;
    });
    if (!has) break;
    found = it->layer;
  }
  return found;
}

// The rpm database: the sqlite rpmdb, else the BerkeleyDB Packages of CentOS/RHEL 7 and 8, else
// SUSE's ndb Packages.db.
enum class RpmFormat : uint8_t { kSqlite, kBerkeley, kNdb };

std::vector<RpmPackage> read_rpm_packages(RpmFormat format, std::string_view bytes,
                                          std::vector<std::string>& notes) {
  switch (format) {
    case RpmFormat::kSqlite:
      return read_rpmdb_sqlite(as_bytes(bytes), notes);
    case RpmFormat::kBerkeley:
      return read_rpmdb_bdb(as_bytes(bytes), notes);
    case RpmFormat::kNdb:
      return read_rpmdb_ndb(as_bytes(bytes), notes);
  }
  return {};
}

struct RpmDb {
  std::vector<RpmPackage> packages;
  fs::NodeId node = fs::kRootNode;
  std::string path;
  RpmFormat format = RpmFormat::kSqlite;
};

std::optional<RpmDb> read_rpm(const Db& db, std::vector<std::string>& notes,
                              std::vector<std::string>* unread = nullptr) {
  auto unread_note = [&](std::string n) {
    if (unread) unread->push_back(n);
    notes.push_back(std::move(n));
  };
  auto present = [&](const std::string& path) {
    fs::ResolveResult r = fs::resolve(db.tree(), path);
    return r.ok() && db.tree().node(*r.node).is_regular();
  };
  auto read = [&](const std::string& path, RpmFormat format) -> std::optional<RpmDb> {
    auto c = db.file(path);
    if (!c) {
      fs::ResolveResult r = fs::resolve(db.tree(), path);
      unread_note(path + ": rpm database not captured (" +
                  std::to_string(db.tree().node(*r.node).inode->size) +
                  " bytes, over the capture limit): not read");
      return std::nullopt;
    }
    RpmDb out{{}, c->node, path, format};
    try {
      out.packages = read_rpm_packages(format, c->text, notes);
    } catch (const Error& e) {
      unread_note(path + ": " + e.what());
      return std::nullopt;
    }
    return out;
  };
  for (std::string_view dir : kRpmDirs) {
    std::string path = std::string(dir) + "/rpmdb.sqlite";
    if (!present(path)) continue;
    std::optional<RpmDb> out = read(path, RpmFormat::kSqlite);
    fs::ResolveResult wal = fs::resolve(db.tree(), path + "-wal");
    if (out && wal.ok() && db.tree().node(*wal.node).is_regular() &&
        db.tree().node(*wal.node).inode->size > 0) {
      notes.push_back(path + "-wal is not empty: changes not yet checkpointed into " + path +
                      " (the last installs or removals) are not read");
    }
    return out;
  }
  for (std::string_view dir : kRpmDirs) {
    std::string path = std::string(dir) + "/Packages";
    if (present(path)) return read(path, RpmFormat::kBerkeley);
  }
  for (std::string_view dir : kRpmDirs) {
    std::string path = std::string(dir) + "/Packages.db";
    if (present(path)) return read(path, RpmFormat::kNdb);
  }
  return std::nullopt;
}

std::string rpm_key(const RpmPackage& p) { return p.name + " " + p.evr() + " " + p.arch; }

// As apk_layer: the first layer of the run of rpmdb versions ending with the present one whose
// copy lists this name, evr and arch.
std::optional<uint32_t> rpm_layer(const Db& db, const RpmDb& rdb, const RpmPackage& p,
                                  std::map<uint32_t, std::set<std::string>>& cache) {
  std::vector<fs::Version> history = db.tree().history(rdb.node);
  std::optional<uint32_t> found;
  std::string key = rpm_key(p);
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->change == fs::Change::kDeleted || !it->inode) break;
    const scan::LayerIndex& layer = db.layers()[it->inode_layer];
    auto c = layer.captured.find(it->inode->path);
    if (c == layer.captured.end()) break;
    auto cached = cache.find(it->layer);
    if (cached == cache.end()) {
      std::set<std::string> keys;
      try {
        std::vector<std::string> ignored;
        for (const RpmPackage& q : read_rpm_packages(rdb.format, c->second, ignored)) {
          keys.insert(rpm_key(q));
        }
      } catch (const Error&) {
      }
      cached = cache.emplace(it->layer, std::move(keys)).first;
    }
    if (!cached->second.count(key)) break;
    found = it->layer;
  }
  return found;
}

void add_rpm(const Db& db, Inventory& inv) {
  std::optional<RpmDb> rdb = read_rpm(db, inv.notes);
  if (!rdb) return;
  std::map<uint32_t, std::set<std::string>> cache;
  for (const RpmPackage& p : rdb->packages) {
    InstalledPackage ip;
    ip.manager = Manager::kRpm;
    ip.name = p.name;
    ip.version = p.evr();
    ip.arch = p.arch;
    auto [src, src_version] = p.source();
    ip.source = src;
    ip.source_version = src_version;
    ip.installed_size = p.size;
    ip.status = "installed";
    ip.license = p.license;
    ip.layer = rpm_layer(db, *rdb, p, cache);
    inv.packages.push_back(std::move(ip));
  }
}

void add_dpkg(const Db& db, Inventory& inv) {
  for (const DpkgRecord& r : read_dpkg(db, inv.notes)) {
    const DpkgPackage& p = r.pkg;
    if (p.state == State::kNotInstalled) continue;
    InstalledPackage ip;
    ip.manager = Manager::kDpkg;
    ip.name = p.name;
    ip.version = p.version;
    ip.arch = p.architecture;
    ip.source = p.source;
    ip.source_version = p.source_version;
    if (p.installed_size) ip.installed_size = *p.installed_size * 1024;
    ip.status = std::string(state_name(p.state));
    ip.ok = p.installed();
    ip.layer = dpkg_layer(db, r);
    inv.packages.push_back(std::move(ip));
  }
}

void add_apk(const Db& db, Inventory& inv) {
  auto c = db.file(std::string("/") + std::string(kApkDb));
  if (!c) return;
  std::vector<ApkPackage> pkgs;
  try {
    pkgs = parse_apk_installed(c->text);
  } catch (const Error& e) {
    inv.notes.push_back(std::string("/lib/apk/db/installed: ") + e.what());
    return;
  }
  std::map<uint32_t, std::vector<ApkPackage>> cache;
  for (const ApkPackage& p : pkgs) {
    InstalledPackage ip;
    ip.manager = Manager::kApk;
    ip.name = p.name;
    ip.version = p.version;
    ip.arch = p.arch;
    ip.source = p.origin.empty() ? p.name : p.origin;
    ip.source_version = p.version;
    ip.installed_size = p.installed_size;
    ip.status = "installed";
    ip.license = p.license;
    ip.layer = apk_layer(db, c->node, p, cache);
    inv.packages.push_back(std::move(ip));
  }
}

// ---- verification ----

// One path to check, in the order the package lists it.
// What rpm recorded for a file besides its digest (rpm -V's other checks).
struct RpmExpect {
  uint32_t mode = 0;  // with the type bits
  uint64_t size = 0;
  std::optional<uint32_t> mtime;
  std::string linkto;
  uint32_t flags = 0;
  RpmFileState state = RpmFileState::kNormal;
  std::optional<std::string> user, group;
  uint16_t rdev = 0;
  std::string caps;
};

// The root's users and groups as rpm -V resolves them (lib/rpmug.c, chrooted into the root):
// the first /etc/passwd or /etc/group line with the name or id; "root" is always id 0.
class RpmIds {
 public:
  RpmIds() = default;
  explicit RpmIds(const Db& db) {
    if (auto t = db.file("/etc/passwd")) {
      for (const linux_::PasswdEntry& e : linux_::parse_passwd(t->text).entries) {
        users_.emplace_back(e.name, e.uid);
      }
    }
    if (auto t = db.file("/etc/group")) {
      for (const linux_::GroupEntry& e : linux_::parse_group(t->text).entries) {
        groups_.emplace_back(e.name, e.gid);
      }
    }
  }
  // rpm: the name of the file's id equals the recorded name, or the recorded name's id equals
  // the file's id.
  bool user_matches(uint32_t id, const std::string& name) const {
    return matches(users_, id, name);
  }
  bool group_matches(uint32_t id, const std::string& name) const {
    return matches(groups_, id, name);
  }

 private:
  using Table = std::vector<std::pair<std::string, int64_t>>;
  static bool matches(const Table& t, uint32_t id, const std::string& name) {
    if (id == 0 && name == "root") return true;
    std::optional<std::string_view> id_name;
    if (id == 0) id_name = "root";
    std::optional<int64_t> name_id;
    if (name == "root") name_id = 0;
    for (const auto& [n, i] : t) {
      if (!id_name && i == int64_t{id}) id_name = n;
      if (!name_id && n == name) name_id = i;
    }
    return (id_name && *id_name == name) || (name_id && *name_id == int64_t{id});
  }
  Table users_, groups_;
};

struct Item {
  Manager manager;
  std::string package;
  std::string path;
  std::string expected;  // hex digest; empty: existence only
  bool conffile = false;
  std::optional<uint32_t> package_layer;
  std::optional<RpmExpect> rpm;
  bool path_excluded = false;
};

struct Pending {
  size_t finding;
  const scan::Entry* entry;
  uint32_t layer;
  std::string expected;
};

// dpkg.cfg(5) lines "path-exclude=GLOB" / "path-include=GLOB" (the "=" is optional).
std::vector<std::pair<bool, std::string>> parse_dpkg_filters(std::string_view text) {
  std::vector<std::pair<bool, std::string>> out;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    for (auto [key, include] : {std::pair{"path-exclude", false}, {"path-include", true}}) {
      std::string_view k = key;
      if (!starts_with(line, k)) continue;
      std::string_view v = trim(line.substr(k.size()));
      if (!v.empty() && v[0] == '=') v = trim(v.substr(1));
      if (!v.empty()) out.emplace_back(include, std::string(v));
    }
  }
  return out;
}

// dpkg's filters.c: the last filter whose fnmatch(3) pattern matches decides.
bool dpkg_path_excluded(const std::vector<std::pair<bool, std::string>>& filters,
                        std::string_view path) {
  bool excluded = false;
  std::string p(path);
  for (const auto& [include, pattern] : filters) {
    if (fnmatch(pattern.c_str(), p.c_str(), 0) == 0) excluded = !include;
  }
  return excluded;
}

void dpkg_items(const Db& db, std::vector<Item>& items, std::vector<std::string>& notes) {
  std::vector<DpkgRecord> records = read_dpkg(db, notes);
  std::unordered_map<std::string, std::string> all_conffiles;  // path -> md5
  for (const DpkgRecord& r : records) {
    if (r.pkg.state == State::kNotInstalled) continue;
    for (const Conffile& c : r.pkg.conffiles) all_conffiles.emplace(c.path, c.md5);
  }
  std::vector<Diversion> diversions;
  if (auto d = db.file("/var/lib/dpkg/diversions")) {
    try {
      diversions = parse_diversions(d->text);
    } catch (const Error& e) {
      notes.push_back(std::string("/var/lib/dpkg/diversions: ") + e.what());
    }
  }
  // dpkg's path filters (dpkg.cfg(5) path-exclude / path-include), in the order dpkg reads them.
  std::vector<std::pair<bool, std::string>> filters;
  if (auto cfg = db.file("/etc/dpkg/dpkg.cfg")) filters = parse_dpkg_filters(cfg->text);
  if (auto dir = db.tree().lookup("/etc/dpkg/dpkg.cfg.d")) {
    std::vector<std::string> names;
    for (fs::NodeId child : db.tree().children(*dir)) names.push_back(db.tree().path_of(child));
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      if (auto cfg = db.file(n)) {
        auto more = parse_dpkg_filters(cfg->text);
        filters.insert(filters.end(), more.begin(), more.end());
      }
    }
  }
  for (const DpkgRecord& r : records) {
    const DpkgPackage& p = r.pkg;
    if (p.state == State::kNotInstalled) continue;
    std::unordered_map<std::string, std::string> md5;
    std::vector<std::string> list;
    std::optional<Captured> sums = r.status_d ? db.file(db.tree().path_of(*r.status_d) + ".md5sums")
                                              : info_file(db, p, "md5sums");
    try {
      if (sums) {
        for (Md5Entry& e : parse_md5sums(sums->text)) md5.emplace(e.path, e.md5);
      }
      if (auto l = info_file(db, p, "list")) {
        list = parse_list(l->text);
      } else if (sums) {  // distroless: no .list, the md5sums name the files
        for (Md5Entry& e : parse_md5sums(sums->text)) list.push_back(e.path);
      }
    } catch (const Error& e) {
      notes.push_back(p.name + ": " + e.what());
      continue;
    }
    std::unordered_map<std::string, std::string> own_conf;
    for (const Conffile& c : p.conffiles) own_conf.emplace(c.path, c.md5);
    std::optional<uint32_t> layer = dpkg_layer(db, r);
    for (const std::string& listed : list) {
      // namenodetouse(): a file diverted by another package (or locally) lives at `to`.
      std::string path = listed;
      for (const Diversion& d : diversions) {
        if (d.from == listed && d.package != p.name) path = d.to;
      }
      Item item{Manager::kDpkg, p.name, path, "", false, layer};
      item.path_excluded = !filters.empty() && dpkg_path_excluded(filters, listed);
      if (auto it = md5.find(path); it != md5.end()) item.expected = it->second;
      auto own = own_conf.find(path);
      auto any = all_conffiles.find(path);
      item.conffile = own != own_conf.end() || any != all_conffiles.end();
      if (item.expected.empty() && own != own_conf.end()) item.expected = own->second;
      if (item.expected.empty() && any != all_conffiles.end()) item.expected = any->second;
      items.push_back(std::move(item));
    }
  }
}

void apk_items(const Db& db, std::vector<Item>& items, std::vector<std::string>& notes) {
  auto c = db.file(std::string("/") + std::string(kApkDb));
  if (!c) return;
  try {
    std::map<uint32_t, std::vector<ApkPackage>> cache;
    for (const ApkPackage& p : parse_apk_installed(c->text)) {
      std::optional<uint32_t> layer = apk_layer(db, c->node, p, cache);
      for (const std::string& d : p.dirs)
        items.push_back({Manager::kApk, p.name, d, "", false, layer});
      for (const ApkFile& f : p.files) {
        items.push_back({Manager::kApk, p.name, f.path, f.digest, false, layer});
      }
    }
  } catch (const Error& e) {
    notes.push_back(std::string("/lib/apk/db/installed: ") + e.what());
  }
}

void rpm_items(const Db& db, std::vector<Item>& items, std::vector<std::string>& notes,
               std::vector<std::string>& unread) {
  std::optional<RpmDb> rdb = read_rpm(db, notes, &unread);
  if (!rdb) return;
  std::map<uint32_t, std::set<std::string>> cache;
  for (const RpmPackage& p : rdb->packages) {
    std::optional<uint32_t> layer = rpm_layer(db, *rdb, p, cache);
    for (const RpmFile& f : p.files) {
      RpmExpect e{f.mode,  f.size, f.mtime, f.linkto, f.flags,
                  f.state, f.user, f.group, f.rdev,   f.caps};
      Item item{Manager::kRpm, p.name, f.path, f.digest, (f.flags & kRpmFileConfig) != 0, layer, e};
      items.push_back(std::move(item));
    }
  }
}

// st_mode of a node: the type bits rpm records in FILEMODES, and the permission bits.
uint32_t st_mode(const fs::Node& n) {
  uint32_t type = 0;
  switch (n.inode->type) {
    case scan::FileType::kDirectory:
      type = 0040000;
      break;
    case scan::FileType::kSymlink:
      type = 0120000;
      break;
    case scan::FileType::kCharDevice:
      type = 0020000;
      break;
    case scan::FileType::kBlockDevice:
      type = 0060000;
      break;
    case scan::FileType::kFifo:
      type = 0010000;
      break;
    case scan::FileType::kSocket:
      type = 0140000;
      break;
    default:
      type = 0100000;
  }
  return type | (n.inode->mode & 07777);
}

// The security.capability xattr of a node's inode, if it has one.
std::optional<std::string_view> capability_xattr(std::span<const scan::LayerIndex> layers,
                                                 const fs::Node& n) {
  if (n.inode->facts == scan::Entry::kNoFacts) return std::nullopt;
  const scan::LayerIndex& layer = layers[n.inode_layer];
  if (n.inode->facts >= layer.facts.size()) return std::nullopt;
  for (const auto& [k, v] : layer.facts[n.inode->facts].xattrs) {
    if (k == "security.capability") return std::string_view(v);
  }
  return std::nullopt;
}

// rpm -V's checks of a present file (lib/verify.c rpmfilesVerify, rpm 4.18): a replaced file only
// for existence; mode (with the type) unless it is a symlink, the link target if it is one; size,
// digest, mtime and capabilities of regular files; %ghost files for permissions, owner, device
// and capabilities only; owner and group by name (RpmIds); the device number of char and block
// devices (the low 16 bits, as rpm keeps them). Returns the entry whose digest must be
// compared, and its layer.
std::optional<std::pair<const scan::Entry*, uint32_t>> rpm_checks(
    const fs::Tree& tree, std::span<const scan::LayerIndex> layers, const RpmIds& ids,
    fs::NodeId id, const Item& item, VerifyFinding& f) {
  const fs::Node& n = tree.node(id);
  const RpmExpect& e = *item.rpm;
  f.layer = n.layer;
  if (e.state == RpmFileState::kReplaced) return std::nullopt;
  bool ghost = (e.flags & kRpmFileGhost) != 0;
  bool wrong_color = e.state == RpmFileState::kWrongColor;
  // Owner and group (rpm: no recorded name is a mismatch; headers without the tags at all,
  // rpm < 4.0's, are not checked).
  if (e.user) f.user = ids.user_matches(n.inode->uid, *e.user) ? Check::kPass : Check::kFail;
  if (e.group) f.group = ids.group_matches(n.inode->gid, *e.group) ? Check::kPass : Check::kFail;
  if (!wrong_color) {
    uint32_t want_type = e.mode & 0170000u;
    bool want_chr = want_type == 0020000u, want_blk = want_type == 0060000u;
    bool have_chr = n.inode->type == scan::FileType::kCharDevice;
    bool have_blk = n.inode->type == scan::FileType::kBlockDevice;
    if (want_chr != have_chr || want_blk != have_blk) {
      f.rdev = Check::kFail;
    } else if (have_chr || have_blk) {
      uint32_t major = 0, minor = 0;
      const scan::LayerIndex& layer = layers[n.inode_layer];
      if (n.inode->facts != scan::Entry::kNoFacts && n.inode->facts < layer.facts.size()) {
        major = layer.facts[n.inode->facts].dev_major;
        minor = layer.facts[n.inode->facts].dev_minor;
      }
      // glibc's makedev(), low 16 bits.
      auto have = static_cast<uint16_t>(((major & 0xff) << 8) | (minor & 0xff));
      f.rdev = have == e.rdev ? Check::kPass : Check::kFail;
    }
  }
  if (n.is_regular()) {
    // libcap: an unparsable FILECAPS, and a file without the xattr, are "=" (no capabilities).
    linux_::FileCaps want = linux_::parse_cap_text(e.caps).value_or(linux_::FileCaps{});
    linux_::FileCaps have;
    if (auto x = capability_xattr(layers, n))
      have = linux_::decode_vfs_cap(*x).value_or(linux_::FileCaps{});
    f.caps = want == have ? Check::kPass : Check::kFail;
  }
  if (n.is_symlink()) {
    if (!ghost) f.link = n.inode->link == e.linkto ? Check::kPass : Check::kFail;
  } else {
    uint32_t have = st_mode(n), want = e.mode;
    if (ghost) {
      have &= ~0170000u;
      want &= ~0170000u;
    }
    f.mode = have == want ? Check::kPass : Check::kFail;
  }
  if (!n.is_regular() || ghost) return std::nullopt;
  if (!wrong_color && e.mtime) {
    f.mtime = n.inode->mtime == static_cast<int64_t>(*e.mtime) ? Check::kPass : Check::kFail;
  }
  if (wrong_color) return std::nullopt;
  f.size = n.inode->size == e.size ? Check::kPass : Check::kFail;
  if (item.expected.empty()) {
    f.digest = Check::kFail;  // rpm: no digest recorded for a regular file is a mismatch
    return std::nullopt;
  }
  return std::pair(n.inode, n.inode_layer);
}

// Layer of the last deletion of each path that some layer deleted.
std::unordered_map<std::string, uint32_t> deletions(const fs::Tree& tree) {
  std::unordered_map<std::string, uint32_t> out;
  for (const fs::Version& v : tree.versions()) {
    if (v.change == fs::Change::kDeleted) out[tree.path_of(v.node)] = v.layer;
  }
  return out;
}

Missing missing_of(fs::ResolveError e) {
  switch (e) {
    case fs::ResolveError::kNotDir:
      return Missing::kNotDir;
    case fs::ResolveError::kLoop:
      return Missing::kLoop;
    default:
      return Missing::kNoEnt;
  }
}

// The items' paths, sorted, once each.
std::vector<std::string> sorted_paths(const std::vector<Item>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const Item& i : items) out.push_back(i.path);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

bool capture_package_db(std::string_view p, uint64_t size) {
  if (size > (64u << 20)) return false;
  if (p == kApkDb || p == "etc/os-release" || p == "usr/lib/os-release") return true;
  if (p == "var/lib/rpm/rpmdb.sqlite" || p == "usr/lib/sysimage/rpm/rpmdb.sqlite") return true;
  if (p == "var/lib/rpm/Packages" || p == "usr/lib/sysimage/rpm/Packages") return true;
  if (p == "var/lib/rpm/Packages.db" || p == "usr/lib/sysimage/rpm/Packages.db") return true;
  // rpm -V resolves owners and groups by name through the image's own files.
  if (size <= (1u << 20) && (p == "etc/passwd" || p == "etc/group")) return true;
  if (size <= (1u << 20) && (p == "etc/dpkg/dpkg.cfg" || starts_with(p, "etc/dpkg/dpkg.cfg.d/"))) {
    return true;
  }
  if (!starts_with(p, kDpkgDir)) return false;
  std::string_view rest = p.substr(kDpkgDir.size());
  if (rest == "status" || rest == "diversions" || starts_with(rest, "status.d/")) return true;
  if (!starts_with(rest, "info/")) return false;
  return ends_with(rest, ".list") || ends_with(rest, ".md5sums") || ends_with(rest, ".conffiles");
}

OsRelease parse_os_release(std::string_view text) {
  OsRelease os;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || line[0] == '#') continue;
    std::string_view key = line.substr(0, eq), v = line.substr(eq + 1);
    if (v.size() >= 2 && (v[0] == '"' || v[0] == '\'') && v.back() == v[0]) {
      v = v.substr(1, v.size() - 2);
    }
    if (key == "ID") os.id = std::string(v);
    if (key == "VERSION_ID") os.version_id = std::string(v);
    if (key == "PRETTY_NAME") os.pretty_name = std::string(v);
  }
  return os;
}

namespace {

// /etc/os-release, else /usr/lib/os-release, as systemd reads them; empty fields without either.
OsRelease read_os_release(const Db& db) {
  auto os = db.file("/etc/os-release");
  if (!os) os = db.file("/usr/lib/os-release");
  return os ? parse_os_release(os->text) : OsRelease{};
}

}  // namespace

Inventory inventory(const fs::Tree& tree, std::span<const scan::LayerIndex> layers) {
  Db db(tree, layers);
  Inventory inv;
  inv.os = read_os_release(db);
  add_dpkg(db, inv);
  add_apk(db, inv);
  add_rpm(db, inv);
  std::stable_sort(inv.packages.begin(), inv.packages.end(), [](const auto& a, const auto& b) {
    return std::tie(a.manager, a.name, a.arch) < std::tie(b.manager, b.name, b.arch);
  });
  return inv;
}

std::string_view VerifyFinding::rule() const {
  if (missing != Missing::kPresent) return conffile ? "config-missing" : "package-file-missing";
  return "package-file-modified";
}

std::string VerifyFinding::dpkg_line() const {
  auto letter = [](Check c, char l) {
    return c == Check::kFail ? l : c == Check::kPass ? '.' : '?';
  };
  std::string r = "?????????";
  std::string suffix;
  if (missing != Missing::kPresent) {
    r = "missing  ";
    if (missing == Missing::kNotDir) suffix = " (Not a directory)";
    if (missing == Missing::kLoop) suffix = " (Too many levels of symbolic links)";
  } else {
    r[1] = letter(mode, 'M');
    r[2] = letter(digest, '5');
  }
  return r + " " + (conffile ? 'c' : ' ') + " " + path + suffix;
}

std::string VerifyFinding::rpm_line() const {
  // The one-letter marker rpm -V puts before the path: the first letter of rpmFFlagsString
  // (lib/verify.c), whose order this keeps (a %doc %config file is 'd', a %config(noreplace)
  // one 'c', a bare noreplace one 'n').
  static constexpr std::pair<uint32_t, char> kMarkers[] = {
      {kRpmFileDoc, 'd'},       {kRpmFileConfig, 'c'},    {kRpmFileSpecfile, 's'},
      {kRpmFileMissingOk, 'm'}, {kRpmFileNoReplace, 'n'}, {kRpmFileGhost, 'g'},
      {kRpmFileLicense, 'l'},   {kRpmFileReadme, 'r'},    {kRpmFileArtifact, 'a'}};
  char marker = ' ';
  for (auto [flag, letter] : kMarkers) {
    if (rpm_flags & flag) {
      marker = letter;
      break;
    }
  }
  if (missing != Missing::kPresent) return std::string("missing   ") + marker + " " + path;
  auto letter = [](Check c, char l) { return c == Check::kFail ? l : '.'; };
  // SM5DLUGTP
  std::string r = {letter(size, 'S'),  letter(mode, 'M'),  letter(digest, '5'),
                   letter(rdev, 'D'),  letter(link, 'L'),  letter(user, 'U'),
                   letter(group, 'G'), letter(mtime, 'T'), letter(caps, 'P')};
  return r + "  " + marker + " " + path;
}

VerifyReport verify(const fs::Tree& tree, std::span<const scan::LayerIndex> layers,
                    const LayerReader& read, const KnownDigest& known) {
  Db db(tree, layers);
  VerifyReport report;
  report.os = read_os_release(db);
  std::vector<Item> items;
  dpkg_items(db, items, report.notes);
  apk_items(db, items, report.notes);
  rpm_items(db, items, report.notes, report.unread_databases);
  report.owned_paths = sorted_paths(items);
  RpmIds rpm_ids(db);

  // 1. lstat each path; schedule a digest where the package recorded one.
  std::optional<std::unordered_map<std::string, uint32_t>> deleted;
  std::vector<Pending> pending;
  fs::ResolveOptions no_follow;
  no_follow.follow_last = false;
  for (Item& item : items) {
    ++report.paths_checked;
    VerifyFinding f{item.manager, item.package, item.path};
    f.conffile = item.conffile;
    f.path_excluded = item.path_excluded;
    // rpm -V skips files it did not install (--excludedocs, netshared paths).
    if (item.rpm) {
      f.rpm_flags = item.rpm->flags;
      if (item.rpm->state == RpmFileState::kNotInstalled ||
          item.rpm->state == RpmFileState::kNetShared) {
        continue;
      }
    }
    fs::ResolveResult l = fs::resolve(tree, item.path, no_follow);
    if (!l.ok() && item.rpm && (item.rpm->flags & (kRpmFileMissingOk | kRpmFileGhost))) {
      continue;  // rpm -V prints nothing for a missing %ghost or %missingok file
    }
    if (!l.ok()) {
      f.missing = missing_of(l.error);
      if (!deleted) deleted = deletions(tree);
      auto it = deleted->find(l.path);
      if (it != deleted->end()) {
        f.layer = it->second;
      } else if (auto n = tree.lookup(l.path)) {
        f.layer = tree.node(*n).layer;  // ENOTDIR: the non-directory that took its place
      } else {
        f.layer = item.package_layer;  // never there in any layer
      }
      report.findings.push_back(std::move(f));
      continue;
    }
    if (item.rpm) {
      if (auto p = rpm_checks(tree, layers, rpm_ids, *l.node, item, f))
        pending.push_back({report.findings.size(), p->first, p->second, item.expected});
      report.findings.push_back(std::move(f));
      continue;
    }
    if (item.expected.empty()) continue;
    const fs::Node& ln = tree.node(*l.node);
    f.layer = ln.layer;
    if (!ln.is_regular()) f.mode = Check::kFail;
    // 2. open(2) follows the last symlink; a file that cannot be opened has no digest ('?').
    fs::ResolveResult o = ln.is_symlink() ? fs::resolve(tree, item.path) : l;
    if (o.ok() && tree.node(*o.node).is_regular()) {
      const fs::Node& on = tree.node(*o.node);
      if (ln.is_symlink()) f.layer = on.layer;
      pending.push_back({report.findings.size(), on.inode, on.inode_layer, item.expected});
    } else if (o.ok() && tree.node(*o.node).is_dir()) {
      report.notes.push_back(escape(item.path) +
                             ": a directory where the package has a file (dpkg --verify stops "
                             "here with \"failed to read (Is a directory)\")");
    }
    report.findings.push_back(std::move(f));
  }

  // 3. Digests: each layer streamed once, each (entry, algorithm) hashed once.
  std::map<uint32_t, std::vector<const scan::Entry*>> by_layer;
  std::map<std::pair<const scan::Entry*, size_t>, std::string> digests;
  for (const Pending& p : pending) {
    auto [it, added] = digests.emplace(std::pair(p.entry, p.expected.size()), "");
    if (!added) continue;
    if (known) {
      if (std::optional<std::string> d = known(*p.entry, p.expected.size())) {
        it->second = std::move(*d);
        ++report.files_known;
        continue;
      }
    }
    by_layer[p.layer].push_back(p.entry);
  }
  for (auto& [layer, entries] : by_layer) {
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    read(layer, entries, [&](const scan::Entry& e, ByteStream& in) {
      std::vector<std::pair<size_t, HexDigest>> ds;
      for (auto it = digests.lower_bound({&e, 0}); it != digests.end() && it->first.first == &e;
           ++it) {
        ds.emplace_back(it->first.second, HexDigest(it->first.second));
      }
      std::array<std::byte, 64 * 1024> buf;
      for (size_t n; (n = in.read(buf)) > 0;) {
        for (auto& d : ds) d.second.update(std::span(buf).first(n));
        report.bytes_hashed += n;
      }
      for (auto& d : ds) digests[{&e, d.first}] = d.second.finish();
      ++report.files_hashed;
    });
  }
  for (const Pending& p : pending) {
    bool same = digests[{p.entry, p.expected.size()}] == p.expected;
    report.findings[p.finding].digest = same ? Check::kPass : Check::kFail;
  }
  // Only what failed a check is a finding (dpkg and rpm print nothing for a file that passes).
  std::erase_if(report.findings, [](const VerifyFinding& f) {
    return f.missing == Missing::kPresent && f.mode != Check::kFail && f.digest != Check::kFail &&
           f.size != Check::kFail && f.link != Check::kFail && f.mtime != Check::kFail &&
           f.rdev != Check::kFail && f.user != Check::kFail && f.group != Check::kFail &&
           f.caps != Check::kFail;
  });
  return report;
}

std::vector<std::string> owned_paths(const fs::Tree& tree,
                                     std::span<const scan::LayerIndex> layers) {
  Db db(tree, layers);
  std::vector<Item> items;
  std::vector<std::string> notes, unread;
  dpkg_items(db, items, notes);
  apk_items(db, items, notes);
  rpm_items(db, items, notes, unread);
  return sorted_paths(items);
}

}  // namespace coroner::pkg
