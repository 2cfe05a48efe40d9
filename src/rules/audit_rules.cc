#include "rules/audit_rules.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "base/text.h"
#include "fs/resolve.h"
#include "linux/users.h"
#include "rules/audit_inventory.h"
#include "rules/rules.h"
#include "rules/secrets.h"

namespace coroner::rules {
namespace {

// Lines quoted per log file, files listed per aggregated finding, leftovers reported one by one.
constexpr size_t kMaxLogLines = 10;
constexpr size_t kMaxListed = 10;
constexpr size_t kMaxLeftovers = 100;
// Files of one package reported one by one per rule; the rest (a deleted tree: docs, locales,
// zoneinfo) are summed up in one more finding per package and rule.
constexpr size_t kMaxPackageFindings = 20;
// A layer wasting less than this is not worth a finding.
constexpr uint64_t kWastedThreshold = 1 << 20;

struct Ctx {
  const AuditInput& in;
  std::vector<std::string> created_by;
  std::vector<Finding> out;
  const pkg::VerifyReport* packages = nullptr;  // in.packages(), once the other rules ran
  const fs::Tree& tree() const { return in.root.tree(); }
};

std::string base_name(std::string_view p) {
  size_t s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

std::string mode_str(uint32_t mode) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", mode & 07777);
  return b;
}

std::string mib(uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return b;
}

Finding& add(Ctx& c, std::string_view rule, std::string path, std::optional<uint32_t> layer,
             std::string message) {
  const RuleInfo* info = find_rule(rule);
  Finding f;
  f.rule = std::string(rule);
  f.severity = info ? info->severity : Severity::kInfo;
  f.fix = info ? std::string(info->fix) : "";
  f.path = std::move(path);
  f.message = std::move(message);
  f.layer_index = layer;
  if (layer && *layer < c.in.info.layers.size()) {
    const image::LayerDesc& d = c.in.info.layers[*layer];
    f.layer_digest = !d.digest.empty() ? d.digest : d.diff_id;
  }
  if (layer && *layer < c.created_by.size()) f.created_by = c.created_by[*layer];
  c.out.push_back(std::move(f));
  return c.out.back();
}

// Preorder over present nodes, skipping the pseudo filesystems a runtime mounts over.
void walk(const Ctx& c, const std::function<void(fs::NodeId, const fs::Node&)>& visit) {
  const fs::Tree& t = c.tree();
  t.walk([&](fs::NodeId id) {
    const fs::Node& n = t.node(id);
    if (n.is_dir() && n.parent == fs::kRootNode && (n.name == "proc" || n.name == "sys")) {
      return false;
    }
    visit(id, n);
    return true;
  });
}

bool under(std::string_view p, std::string_view dir) {
  return p.size() > dir.size() && starts_with(p, dir) && p[dir.size()] == '/';
}

// --- secret-file-readable ------------------------------------------------------------------

// Files that hold secrets by their name: they should be 0600 (0640 with a dedicated group).
bool is_secret_file(std::string_view path) {
  std::string name = base_name(path);
  static constexpr std::string_view kNames[] = {"id_rsa",           "id_dsa",  "id_ecdsa",
                                                "id_ed25519",       ".netrc",  ".pgpass",
                                                ".git-credentials", ".pypirc", ".env"};
  for (std::string_view n : kNames) {
    if (name == n) return true;
  }
  return ends_with(path, "/.aws/credentials") || ends_with(path, "/.docker/config.json") ||
         (starts_with(path, "/etc/ssh/ssh_host_") && ends_with(path, "_key"));
}

void secret_file_readable(Ctx& c) {
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    if (!n.is_regular()) return;
    std::string p = c.tree().path_of(id);
    uint32_t mode = n.inode->mode;
    bool shadow =
        p == "/etc/shadow" || p == "/etc/gshadow" || p == "/etc/shadow-" || p == "/etc/gshadow-";
    if (shadow && (mode & 0004)) {
      add(c, "secret-file-readable", p, n.layer,
          p + " is readable by every user (mode " + mode_str(mode) +
              "): any process can read the password hashes")
          .fix = "chmod 640 " + p + " (root:shadow) or 600";
      return;
    }
    // sshd refuses a host key that group or others may access ("UNPROTECTED PRIVATE KEY FILE",
    // sshkey_perm_ok in OpenSSH's authfile.c) and starts without it.
    if (starts_with(p, "/etc/ssh/ssh_host_") && ends_with(p, "_key") && (mode & 0077)) {
      add(c, "secret-file-readable", p, n.layer,
          p + " has mode " + mode_str(mode) +
              ": sshd ignores a host key that group or others can access (\"UNPROTECTED "
              "PRIVATE KEY FILE!\")")
          .fix = "chmod 600 " + p;
      return;
    }
    // sshd's StrictModes refuses authorized_keys writable by group or others.
    if (ends_with(p, "/.ssh/authorized_keys") && (mode & 0022)) {
      add(c, "secret-file-readable", p, n.layer,
          p + " has mode " + mode_str(mode) +
              ": sshd (StrictModes) refuses keys from a file group or others can write "
              "(\"Authentication refused: bad ownership or modes\")")
          .fix = "chmod 600 " + p;
      return;
    }
    if (!shadow && is_secret_file(p) && (mode & 0004)) {
      add(c, "secret-file-readable", p, n.layer,
          p + " holds credentials and is readable by every user (mode " + mode_str(mode) + ")")
          .fix = "chmod 600 " + p + ", or better, do not bake it into the image";
    }
  });
}

// --- private-key and secret-token from the scan's content matches --------------------------

// Whether `e` of layer `layer` is what the merged view shows at its path.
std::optional<fs::NodeId> visible_node(const Ctx& c, const scan::Entry& e) {
  std::optional<fs::NodeId> id = c.tree().lookup(e.path);
  if (!id || c.tree().node(*id).inode != &e) return std::nullopt;
  return id;
}

void content_secrets(Ctx& c) {
  const std::vector<SecretRule>& rules = secret_rules();
  for (const scan::LayerIndex& layer : c.in.root.layers()) {
    for (const scan::ContentMatch& m : layer.content_matches) {
      if (m.rule >= rules.size() || m.entry >= layer.entries.size()) continue;
      const SecretRule& r = rules[m.rule];
      const scan::Entry& e = layer.entries[m.entry];
      std::string p = "/" + std::string(e.path);
      std::string where = p + (m.line ? ":" + std::to_string(m.line) : "");
      std::string msg = r.description + " at " + where + ": " + m.redacted;
      // A file deleted or replaced by a later layer is still in this layer's blob: anyone who
      // pulls the image can read it (docker save, crane export).
      if (!visible_node(c, e)) {
        msg += " (hidden by a later layer, but still in this layer's blob)";
      }
      Finding& f = add(c, r.finding, p, layer.index, msg);
      f.evidence.push_back(r.id + " " + where + " " + m.redacted);
      f.fix = r.finding == "private-key"
                  ? "remove the key from the build context (mount it as a secret at run time); "
                    "deleting it in a later layer does not remove it from the image"
                  : "revoke the token, then pass it at run time (env, secret mount), never in "
                    "the image; use RUN --mount=type=secret for build-time secrets";
    }
  }
}

// Key stores that the content scan does not read (binary): found by name.
void private_key_files(Ctx& c) {
  std::set<const scan::Entry*> matched;
  for (const scan::LayerIndex& layer : c.in.root.layers()) {
    for (const scan::ContentMatch& m : layer.content_matches) {
      // Only secret matches (a scanner may add others, e.g. the audit's per-file digests).
      if (m.rule < secret_rules().size() && m.entry < layer.entries.size()) {
        matched.insert(&layer.entries[m.entry]);
      }
    }
  }
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    if (!n.is_regular() || n.inode->size == 0 || matched.count(n.inode)) return;
    std::string p = c.tree().path_of(id);
    bool store = ends_with(p, ".p12") || ends_with(p, ".pfx") || ends_with(p, ".jks") ||
                 ends_with(p, ".keystore");
    std::string name = base_name(p);
    bool ssh =
        (name == "id_rsa" || name == "id_dsa" || name == "id_ecdsa" || name == "id_ed25519") &&
        n.inode->kind != scan::ContentKind::kText;
    if (!store && !ssh) return;
    add(c, "private-key", p, n.layer,
        p + (store ? " is a key store (PKCS#12 / Java) that usually holds private keys"
                   : " is named like an SSH private key"))
        .fix = "remove it from the image; mount keys at run time";
  });
}

bool secretish_name(std::string_view key) {
  std::string k;
  for (char ch : key) k += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (ends_with(k, "_FILE") || ends_with(k, "_PATH") || ends_with(k, "_DIR")) return false;
  static constexpr std::string_view kWords[] = {"PASSWORD",   "PASSWD",      "SECRET",
                                                "TOKEN",      "API_KEY",     "APIKEY",
                                                "ACCESS_KEY", "PRIVATE_KEY", "CREDENTIAL"};
  for (std::string_view w : kWords) {
    if (k.find(w) != std::string::npos) return true;
  }
  return false;
}

// KEY=VALUE with a secret-looking key and a literal value (not a ${reference}).
std::optional<std::string> secret_assignment(std::string_view kv) {
  size_t eq = kv.find('=');
  if (eq == std::string_view::npos) return std::nullopt;
  std::string_view key = trim(kv.substr(0, eq));
  if (starts_with(key, "export ")) key = trim(key.substr(7));
  std::string_view value = trim(kv.substr(eq + 1));
  if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'')) {
    value = value.substr(1, value.size() - 2);
  }
  if (!secretish_name(key) || value.empty() || starts_with(value, "$") || starts_with(value, "/")) {
    return std::nullopt;
  }
  return std::string(key) + "=" + redact(value, value.size());
}

void config_secrets(Ctx& c) {
  const image::ImageConfig& cfg = c.in.info.config;
  for (const std::string& kv : cfg.env) {
    if (auto a = secret_assignment(kv)) {
      add(c, "secret-token", "", std::nullopt,
          "the image config sets " + *a + " in ENV: every container and `docker inspect` shows it")
          .fix = "pass it at run time (docker run -e, a secret mount, NAME_FILE)";
      continue;
    }
    for (const scan::ContentMatch& m : scan_secrets(kv)) {
      add(c, "secret-token", "", std::nullopt,
          secret_rules()[m.rule].description + " in ENV: " + m.redacted);
    }
  }
  std::vector<std::optional<size_t>> unused;
  uint32_t layer = 0;
  for (const image::HistoryEntry& h : cfg.history) {
    std::optional<uint32_t> l;
    if (!h.empty_layer) l = layer++;
    for (const scan::ContentMatch& m : scan_secrets(h.created_by)) {
      add(c, "secret-token", "", l,
          secret_rules()[m.rule].description +
              " in the build history (`docker history` shows "
              "it): " +
              m.redacted)
          .fix = "use RUN --mount=type=secret or build args that are not recorded";
    }
  }
}

// .env files: secret-looking assignments (the file itself was captured).
void env_files(Ctx& c) {
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    if (!n.is_regular()) return;
    std::string name = base_name(n.name);
    if (name != ".env" && !starts_with(name, ".env.")) return;
    if (ends_with(name, ".example") || ends_with(name, ".sample") || ends_with(name, ".template") ||
        ends_with(name, ".dist")) {
      return;
    }
    std::optional<std::string_view> text = c.in.root.content(id);
    if (!text) return;
    std::string p = c.tree().path_of(id);
    uint32_t line = 0;
    std::vector<std::string> hits;
    for (std::string_view l : split(*text, '\n')) {
      ++line;
      if (auto a = secret_assignment(l)) hits.push_back(p + ":" + std::to_string(line) + ": " + *a);
    }
    if (hits.empty()) return;
    Finding& f = add(
        c, "secret-token", p, n.layer,
        p + " is an .env file with " + std::to_string(hits.size()) + " secret-looking value(s)");
    f.evidence = std::move(hits);
    f.fix = "add .env to .dockerignore and pass the values at run time";
  });
}

// --- world-writable, setuid-binary -----------------------------------------------------------

void world_writable(Ctx& c) {
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    uint32_t mode = n.inode->mode;
    if (!(mode & 0002) || !(n.is_dir() || n.is_regular())) return;
    if (n.is_dir() && (mode & 01000)) return;  // /tmp-style: sticky bit keeps files apart
    std::string p = c.tree().path_of(id);
    add(c, "world-writable", p, n.layer,
        p +
            (n.is_dir() ? " is a world-writable directory without the sticky bit"
                        : " is a world-writable file") +
            " (mode " + mode_str(mode) + "): any user in the container can " +
            (n.is_dir() ? "delete or replace what is in it" : "change it"))
        .fix =
        n.is_dir() ? "chmod o-w " + p + " (or +t for a shared scratch dir)" : "chmod o-w " + p;
  });
}

void setuid_binary(Ctx& c) {
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    uint32_t mode = n.inode->mode;
    if (!n.is_regular() || !(mode & 06000)) return;
    std::string p = c.tree().path_of(id);
    std::string what = (mode & 04000) ? "setuid (runs as uid " + std::to_string(n.inode->uid) + ")"
                                      : "setgid (runs as gid " + std::to_string(n.inode->gid) + ")";
    if ((mode & 06000) == 06000) what = "setuid and setgid";
    add(c, "setuid-binary", p, n.layer, p + " is " + what + ", mode " + mode_str(mode)).fix =
        "chmod u-s,g-s " + p +
        " if the container does not need it, or run with "
        "--security-opt no-new-privileges";
  });
}

// --- orphan-owner ------------------------------------------------------------------------------

struct Accounts {
  std::optional<linux_::PasswdFile> passwd;
  std::optional<linux_::GroupFile> group;
};

Accounts read_accounts(const Ctx& c) {
  Accounts a;
  if (auto t = c.in.root.content("/etc/passwd")) a.passwd = linux_::parse_passwd(*t);
  if (auto t = c.in.root.content("/etc/group")) a.group = linux_::parse_group(*t);
  return a;
}

void account_consistency(Ctx& c, const Accounts& a) {
  if (!a.passwd) return;
  std::optional<fs::NodeId> pw = c.tree().lookup("/etc/passwd");
  std::optional<uint32_t> layer;
  if (pw) layer = c.tree().node(*pw).layer;
  for (const linux_::DuplicateUid& d : linux_::duplicate_uids(*a.passwd)) {
    std::string names;
    for (const std::string& n : d.names) names += (names.empty() ? "" : ", ") + escape(n);
    add(c, "orphan-owner", "/etc/passwd", layer,
        "uid " + std::to_string(d.uid) + " belongs to several users (" + names +
            "): files show the first name, and each user can touch the others' files")
        .fix = "give each user its own uid";
  }
  if (!a.group) return;
  for (const linux_::PasswdEntry* e : linux_::users_without_primary_group(*a.passwd, *a.group)) {
    add(c, "orphan-owner", "/etc/passwd", layer,
        "user " + escape(e->name) + " (line " + std::to_string(e->line) + ") has primary gid " +
            std::to_string(e->gid) + ", which /etc/group does not have")
        .fix = "add the group (groupadd -g " + std::to_string(e->gid) + ")";
  }
  for (const linux_::PasswdEntry& e : a.passwd->entries) {
    if (e.shell.empty() || !starts_with(e.shell, "/")) continue;
    if (c.in.root.resolve(e.shell).ok()) continue;
    if (e.uid != 0 && (ends_with(e.shell, "nologin") || ends_with(e.shell, "false"))) continue;
    add(c, "orphan-owner", "/etc/passwd", layer,
        "user " + escape(e.name) + " has login shell " + escape(e.shell) +
            ", which the image does not have (su, docker exec -u and login fail)")
        .fix = "usermod -s /bin/sh " + escape(e.name);
  }
}

void orphan_owner(Ctx& c) {
  Accounts a = read_accounts(c);
  account_consistency(c, a);
  if (!a.passwd || !a.group) return;
  std::set<int64_t> uids, gids;
  for (const auto& e : a.passwd->entries) uids.insert(e.uid);
  for (const auto& e : a.group->entries) gids.insert(e.gid);
  // One finding per unknown owner and layer, listing the first paths (a COPY of a tree with the
  // build machine's uid would otherwise give thousands).
  std::map<std::tuple<bool, uint32_t, uint32_t>, std::vector<std::string>> by_owner;
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    if (id == fs::kRootNode || n.implicit) return;
    bool uid_unknown = n.inode->uid != 0 && !uids.count(n.inode->uid);
    bool gid_unknown = n.inode->gid != 0 && !gids.count(n.inode->gid);
    if (uid_unknown) by_owner[{true, n.inode->uid, n.layer}].push_back(c.tree().path_of(id));
    if (gid_unknown) by_owner[{false, n.inode->gid, n.layer}].push_back(c.tree().path_of(id));
  });
  for (auto& [key, paths] : by_owner) {
    auto [is_uid, owner, layer] = key;
    std::string what = is_uid ? "uid " + std::to_string(owner) + ", which /etc/passwd"
                              : "gid " + std::to_string(owner) + ", which /etc/group";
    Finding& f = add(c, "orphan-owner", paths.front(), layer,
                     std::to_string(paths.size()) + " path(s) owned by " + what +
                         " does not have (files copied with the build machine's owner?)");
    for (size_t i = 0; i < paths.size() && i < kMaxListed; ++i) f.evidence.push_back(paths[i]);
    if (paths.size() > kMaxListed) {
      f.evidence.push_back("... " + std::to_string(paths.size() - kMaxListed) + " more");
    }
    f.fix = "COPY --chown=USER:GROUP, or create the " + std::string(is_uid ? "user" : "group");
  }
}

// --- dangling-symlink --------------------------------------------------------------------------

// Targets that a runtime creates or mounts: a link into them is not broken.
bool runtime_target(std::string_view path) {
  for (std::string_view d : {"/proc", "/sys", "/dev", "/run", "/var/run", "/tmp"}) {
    if (path == d || under(path, d)) return true;
  }
  return false;
}

void dangling_symlink(Ctx& c) {
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    if (!n.is_symlink()) return;
    std::string p = c.tree().path_of(id);
    fs::ResolveResult r = c.in.root.resolve(p);
    if (r.error != fs::ResolveError::kNoEnt && r.error != fs::ResolveError::kLoop) return;
    if (r.error == fs::ResolveError::kNoEnt && runtime_target(r.path)) return;
    Finding& f =
        add(c, "dangling-symlink", p, n.layer,
            p + " -> " + escape(n.inode->link) +
                (r.error == fs::ResolveError::kLoop ? ": a symlink loop"
                                                    : ": " + escape(r.path) + " does not exist"));
    f.evidence.push_back(fs::describe_hops(r));
    f.fix = "install the target or remove the link";
  });
}

// --- log-errors --------------------------------------------------------------------------------

bool error_line(std::string_view l) {
  static constexpr std::string_view kMarks[] = {"segfault",
                                                "Segmentation fault",
                                                "panic:",
                                                "Kernel panic",
                                                "Traceback (most recent call",
                                                "FATAL",
                                                "exited with code",
                                                "Out of memory",
                                                "oom-kill",
                                                "OOMKilled",
                                                "core dumped"};
  for (std::string_view m : kMarks) {
    if (l.find(m) != std::string_view::npos) return true;
  }
  return false;
}

void log_errors(Ctx& c) {
  std::optional<fs::NodeId> logs = c.tree().lookup("/var/log");
  if (!logs) return;
  c.tree().walk(
      [&](fs::NodeId id) {
        const fs::Node& n = c.tree().node(id);
        if (!n.is_regular()) return true;
        std::optional<std::string_view> text = c.in.root.content(id);
        if (!text || n.inode->kind == scan::ContentKind::kBinary) return true;
        std::string p = c.tree().path_of(id);
        std::vector<std::string> quoted;
        size_t total = 0;
        uint32_t line = 0, first = 0;
        for (std::string_view l : split(*text, '\n')) {
          ++line;
          if (!error_line(l)) continue;
          if (first == 0) first = line;
          if (++total > kMaxLogLines) continue;
          quoted.push_back(p + ":" + std::to_string(line) + ": " + escape(trim(l), 200));
        }
        if (total == 0) return true;
        Finding& f = add(c, "log-errors", p, n.layer,
                         p + " was baked into the image with " + std::to_string(total) +
                             " error record(s), first at line " + std::to_string(first));
        f.evidence = std::move(quoted);
        return true;
      },
      *logs);
}

// --- tmp-leftovers -----------------------------------------------------------------------------

std::optional<std::string> leftover_kind(const fs::Node& n, std::string_view p) {
  std::string name = base_name(p);
  bool scratch =
      under(p, "/tmp") || under(p, "/var/tmp") || under(p, "/run") || under(p, "/var/run");
  if (n.inode->type == scan::FileType::kSocket && scratch) return "a socket";
  if (!n.is_regular()) return std::nullopt;
  if (ends_with(name, ".swp") || ends_with(name, ".swo") ||
      (name.size() > 2 && name.front() == '#' && name.back() == '#')) {
    return "an editor swap file";
  }
  if (name == "core" || (starts_with(name, "core.") && name.size() > 5 &&
                         std::all_of(name.begin() + 5, name.end(), ::isdigit))) {
    return "a core dump";
  }
  if (!scratch) return std::nullopt;
  if (ends_with(name, ".pid")) return "a pid file";
  if (ends_with(name, ".lock") || name == "LOCK" || name == "lock") return "a lock file";
  if (under(p, "/tmp") || under(p, "/var/tmp")) return "a file left in a temp dir";
  return std::nullopt;
}

void tmp_leftovers(Ctx& c) {
  size_t count = 0;
  uint64_t bytes = 0;
  walk(c, [&](fs::NodeId id, const fs::Node& n) {
    if (n.is_dir()) return;
    std::string p = c.tree().path_of(id);
    std::optional<std::string> kind = leftover_kind(n, p);
    if (!kind) return;
    bytes += n.inode->size;
    if (++count > kMaxLeftovers) return;
    add(c, "tmp-leftovers", p, n.layer,
        p + " is " + *kind + " left by the build (" + std::to_string(n.inode->size) + " bytes)")
        .fix = "remove it in the RUN step that created it";
  });
  if (count > kMaxLeftovers) {
    add(c, "tmp-leftovers", "", std::nullopt,
        std::to_string(count - kMaxLeftovers) + " more leftovers not listed (" + mib(bytes) +
            " in all)");
  }
}

// --- wasted-space ------------------------------------------------------------------------------

void wasted_space(Ctx& c) {
  const fs::Tree& t = c.tree();
  const fs::Version* base = t.versions().data();
  for (uint32_t l = 0; l < t.layer_count(); ++l) {
    uint64_t wasted = t.layer_wasted_bytes(l);
    if (wasted < kWastedThreshold) continue;
    // The biggest files this layer wrote that a later layer shadowed or deleted.
    std::vector<std::pair<uint64_t, std::string>> big;
    for (const fs::Version& v : t.layer_versions(l)) {
      if (!v.entry || v.entry != v.inode || v.entry->type != scan::FileType::kRegular) continue;
      if (t.node(v.node).last_version == static_cast<uint32_t>(&v - base)) continue;
      big.emplace_back(v.entry->size, t.path_of(v.node));
    }
    std::sort(big.rbegin(), big.rend());
    Finding& f = add(c, "wasted-space", "", l,
                     "layer " + std::to_string(l) + " ships " + mib(wasted) +
                         " that later layers delete or overwrite: every pull downloads them");
    for (size_t i = 0; i < big.size() && i < kMaxListed; ++i) {
      f.evidence.push_back(big[i].second + " (" + mib(big[i].first) + ")");
    }
    f.fix = "delete files in the same RUN step that creates them, or use a multi-stage build";
  }
}

// --- package-file-missing, package-file-modified, config-missing, conffile-modified --------

std::string_view manager_name(pkg::Manager m) {
  switch (m) {
    case pkg::Manager::kApk:
      return "apk";
    case pkg::Manager::kRpm:
      return "rpm";
    default:
      return "dpkg";
  }
}

// The rule of a verify finding: a changed conffile is normal administration (info), not the
// tampering package-file-modified means.
std::string_view package_rule(const pkg::VerifyFinding& v) {
  if (v.missing == pkg::Missing::kPresent && v.conffile) return "conffile-modified";
  return v.rule();
}

// The tool an rpm distribution reinstalls packages with: zypper on SUSE, yum before RHEL 8 (and
// on Amazon Linux 2), dnf otherwise (Fedora, RHEL 8+, Amazon Linux 2023, or an unknown os).
std::string rpm_reinstall(const pkg::OsRelease& os) {
  std::string_view id = os.id;
  if (starts_with(id, "opensuse") || id == "sles" || id == "sled" || id == "sle-micro" ||
      id == "suse") {
    return "zypper install --force ";
  }
  int major = 0;
  for (char ch : os.version_id) {
    if (ch < '0' || ch > '9' || major > 1000) break;
    major = major * 10 + (ch - '0');
  }
  bool el = id == "centos" || id == "rhel" || id == "ol" || id == "scientific" ||
            id == "almalinux" || id == "rocky" || id == "cloudlinux";
  if ((el && major > 0 && major < 8) || (id == "amzn" && major == 2)) return "yum reinstall ";
  return "dnf reinstall ";
}

std::string reinstall_fix(pkg::Manager m, const std::string& package, const pkg::OsRelease& os) {
  std::string cmd = m == pkg::Manager::kApk   ? "apk fix " + escape(package)
                    : m == pkg::Manager::kRpm ? rpm_reinstall(os) + escape(package)
                                              : "apt-get install --reinstall " + escape(package);
  return cmd + ", or remove the package with the package manager";
}

std::string package_message(const pkg::VerifyFinding& v, std::optional<uint32_t> layer) {
  std::string who =
      " of package " + escape(v.package) + " (" + std::string(manager_name(v.manager)) + ")";
  std::string by = layer ? " by layer " + std::to_string(*layer) : "";
  std::string p = escape(v.path);
  if (v.missing != pkg::Missing::kPresent) {
    std::string how = v.missing == pkg::Missing::kNotDir ? " (a parent is not a directory)"
                      : v.missing == pkg::Missing::kLoop ? " (a symlink loop on the way)"
                                                         : "";
    return (v.conffile ? "conffile " : "") + p + who + " is missing" + how +
           (layer ? ": deleted or replaced" + by : "");
  }
  std::string what;
  if (v.manager == pkg::Manager::kRpm) {
    // rpm -V's letters in words.
    std::string parts;
    auto part = [&](pkg::Check ch, std::string_view w) {
      if (ch == pkg::Check::kFail) parts += (parts.empty() ? "" : ", ") + std::string(w);
    };
    part(v.size, "size");
    part(v.mode, "mode");
    part(v.digest, "content digest");
    part(v.link, "symlink target");
    part(v.mtime, "mtime");
    what = " differs from the package in " + parts;
  } else {
    what = v.mode == pkg::Check::kFail ? " is no longer a regular file"
           : v.conffile                ? " was changed from the packaged version"
                                       : " differs from the package's checksum";
  }
  return p + who + what + (layer ? " (changed" + by + ")" : "");
}

void package_files(Ctx& c) {
  if (!c.packages) return;
  struct Rest {
    size_t count = 0;
    std::vector<std::string> paths;
    std::optional<uint32_t> layer;
    pkg::Manager manager = pkg::Manager::kDpkg;
  };
  std::map<std::pair<std::string_view, std::string>, size_t> count;
  std::map<std::pair<std::string_view, std::string>, Rest> rest;
  for (const pkg::VerifyFinding& v : c.packages->findings) {
    // Not unpacked on purpose (dpkg path-exclude: docs, man pages, locales of slim images).
    if (v.missing != pkg::Missing::kPresent && v.path_excluded) continue;
    // rpm -V's "T" alone (same bytes, mode and target, a new mtime) is no change worth a finding.
    if (v.missing == pkg::Missing::kPresent && v.mtime == pkg::Check::kFail &&
        v.size != pkg::Check::kFail && v.mode != pkg::Check::kFail &&
        v.digest != pkg::Check::kFail && v.link != pkg::Check::kFail) {
      continue;
    }
    std::string_view rule = package_rule(v);
    std::pair key{rule, v.package};
    if (++count[key] > kMaxPackageFindings) {
      Rest& r = rest[key];
      if (r.count++ == 0) r.layer = v.layer;
      if (r.layer != v.layer) r.layer.reset();
      r.manager = v.manager;
      if (r.paths.size() < kMaxListed) r.paths.push_back(v.line());
      continue;
    }
    Finding& f = add(c, rule, v.path, v.layer, package_message(v, v.layer));
    f.evidence.push_back(std::string(manager_name(v.manager)) + " --verify: " + v.line());
    f.fix = rule == "conffile-modified"
                ? "nothing to do if the change is intended; keep it in your own config layer"
                : reinstall_fix(v.manager, v.package, c.packages->os);
  }
  for (auto& [key, r] : rest) {
    Finding& f =
        add(c, key.first, "", r.layer,
            std::to_string(r.count) + " more files of package " + escape(key.second) + " (" +
                std::string(manager_name(r.manager)) + "): " + std::string(key.first) +
                " (`coroner packages --verify` lists them all)");
    f.evidence = std::move(r.paths);
    if (r.count > kMaxListed) {
      f.evidence.push_back("... " + std::to_string(r.count - kMaxListed) + " more");
    }
    if (key.first != "conffile-modified")
      f.fix = reinstall_fix(r.manager, key.second, c.packages->os);
  }
}

// --- package databases present but not read ------------------------------------------------

void unread_databases(Ctx& c) {
  if (!c.packages) return;
  for (const std::string& u : c.packages->unread_databases) {
    // "PATH: what kept it from being read".
    std::string path = u.substr(0, u.find(':'));
    std::optional<uint32_t> layer;
    if (auto id = c.tree().lookup(path)) layer = c.tree().node(*id).layer;
    add(c, "package-db-unread", path, layer,
        u + ": its packages are not listed or verified, and no executable counts as owned")
        .fix = "";
  }
}

// --- executables: inventory and unowned ones; limits and sysctl settings --------------------

std::string count_line(std::string_view what, uint64_t n) {
  return std::string(what) + ": " + std::to_string(n);
}

void executables(Ctx& c) {
  // verify() has read the package databases already when the audit ran it.
  std::vector<std::string> read_here;
  if (!c.packages) read_here = pkg::owned_paths(c.tree(), c.in.root.layers());
  ExecutableInventory inv =
      inventory_executables(c.in.root, c.packages ? c.packages->owned_paths : read_here);
  if (inv.total == 0) return;
  std::string kinds;
  for (size_t i = 0; i < inv.by_kind.size() && i < 4; ++i) {
    kinds += (i ? ", " : "") + std::to_string(inv.by_kind[i].second) + " " + inv.by_kind[i].first;
  }
  if (inv.by_kind.size() > 4) kinds += ", ...";
  Finding& f = add(c, "executable-inventory", "", std::nullopt,
                   std::to_string(inv.total) + " executable files (" + kinds + ") in " +
                       std::to_string(inv.by_directory.size()) + " directories, from " +
                       std::to_string(inv.by_layer.size()) + " layer(s)");
  for (const auto& [kind, n] : inv.by_kind) f.evidence.push_back(count_line("kind " + kind, n));
  for (const auto& [layer, n] : inv.by_layer) {
    std::string step = layer < c.created_by.size() ? c.created_by[layer] : "";
    f.evidence.push_back(count_line("layer " + std::to_string(layer), n) +
                         (step.empty() ? "" : " (" + escape(step, 80) + ")"));
  }
  constexpr size_t kMaxDirs = 15;
  for (size_t i = 0; i < inv.by_directory.size() && i < kMaxDirs; ++i) {
    f.evidence.push_back(
        count_line("dir " + inv.by_directory[i].first, inv.by_directory[i].second));
  }
  if (inv.by_directory.size() > kMaxDirs) {
    f.evidence.push_back("... " + std::to_string(inv.by_directory.size() - kMaxDirs) +
                         " more directories");
  }
  f.fix = "";
  for (const ExecutableInventory::Unowned& u : inv.unowned) {
    bool local = starts_with(u.dir, "/usr/local/");
    std::string names;
    for (size_t i = 0; i < u.paths.size() && i < 3; ++i) {
      names += (i ? ", " : "") + escape(u.paths[i].substr(u.dir.size() + 1));
    }
    if (u.paths.size() > 3) names += ", ...";
    Finding& g = add(c, "executable-unowned", u.paths.front(), u.layer,
                     std::to_string(u.paths.size()) + " executable(s) in " + u.dir +
                         " that no package owns (" + names + "): installed by hand" +
                         (local ? "" : " into a package-managed directory"));
    for (size_t i = 0; i < u.paths.size() && i < kMaxListed; ++i) {
      g.evidence.push_back(escape(u.paths[i]) + " (" + u.kinds[i] + ")");
    }
    if (u.paths.size() > kMaxListed) {
      g.evidence.push_back("... " + std::to_string(u.paths.size() - kMaxListed) + " more");
    }
    g.fix = local ? "record where it comes from (version, checksum), or install it as a package"
                  : "install it from a package, or put it in /usr/local/bin";
  }
}

void settings(Ctx& c) {
  constexpr size_t kMaxLines = 50;
  for (SettingsFile& s : limits_and_sysctl(c.in.root)) {
    std::optional<uint32_t> layer;
    if (auto id = c.tree().lookup(s.path)) layer = c.tree().node(*id).layer;
    size_t n = s.lines.size();
    std::string msg =
        s.sysctl ? s.path + " sets " + std::to_string(n) +
                       " kernel parameter(s): a container does not apply them at start (namespaced "
                       "ones need docker run --sysctl; the others belong to the host)"
                 : s.path + " sets " + std::to_string(n) +
                       " resource limit(s): pam_limits applies them to login sessions (su, sshd, "
                       "login), not to the container's main process (docker run --ulimit does)";
    Finding& f = add(c, "ulimit-sysctl-settings", s.path, layer, msg);
    if (s.lines.size() > kMaxLines) {
      s.lines.resize(kMaxLines);
      s.lines.push_back("... " + std::to_string(n - kMaxLines) + " more");
    }
    f.evidence = std::move(s.lines);
    f.fix = s.sysctl ? "pass the settings the service needs with --sysctl, or document them"
                     : "set the limits with --ulimit (or the orchestrator's equivalent)";
  }
}

// --- config drift against a --against baseline -------------------------------------------

void config_drift(Ctx& c) {
  for (const std::string& d : c.in.config_drift) {
    std::string path = d.substr(0, d.find(": "));
    std::optional<uint32_t> layer;
    if (auto id = c.tree().lookup(path)) layer = c.tree().node(*id).layer;
    add(c, "config-drift", path, layer, "config drift: " + d);
  }
}

}  // namespace

bool audit_capture_paths(std::string_view p, uint64_t size) {
  if (size > kMaxAuditCapture) return false;
  if (starts_with(p, "var/log/") || settings_capture_paths(p)) return true;
  std::string name = base_name(p);
  return name == ".env" || starts_with(name, ".env.");
}

std::vector<Finding> run_audit(const AuditInput& input) {
  Ctx c{input, created_by_of_layers(input.info), {}};
  // The rules that need no package data first.
  secret_file_readable(c);
  content_secrets(c);
  private_key_files(c);
  config_secrets(c);
  env_files(c);
  world_writable(c);
  setuid_binary(c);
  orphan_owner(c);
  dangling_symlink(c);
  log_errors(c);
  tmp_leftovers(c);
  wasted_space(c);
  config_drift(c);
  settings(c);
  if (input.packages) c.packages = input.packages();
  package_files(c);
  unread_databases(c);
  executables(c);
  sort_findings(c.out);
  return std::move(c.out);
}

}  // namespace coroner::rules
