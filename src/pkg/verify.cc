#include "pkg/verify.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include "base/error.h"
#include "base/text.h"
#include "fs/resolve.h"
#include "pkg/apk.h"
#include "pkg/dpkg.h"

namespace coroner::pkg {
namespace {

constexpr std::string_view kDpkgDir = "var/lib/dpkg/";
constexpr std::string_view kApkDb = "lib/apk/db/installed";

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

struct Digester {
  explicit Digester(size_t hex_len) {
    const EVP_MD* md = hex_len == 32 ? EVP_md5() : hex_len == 40 ? EVP_sha1() : EVP_sha256();
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
      throw Error("digest: cannot initialise OpenSSL");
    }
  }
  void update(std::span<const std::byte> b) { EVP_DigestUpdate(ctx.get(), b.data(), b.size()); }
  std::string finish() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx.get(), out.data(), &n);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    for (unsigned int i = 0; i < n; ++i) {
      s += kHex[out[i] >> 4];
      s += kHex[out[i] & 15];
    }
    return s;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

// One path to check, in the order the package lists it.
struct Item {
  Manager manager;
  std::string package;
  std::string path;
  std::string expected;  // hex digest; empty: existence only
  bool conffile = false;
  std::optional<uint32_t> package_layer;
};

struct Pending {
  size_t finding;
  const scan::Entry* entry;
  uint32_t layer;
  std::string expected;
};

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

}  // namespace

bool capture_package_db(std::string_view p, uint64_t size) {
  if (size > (64u << 20)) return false;
  if (p == kApkDb || p == "etc/os-release" || p == "usr/lib/os-release") return true;
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

Inventory inventory(const fs::Tree& tree, std::span<const scan::LayerIndex> layers) {
  Db db(tree, layers);
  Inventory inv;
  auto os = db.file("/etc/os-release");
  if (!os) os = db.file("/usr/lib/os-release");
  if (os) inv.os = parse_os_release(os->text);
  add_dpkg(db, inv);
  add_apk(db, inv);
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

VerifyReport verify(const fs::Tree& tree, std::span<const scan::LayerIndex> layers,
                    const LayerReader& read) {
  Db db(tree, layers);
  VerifyReport report;
  std::vector<Item> items;
  dpkg_items(db, items, report.notes);
  apk_items(db, items, report.notes);

  // 1. lstat each path; schedule a digest where the package recorded one.
  std::optional<std::unordered_map<std::string, uint32_t>> deleted;
  std::vector<Pending> pending;
  fs::ResolveOptions no_follow;
  no_follow.follow_last = false;
  for (Item& item : items) {
    ++report.paths_checked;
    VerifyFinding f{item.manager, item.package, item.path};
    f.conffile = item.conffile;
    fs::ResolveResult l = fs::resolve(tree, item.path, no_follow);
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
    if (item.expected.empty()) continue;
    const fs::Node& ln = tree.node(*l.node);
    f.layer = ln.layer;
    if (!ln.is_regular()) f.mode = Check::kFail;
    // 2. open(2) follows the last symlink; a file that cannot be opened has no digest ('?').
    fs::ResolveResult o = fs::resolve(tree, item.path);
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
    if (digests.emplace(std::pair(p.entry, p.expected.size()), "").second) {
      by_layer[p.layer].push_back(p.entry);
    }
  }
  for (auto& [layer, entries] : by_layer) {
    std::sort(entries.begin(), entries.end());
    entries.erase(std::unique(entries.begin(), entries.end()), entries.end());
    read(layer, entries, [&](const scan::Entry& e, ByteStream& in) {
      std::vector<std::pair<size_t, Digester>> ds;
      for (auto it = digests.lower_bound({&e, 0}); it != digests.end() && it->first.first == &e;
           ++it) {
        ds.emplace_back(it->first.second, Digester(it->first.second));
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
  // Only what failed a check is a finding (dpkg prints nothing for a file that passes).
  std::erase_if(report.findings, [](const VerifyFinding& f) {
    return f.missing == Missing::kPresent && f.mode != Check::kFail && f.digest != Check::kFail;
  });
  return report;
}

}  // namespace coroner::pkg
