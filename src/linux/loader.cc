#include "linux/loader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "base/error.h"
#include "base/text.h"

namespace coroner::linux_ {
namespace {

constexpr uint16_t EM_386 = 3, EM_ARM = 40, EM_X86_64 = 62, EM_AARCH64 = 183, EM_PPC64 = 21,
                   EM_S390 = 22, EM_RISCV = 243, EM_LOONGARCH = 258;
constexpr uint8_t ELFCLASS64 = 2;  // else ELFCLASS32 (1)
constexpr uint8_t ELFDATA2LSB = 1;
constexpr uint8_t ELFOSABI_SYSV = 0, ELFOSABI_GNU = 3;
constexpr uint16_t ET_EXEC = 2, ET_DYN = 3;
constexpr uint64_t DF_1_NODEFLIB = 0x800, DF_1_PIE = 0x08000000;
constexpr uint32_t EF_ARM_ABI_FLOAT_SOFT = 0x200, EF_ARM_ABI_FLOAT_HARD = 0x400;

// Bounds that keep a hostile image linear: objects in one closure, and dirs per search list.
constexpr size_t kMaxObjects = 4096;
constexpr size_t kMaxSearchDirs = 512;

// What the loader of one architecture has compiled in.
struct Arch {
  std::string_view oci, variant;  // for ld_cache_id_for_platform
  std::string_view triplet;       // Debian multiarch triplet ($LIB, SYSTEM_DIRS)
  std::string_view platform;      // AT_PLATFORM, glibc's $PLATFORM; "" when it depends on the CPU
  std::string_view musl;          // musl's LDSO_ARCH
  std::string_view glibc_interp;  // glibc's canonical PT_INTERP
};

// AT_PLATFORM comes from the kernel (ELF_PLATFORM): "x86_64" on x86-64 (checked with LD_DEBUG
// on Debian 12: $PLATFORM expanded to "x86_64"), "i686", "aarch64", "v7l" on ARMv7. On POWER and
// s390x it names the CPU generation, so it is left unknown (glibc then drops the element).
std::optional<Arch> arch_of(const elf::ElfInfo& e) {
  bool b64 = e.ei_class == ELFCLASS64;
  switch (e.e_machine) {
    case EM_X86_64:
      if (!b64) return std::nullopt;  // x32
      return Arch{"amd64",  "",       "x86_64-linux-gnu",
                  "x86_64", "x86_64", "/lib64/ld-linux-x86-64.so.2"};
    case EM_386:
      return Arch{"386", "", "i386-linux-gnu", "i686", "i386", "/lib/ld-linux.so.2"};
    case EM_AARCH64:
      return Arch{"arm64",   "",        "aarch64-linux-gnu",
                  "aarch64", "aarch64", "/lib/ld-linux-aarch64.so.1"};
    case EM_ARM:
      if (e.e_flags & EF_ARM_ABI_FLOAT_HARD) {
        return Arch{"arm", "v7", "arm-linux-gnueabihf", "v7l", "armhf", "/lib/ld-linux-armhf.so.3"};
      }
      return Arch{"arm", "v5", "arm-linux-gnueabi", "v7l", "arm", "/lib/ld-linux.so.3"};
    case EM_PPC64:
      if (e.ei_data != ELFDATA2LSB) return std::nullopt;
      return Arch{"ppc64le", "", "powerpc64le-linux-gnu", "", "powerpc64le", "/lib64/ld64.so.2"};
    case EM_S390:
      return Arch{"s390x", "", "s390x-linux-gnu", "", "s390x", "/lib/ld64.so.1"};
    case EM_RISCV:
      return Arch{"riscv64", "",        "riscv64-linux-gnu",
                  "",        "riscv64", "/lib/ld-linux-riscv64-lp64d.so.1"};
    case EM_LOONGARCH:
      return Arch{"loong64",
                  "",
                  "loongarch64-linux-gnu",
                  "",
                  "loongarch64",
                  "/lib64/ld-linux-loongarch-lp64d.so.1"};
    default:
      return std::nullopt;
  }
}

// As elf::machine_name, for the machines above (coroner_linux does not link coroner_elf).
std::string machine_text(const elf::ElfInfo& e) {
  std::string name;
  switch (e.e_machine) {
    case EM_386:
      name = "i386";
      break;
    case EM_ARM:
      name = "ARM";
      break;
    case EM_X86_64:
      name = "x86-64";
      break;
    case EM_AARCH64:
      name = "AArch64";
      break;
    case EM_PPC64:
      name = "PowerPC64";
      break;
    case EM_S390:
      name = "S/390";
      break;
    case EM_RISCV:
      name = "RISC-V";
      break;
    case EM_LOONGARCH:
      name = "LoongArch";
      break;
    default:
      name = "machine " + std::to_string(e.e_machine);
  }
  return std::string(e.ei_class == ELFCLASS64 ? "64-bit " : "32-bit ") + name;
}

// elf_machine_matches_host plus the EI_CLASS test of open_verify: what makes glibc skip a
// candidate ("found_other_class") rather than fail. ARM also checks the float ABI.
bool same_machine(const elf::ElfInfo& a, const elf::ElfInfo& b) {
  if (a.ei_class != b.ei_class || a.e_machine != b.e_machine) return false;
  if (a.e_machine != EM_ARM) return true;
  uint32_t mask = EF_ARM_ABI_FLOAT_HARD | EF_ARM_ABI_FLOAT_SOFT;
  return (a.e_flags & mask) == (b.e_flags & mask) || (a.e_flags & mask) == 0 ||
         (b.e_flags & mask) == 0;
}

std::string dirname_of(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// "2.31" in "ld-2.31.so" or "... release version 2.36": major * 100 + minor.
int parse_version(std::string_view s) {
  int major = 0, minor = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), major);
  if (r.ec != std::errc() || r.ptr == s.data() + s.size() || *r.ptr != '.') return 0;
  auto r2 = std::from_chars(r.ptr + 1, s.data() + s.size(), minor);
  if (r2.ec != std::errc() || minor > 99) return 0;
  return major * 100 + minor;
}

// glibc's is_dst (elf/dl-load.c): "$NAME" not followed by [A-Za-z0-9_], or "${NAME}". Returns
// the length after the '$', or 0.
size_t is_dst(std::string_view input, std::string_view ref) {
  bool curly = !input.empty() && input.front() == '{';
  if (curly) input.remove_prefix(1);
  if (input.substr(0, ref.size()) != ref) return 0;
  if (curly) return input.size() > ref.size() && input[ref.size()] == '}' ? ref.size() + 2 : 0;
  if (input.size() > ref.size()) {
    auto c = static_cast<unsigned char>(input[ref.size()]);
    if (std::isalnum(c) || c == '_') return 0;
  }
  return ref.size();
}

struct DstValues {
  std::string origin;  // "" when unknown
  std::string_view platform;
  std::string lib;
};

// _dl_dst_substitute: $ORIGIN, $PLATFORM, $LIB (plain or braced); an unknown "$X" stays as
// written; a known token without a value drops the element (nullopt).
std::optional<std::string> expand_dst(std::string_view s, const DstValues& v) {
  if (s.find('$') == std::string_view::npos) return std::string(s);
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] != '$') {
      out += s[i++];
      continue;
    }
    std::string_view rest = s.substr(i + 1);
    std::string_view repl;
    size_t len = 0;
    if ((len = is_dst(rest, "ORIGIN")) != 0) {
      repl = v.origin;
    } else if ((len = is_dst(rest, "PLATFORM")) != 0) {
      repl = v.platform;
    } else if ((len = is_dst(rest, "LIB")) != 0) {
      repl = v.lib;
    }
    if (len == 0) {
      out += '$';
      ++i;
      continue;
    }
    if (repl.empty()) return std::nullopt;
    out += repl;
    i += 1 + len;
  }
  return out;
}

std::vector<std::string_view> split_any(std::string_view s, std::string_view seps) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (out.size() < kMaxSearchDirs) {
    size_t end = s.find_first_of(seps, i);
    out.push_back(s.substr(i, end == std::string_view::npos ? s.size() - i : end - i));
    if (end == std::string_view::npos) break;
    i = end + 1;
  }
  return out;
}

// How a candidate file fares in open_verify / map_library.
enum class Probe : uint8_t { kAbsent, kSkipped, kUsable, kFatal };

struct Candidate {
  Probe probe = Probe::kAbsent;
  fs::NodeId node = fs::kRootNode;
  const elf::ElfInfo* elf = nullptr;
  std::string detail;  // kSkipped: what it is; kFatal: the loader's error
};

// One object of the link map.
struct Object {
  std::string name;    // the first name (l_libname), or the program path
  std::string path;    // l_name: as opened
  std::string origin;  // l_origin: dir of `path` (the program: canonical)
  fs::NodeId node = fs::kRootNode;
  const elf::ElfInfo* elf = nullptr;
  int loader = -1;                 // l_loader (glibc) / needed_by (musl): index in objects
  std::vector<std::string> names;  // names it matches (l_libname; musl: shortname)
  int listed = -1;                 // index in LoadResult::loaded, -1 while not in the list
};

class Simulation {
 public:
  Simulation(const LoaderContext& ctx, const LoaderEnv& env, LoadResult& out)
      : ctx_(ctx), root_(ctx.root()), tree_(ctx.root().tree()), env_(env), out_(out) {
    auto cwd = root_.resolve(env.cwd.empty() ? "/" : env.cwd);
    if (cwd.ok() && tree_.node(*cwd.node).is_dir()) cwd_ = *cwd.node;
  }

  void run(fs::NodeId program);

 private:
  // Setup.
  bool check_interp();
  void setup_glibc();
  // The breadth-first walk of _dl_map_object_deps / musl's load_deps.
  void map_deps();
  void map_needed(int from, const std::string& needed);
  int find_loaded_glibc(const std::string& name);
  int find_loaded_musl(const std::string& name, bool* is_self);
  // Search.
  Candidate check(const std::string& path) const;
  std::optional<std::pair<std::string, Candidate>> search_glibc(int from, const std::string& name,
                                                                std::string* via,
                                                                std::vector<std::string>* searched);
  std::optional<std::pair<std::string, Candidate>> search_musl(int from, const std::string& name,
                                                               std::string* via,
                                                               std::vector<std::string>* searched);
  std::optional<std::pair<std::string, Candidate>> search_dirs(const std::vector<std::string>& dirs,
                                                               const std::string& name,
                                                               bool subdirs,
                                                               std::vector<std::string>* searched);
  std::optional<std::pair<std::string, Candidate>> search_cache(int from, const std::string& name);
  std::vector<std::string> path_list(std::string_view list, std::string_view seps,
                                     const DstValues& dst) const;
  std::vector<std::string> rpath_of(int obj, bool runpath) const;
  DstValues dst_of(int obj) const;
  void setup_dirs();
  std::vector<std::string> musl_sys_path();
  // Results.
  int add_object(int from, const std::string& name, const std::string& path, const Candidate& c,
                 const std::string& via);
  void list_object(int obj, const std::string& via, int from);
  void add_name(int obj, const std::string& name);
  void missing(int from, const std::string& name, std::vector<std::string> searched,
               std::string error);
  void explain(MissingLibrary& m, int from) const;
  void check_versions();
  void note(std::string text);

  const LoaderContext& ctx_;
  const RootView& root_;
  const fs::Tree& tree_;
  const LoaderEnv& env_;
  LoadResult& out_;
  // nullopt: the WORKDIR is not in the image. Docker creates it, empty, before the process
  // starts, so a relative path finds nothing there (rather than being looked up from /).
  std::optional<fs::NodeId> cwd_;

  Arch arch_;
  const elf::ElfInfo* elf_ = nullptr;  // the program's
  bool musl_ = false;
  int rtld_ = -1;  // the loader itself, in objects_ from the start (listed when referenced)
  std::vector<Object> objects_;
  std::vector<std::string> subdirs_;  // glibc: hwcaps and legacy subdirs, then ""
  std::optional<int32_t> cache_id_;
  std::string lib_;                       // $LIB
  std::vector<std::string> system_dirs_;  // SYSTEM_DIRS
  std::vector<int> order_;                // objects_ index of each LoadResult::loaded entry
  bool fatal_ = false;
  std::string fatal_path_;
};

void Simulation::note(std::string text) {
  if (std::find(out_.notes.begin(), out_.notes.end(), text) == out_.notes.end()) {
    out_.notes.push_back(std::move(text));
  }
}

// open_verify (glibc elf/dl-load.c) and map_library (musl), on the facts the scan kept.
Candidate Simulation::check(const std::string& path) const {
  Candidate c;
  if (!cwd_ && (path.empty() || path.front() != '/')) return c;  // in the empty WORKDIR
  fs::ResolveOptions opt;
  opt.cwd = cwd_.value_or(fs::kRootNode);
  fs::ResolveResult r = fs::resolve(tree_, path, opt);
  if (!r.ok()) return c;  // ENOENT, ENOTDIR, ELOOP: the next candidate
  c.node = *r.node;
  const fs::Node& n = tree_.node(c.node);
  if (n.is_dir()) {
    c.probe = Probe::kFatal;
    c.detail = "cannot read file data: Is a directory";
    return c;
  }
  if (!n.is_regular()) return c;
  const scan::Facts* f = root_.facts(c.node);
  if (f == nullptr || !f->elf) {
    c.probe = Probe::kFatal;
    if (f != nullptr && !f->elf_error.empty()) {
      c.detail = "ELF file is malformed (" + f->elf_error + ")";
    } else {
      c.detail = n.inode->size < 52 ? "file too short" : "invalid ELF header";
    }
    return c;
  }
  c.elf = &*f->elf;
  const elf::ElfInfo& e = *c.elf;
  if (musl_) {
    // musl's map_library checks only e_type and PT_DYNAMIC: a library of another machine is
    // mapped and fails later, so it ends the search rather than being skipped.
    if (!same_machine(e, *elf_)) {
      c.probe = Probe::kFatal;
      c.detail = "Exec format error (" + machine_text(e) + ", not " + machine_text(*elf_) +
                 "; musl does not skip it)";
      return c;
    }
    c.probe = (e.e_type == ET_DYN || e.e_type == ET_EXEC) && e.has_dynamic ? Probe::kUsable
                                                                           : Probe::kFatal;
    if (c.probe == Probe::kFatal) c.detail = "Exec format error";
    return c;
  }
  if (e.ei_class != elf_->ei_class) {
    c.probe = Probe::kSkipped;
    c.detail = machine_text(e);
    return c;
  }
  if (e.ei_data != elf_->ei_data) {
    c.probe = Probe::kFatal;
    c.detail = elf_->ei_data == ELFDATA2LSB ? "ELF file data encoding not little-endian"
                                            : "ELF file data encoding not big-endian";
    return c;
  }
  if (e.ei_osabi != ELFOSABI_SYSV && e.ei_osabi != ELFOSABI_GNU) {
    c.probe = Probe::kFatal;
    c.detail = "ELF file OS ABI invalid";
    return c;
  }
  if (!same_machine(e, *elf_)) {
    c.probe = Probe::kSkipped;
    c.detail = machine_text(e);
    return c;
  }
  if (e.e_type != ET_DYN && e.e_type != ET_EXEC) {
    c.probe = Probe::kFatal;
    c.detail = "only ET_DYN and ET_EXEC can be loaded";
    return c;
  }
  if (e.e_type == ET_EXEC) {
    c.probe = Probe::kFatal;
    c.detail = "cannot dynamically load executable";
    return c;
  }
  if (e.dt_flags_1 & DF_1_PIE) {
    c.probe = Probe::kFatal;
    c.detail = "cannot dynamically load position-independent executable";
    return c;
  }
  c.probe = Probe::kUsable;
  return c;
}

DstValues Simulation::dst_of(int obj) const {
  DstValues v;
  v.origin = objects_[obj].origin;
  v.platform = arch_.platform;
  v.lib = lib_;
  return v;
}

// fillin_rpath: split, expand DSTs per element, drop elements that expand to nothing, strip
// trailing slashes. An empty element stays "" (the working directory).
std::vector<std::string> Simulation::path_list(std::string_view list, std::string_view seps,
                                               const DstValues& dst) const {
  std::vector<std::string> out;
  for (std::string_view elem : split_any(list, seps)) {
    std::string dir;
    if (!elem.empty()) {
      std::optional<std::string> x =
          musl_ ? std::optional<std::string>(std::string(elem)) : expand_dst(elem, dst);
      if (!x || x->empty()) continue;
      dir = std::move(*x);
      while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    } else if (musl_) {
      continue;  // path_open skips empty elements
    }
    if (std::find(out.begin(), out.end(), dir) == out.end()) out.push_back(std::move(dir));
  }
  return out;
}

// DT_RPATH (runpath false) or DT_RUNPATH of an object, expanded. glibc ignores DT_RPATH when
// DT_RUNPATH is present (elf/get-dynamic-info.h). musl takes DT_RUNPATH over DT_RPATH and treats
// both alike; an element list with a '$' other than $ORIGIN is ignored whole (fixup_rpath).
std::vector<std::string> Simulation::rpath_of(int obj, bool runpath) const {
  const elf::ElfInfo& e = *objects_[obj].elf;
  if (musl_) {
    const std::optional<std::string>& rp = e.runpath ? e.runpath : e.rpath;
    if (!rp) return {};
    std::string s = *rp;
    for (size_t i = s.find('$'); i != std::string::npos; i = s.find('$', i + 1)) {
      std::string_view t = std::string_view(s).substr(i);
      if (t.substr(0, 7) != "$ORIGIN" && t.substr(0, 9) != "${ORIGIN}") return {};
    }
    std::string expanded;
    for (size_t i = 0; i < s.size();) {
      if (s[i] != '$') {
        expanded += s[i++];
        continue;
      }
      expanded += objects_[obj].origin;
      i += s.compare(i, 9, "${ORIGIN}") == 0 ? 9 : 7;
    }
    return path_list(expanded, ":\n", {});
  }
  const std::optional<std::string>& rp = runpath ? e.runpath : (e.runpath ? std::nullopt : e.rpath);
  if (!rp) return {};
  return path_list(*rp, ":", dst_of(obj));
}

// SYSTEM_DIRS compiled into ld.so. Debian (and Ubuntu) configure slibdir=/lib/<triplet> and
// libdir=/usr/lib/<triplet>, giving "/lib/x86_64-linux-gnu/:/usr/lib/x86_64-linux-gnu/:/lib/:
// /usr/lib/" (strings /lib64/ld-linux-x86-64.so.2 and `ld.so --help` on Debian 11 and 12). Other
// distributions: /lib64:/usr/lib64 for 64-bit (Fedora, RHEL, SUSE), /lib:/usr/lib otherwise.
// $LIB follows the same configuration: "lib/<triplet>" on Debian (LD_DEBUG=libs on Debian 12:
// /x/$LIB -> /x/lib/x86_64-linux-gnu), else lib64 or lib. Debian is recognised by its multiarch
// library dir.
void Simulation::setup_dirs() {
  std::string t(arch_.triplet);
  if (root_.resolve("/usr/lib/" + t).ok() || root_.resolve("/lib/" + t).ok()) {
    system_dirs_ = {"/lib/" + t, "/usr/lib/" + t, "/lib", "/usr/lib"};
    lib_ = "lib/" + t;
  } else if (elf_->ei_class == ELFCLASS64 &&
             arch_.glibc_interp.find("lib64") != std::string_view::npos) {
    system_dirs_ = {"/lib64", "/usr/lib64"};
    lib_ = "lib64";
  } else {
    system_dirs_ = {"/lib", "/usr/lib"};
    lib_ = "lib";
  }
}

// musl's sys_path: "/etc/ld-musl-ARCH.path" under the prefix of the loader's own path (its
// directory's parent: "/lib/ld-musl-x86_64.so.1" gives ""), else the compiled-in default.
std::vector<std::string> Simulation::musl_sys_path() {
  std::string prefix;
  const std::string& ldso = *elf_->interp;
  if (!ldso.empty() && ldso.front() == '/') {
    size_t t = 0, z = 0;
    for (size_t i = 0; i < ldso.size(); ++i) {
      if (ldso[i] == '/') z = t, t = i;
    }
    prefix = ldso.substr(0, z);
  }
  std::string file = prefix + "/etc/ld-musl-" + std::string(arch_.musl) + ".path";
  std::optional<std::string_view> content = root_.content(file);
  if (!content && root_.resolve(file).ok()) {
    note(file + " exists but its content was not captured: taking it as empty");
    content = std::string_view();
  }
  std::vector<std::string> dirs = parse_musl_path(content);
  if (dirs.size() > kMaxSearchDirs) dirs.resize(kMaxSearchDirs);
  return dirs;
}

// open_path: each dir, and under it each hwcaps subdir first (glibc), until a usable file.
std::optional<std::pair<std::string, Candidate>> Simulation::search_dirs(
    const std::vector<std::string>& dirs, const std::string& name, bool subdirs,
    std::vector<std::string>* searched) {
  static const std::vector<std::string> kNone = {""};
  for (const std::string& dir : dirs) {
    searched->push_back(dir.empty() ? "." : dir);
    std::string base = dir.empty() ? "" : (dir == "/" ? "/" : dir + "/");
    if (!cwd_ && (dir.empty() || dir.front() != '/')) continue;  // in the empty WORKDIR
    fs::ResolveOptions opt;
    opt.cwd = cwd_.value_or(fs::kRootNode);
    if (!fs::resolve(tree_, dir.empty() ? "." : dir, opt).ok()) continue;
    for (const std::string& sub : subdirs ? subdirs_ : kNone) {
      std::string path = base + sub + name;
      Candidate c = check(path);
      if (c.probe == Probe::kAbsent) continue;
      if (c.probe == Probe::kSkipped) {
        note("skipped " + path + ": " + c.detail + ", not " + machine_text(*elf_));
        continue;
      }
      return std::make_pair(path, std::move(c));
    }
  }
  return std::nullopt;
}

// /etc/ld.so.cache: search_cache of elf/dl-cache.c (glibc-hwcaps entries for the chosen CPU
// level first), then open_verify of the value. A value whose file is gone falls through to the
// default dirs; with DF_1_NODEFLIB a value inside the system dirs is not used.
std::optional<std::pair<std::string, Candidate>> Simulation::search_cache(int from,
                                                                          const std::string& name) {
  const LdCache* cache = ctx_.ld_cache();
  if (cache == nullptr || !cache_id_ || !ld_cache_usable(*cache, elf_->ei_data == ELFDATA2LSB)) {
    return std::nullopt;
  }
  const LdCacheEntry* entry = nullptr;
  if (!cache->hwcaps_subdirs.empty() && env_.x86_64_level > 1) {
    int best = 1;
    for (const LdCacheEntry& e : cache->entries) {
      if (!e.hwcaps_subdir || e.soname != name || !ld_cache_flags_match(e.flags, *cache_id_)) {
        continue;
      }
      std::string_view s = *e.hwcaps_subdir;
      if (!starts_with(s, "x86-64-v") || s.size() != 9) continue;
      int level = s.back() - '0';
      if (level > best && level <= env_.x86_64_level) best = level, entry = &e;
    }
  }
  if (entry == nullptr) entry = lookup_entry(*cache, name, *cache_id_);
  if (entry == nullptr) return std::nullopt;
  const std::string& path = entry->path;
  if (objects_[from].elf->dt_flags_1 & DF_1_NODEFLIB) {
    for (const std::string& d : system_dirs_) {
      if (starts_with(path, d + "/")) {
        note("ld.so.cache entry " + path + " for " + name + " is in a default dir, which " +
             objects_[from].path + " excludes (DF_1_NODEFLIB)");
        return std::nullopt;
      }
    }
  }
  Candidate c = check(path);
  if (c.probe == Probe::kAbsent) {
    note("stale /etc/ld.so.cache entry: " + name + " => " + path +
         " (the file is gone; ld.so falls back to the default dirs)");
    return std::nullopt;
  }
  if (c.probe == Probe::kSkipped) {
    note("skipped " + path + " (ld.so.cache): " + c.detail + ", not " + machine_text(*elf_));
    return std::nullopt;
  }
  return std::make_pair(path, std::move(c));
}

// _dl_map_object (elf/dl-load.c), for a name without '/'.
std::optional<std::pair<std::string, Candidate>> Simulation::search_glibc(
    int from, const std::string& name, std::string* via, std::vector<std::string>* searched) {
  using Found = std::optional<std::pair<std::string, Candidate>>;
  auto done = [&](Found f) { return f && (f->second.probe == Probe::kUsable || (fatal_ = true)); };
  // DT_RPATH of the loader and of the chain of objects that loaded it, unless the loader has
  // DT_RUNPATH. The chain ends at the program, whose DT_RPATH thus applies to every object.
  if (!objects_[from].elf->runpath) {
    for (int l = from; l >= 0; l = objects_[l].loader) {
      std::vector<std::string> dirs = rpath_of(l, false);
      if (dirs.empty()) continue;
      Found f = search_dirs(dirs, name, true, searched);
      *via = "DT_RPATH of " + objects_[l].path;
      if (done(f)) return f;
    }
  }
  // LD_LIBRARY_PATH (':' or ';'), DSTs relative to the program.
  if (!env_.ld_library_path.empty()) {
    Found f = search_dirs(path_list(env_.ld_library_path, ":;", dst_of(0)), name, true, searched);
    *via = "LD_LIBRARY_PATH";
    if (done(f)) return f;
  }
  // The loader's own DT_RUNPATH: it is not consulted for the dependencies' dependencies.
  if (objects_[from].elf->runpath) {
    Found f = search_dirs(rpath_of(from, true), name, true, searched);
    *via = "DT_RUNPATH of " + objects_[from].path;
    if (done(f)) return f;
  }
  // /etc/ld.so.cache.
  if (Found f = search_cache(from, name)) {
    *via = "ld.so.cache";
    searched->push_back("/etc/ld.so.cache");
    if (done(f)) return f;
  } else if (ctx_.ld_cache() != nullptr) {
    searched->push_back("/etc/ld.so.cache");
  }
  // The default dirs, unless the loader says -z nodefaultlib.
  if (objects_[from].elf->dt_flags_1 & DF_1_NODEFLIB) return std::nullopt;
  Found f = search_dirs(system_dirs_, name, true, searched);
  *via = "default dir";
  if (done(f)) return f;
  return std::nullopt;
}

// musl's load_library: LD_LIBRARY_PATH, then the RPATH/RUNPATH of the loader and of every
// object up the needed_by chain, then the sys_path.
std::optional<std::pair<std::string, Candidate>> Simulation::search_musl(
    int from, const std::string& name, std::string* via, std::vector<std::string>* searched) {
  using Found = std::optional<std::pair<std::string, Candidate>>;
  auto done = [&](Found f) { return f && (f->second.probe == Probe::kUsable || (fatal_ = true)); };
  if (!env_.ld_library_path.empty()) {
    Found f = search_dirs(path_list(env_.ld_library_path, ":\n", {}), name, false, searched);
    *via = "LD_LIBRARY_PATH";
    if (done(f)) return f;
  }
  for (int l = from; l >= 0; l = objects_[l].loader) {
    std::vector<std::string> dirs = rpath_of(l, true);
    if (dirs.empty()) continue;
    Found f = search_dirs(dirs, name, false, searched);
    *via = std::string(objects_[l].elf->runpath ? "DT_RUNPATH" : "DT_RPATH") + " of " +
           objects_[l].path;
    if (done(f)) return f;
  }
  Found f = search_dirs(musl_sys_path(), name, false, searched);
  *via = "musl sys path";
  if (done(f)) return f;
  return std::nullopt;
}

void Simulation::add_name(int obj, const std::string& name) {
  Object& o = objects_[obj];
  if (std::find(o.names.begin(), o.names.end(), name) != o.names.end()) return;
  o.names.push_back(name);
  if (o.listed >= 0 && name != o.name) out_.loaded[o.listed].also_named.push_back(name);
}

void Simulation::list_object(int obj, const std::string& via, int from) {
  Object& o = objects_[obj];
  if (o.listed >= 0) return;
  o.listed = static_cast<int>(out_.loaded.size());
  order_.push_back(obj);
  LoadedObject lo;
  lo.name = o.name;
  lo.path = o.path;
  lo.node = o.node;
  lo.found_via = via;
  if (from >= 0) lo.needed_by = objects_[from].path;
  for (const std::string& n : o.names) {
    if (n != o.name) lo.also_named.push_back(n);
  }
  out_.loaded.push_back(std::move(lo));
}

int Simulation::add_object(int from, const std::string& name, const std::string& path,
                           const Candidate& c, const std::string& via) {
  // The same file under another name (st_dev/st_ino in both loaders): one object.
  const scan::Entry* inode = tree_.node(c.node).inode;
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (objects_[i].node != c.node && tree_.node(objects_[i].node).inode != inode) continue;
    add_name(static_cast<int>(i), name);
    list_object(static_cast<int>(i), via, from);
    return -1;
  }
  Object o;
  o.name = name;
  o.path = path;
  o.origin =
      path.empty() || path.front() == '/' ? dirname_of(path) : dirname_of(env_.cwd + "/" + path);
  o.node = c.node;
  o.elf = c.elf;
  o.loader = from;
  // glibc matches the DT_NEEDED string; musl the basename of the path, only after a search.
  if (!musl_) {
    o.names.push_back(name);
  } else if (name.find('/') == std::string::npos) {
    o.names.push_back(std::string(basename_of(path)));
  }
  objects_.push_back(std::move(o));
  int id = static_cast<int>(objects_.size()) - 1;
  list_object(id, via, from);
  return id;
}

void Simulation::missing(int from, const std::string& name, std::vector<std::string> searched,
                         std::string error) {
  MissingLibrary m;
  m.name = name;
  m.needed_by = objects_[from].path;
  m.searched = std::move(searched);
  m.error = std::move(error);
  if (m.error.empty()) explain(m, from);
  out_.missing.push_back(std::move(m));
}

// library-not-in-search-path: a usable file with this name (or DT_SONAME) elsewhere, and why
// the loader does not look there.
void Simulation::explain(MissingLibrary& m, int from) const {
  std::optional<fs::NodeId> found;
  bool by_soname = false;
  for (fs::NodeId id : ctx_.files_named(m.name)) {
    Candidate c = check(tree_.path_of(id));
    if (c.probe == Probe::kUsable) {
      found = id;
      break;
    }
  }
  if (!found) {
    for (fs::NodeId id : ctx_.files_with_soname(m.name)) {
      Candidate c = check(tree_.path_of(id));
      if (c.probe == Probe::kUsable) {
        found = id, by_soname = true;
        break;
      }
    }
  }
  if (!found) return;
  std::string path = tree_.path_of(*found);
  std::string dir = dirname_of(path);
  m.found_elsewhere = path;
  if (by_soname) {
    m.found_elsewhere_why = path + " has DT_SONAME " + m.name + " but no file is named " + m.name +
                            " where the loader looks (ldconfig creates that symlink)";
    return;
  }
  fs::ResolveResult dr = root_.resolve(dir);
  auto same_dir = [&](const std::string& other) {
    fs::ResolveResult o = root_.resolve(other);
    return o.ok() && dr.ok() && *o.node == *dr.node;
  };
  std::string_view sub = basename_of(dir);
  if (starts_with(sub, "x86-64-v") && basename_of(dirname_of(dir)) == "glibc-hwcaps") {
    m.found_elsewhere_why = dir + " is used only on CPUs of level " + std::string(sub) +
                            " (simulated level: x86-64-v" + std::to_string(env_.x86_64_level) + ")";
    return;
  }
  if (musl_) {
    m.found_elsewhere_why = dir +
                            " is in no search path of musl (LD_LIBRARY_PATH, DT_RPATH/"
                            "DT_RUNPATH, /etc/ld-musl-" +
                            std::string(arch_.musl) + ".path or /lib:/usr/local/lib:/usr/lib)";
    return;
  }
  for (const LdConfDir& d : ctx_.ld_so_conf().dirs) {
    if (!same_dir(d.path)) continue;
    m.found_elsewhere_why =
        dir + " is listed in " + d.file + " but " +
        (ctx_.ld_cache() == nullptr ? std::string("there is no usable /etc/ld.so.cache")
                                    : std::string("/etc/ld.so.cache was not rebuilt")) +
        " (run ldconfig): ld.so reads only the cache, never /etc/ld.so.conf";
    return;
  }
  if (objects_[from].elf->dt_flags_1 & DF_1_NODEFLIB) {
    for (const std::string& d : system_dirs_) {
      if (!same_dir(d)) continue;
      m.found_elsewhere_why = dir + " is a default dir, which " + objects_[from].path +
                              " excludes (DF_1_NODEFLIB, linked with -z nodefaultlib)";
      return;
    }
  }
  for (size_t i = 0; i < objects_.size(); ++i) {
    const elf::ElfInfo& e = *objects_[i].elf;
    if (objects_[i].listed < 0 || !e.rpath || !e.runpath) continue;
    for (const std::string& d : path_list(*e.rpath, ":", dst_of(static_cast<int>(i)))) {
      if (!same_dir(d)) continue;
      m.found_elsewhere_why = dir + " is in the DT_RPATH of " + objects_[i].path +
                              ", which ld.so ignores because it also has DT_RUNPATH";
      return;
    }
  }
  for (size_t i = 0; i < objects_.size(); ++i) {
    if (static_cast<int>(i) == from || objects_[i].listed < 0 || !objects_[i].elf->runpath) {
      continue;
    }
    for (const std::string& d : rpath_of(static_cast<int>(i), true)) {
      if (!same_dir(d)) continue;
      m.found_elsewhere_why = dir + " is in the DT_RUNPATH of " + objects_[i].path +
                              ", which applies only to its own DT_NEEDED, not to those of " +
                              objects_[from].path;
      return;
    }
  }
  m.found_elsewhere_why = "in " + dir + ", which no search path names";
}

int Simulation::find_loaded_glibc(const std::string& name) {
  // _dl_map_object: l_name, every l_libname, then DT_SONAME (which is then added as a name).
  for (size_t i = 0; i < objects_.size(); ++i) {
    const Object& o = objects_[i];
    if (o.path == name || std::find(o.names.begin(), o.names.end(), name) != o.names.end()) {
      return static_cast<int>(i);
    }
  }
  for (size_t i = 0; i < objects_.size(); ++i) {
    const Object& o = objects_[i];
    if (o.elf && o.elf->soname && *o.elf->soname == name) {
      add_name(static_cast<int>(i), name);
      return static_cast<int>(i);
    }
  }
  return -1;
}

int Simulation::find_loaded_musl(const std::string& name, bool* is_self) {
  // The names musl provides itself (libc, libpthread, librt, libm, libdl, libutil, libxnet,
  // with any suffix after the '.') and its own path.
  static constexpr std::array<std::string_view, 7> kReserved = {"c.",  "pthread.", "rt.",  "m.",
                                                                "dl.", "util.",    "xnet."};
  *is_self = false;
  if (starts_with(name, "lib")) {
    std::string_view rest = std::string_view(name).substr(3);
    for (std::string_view r : kReserved) *is_self |= starts_with(rest, r);
  }
  if (rtld_ >= 0 && name == objects_[rtld_].path) *is_self = true;
  if (*is_self) return rtld_;
  if (name.find('/') != std::string::npos) return -1;
  for (size_t i = 0; i < objects_.size(); ++i) {
    const Object& o = objects_[i];
    if (static_cast<int>(i) == rtld_ || o.listed < 0) continue;
    if (std::find(o.names.begin(), o.names.end(), name) != o.names.end())
      return static_cast<int>(i);
  }
  return -1;
}

void Simulation::map_needed(int from, const std::string& raw) {
  // glibc expands DSTs in DT_NEEDED (dl-deps.c expand_dst) before anything else.
  std::string name = raw;
  if (!musl_) {
    std::optional<std::string> x = expand_dst(raw, dst_of(from));
    if (!x || x->empty()) {
      missing(from, raw, {}, "empty dynamic string token substitution");
      fatal_ = true;
      return;
    }
    name = *x;
  }
  bool is_self = false;
  int found = musl_ ? find_loaded_musl(name, &is_self) : find_loaded_glibc(name);
  if (musl_ && is_self) {
    if (rtld_ < 0) {
      missing(from, name, {}, "musl's loader is not in the image");
      return;
    }
    add_name(rtld_, name);
    list_object(rtld_, "musl libc (the loader itself)", from);
    return;
  }
  if (found >= 0) {
    list_object(found, found == rtld_ ? "program interpreter" : "already loaded", from);
    return;
  }
  std::string via;
  std::vector<std::string> searched;
  std::optional<std::pair<std::string, Candidate>> f;
  if (name.find('/') != std::string::npos) {
    // A path: opened as is, relative to the working directory.
    Candidate c = check(name);
    via = "path in DT_NEEDED";
    if (c.probe == Probe::kSkipped) {
      note("skipped " + name + ": " + c.detail + ", not " + machine_text(*elf_));
      missing(from, name, {}, "");
      return;
    }
    if (c.probe != Probe::kAbsent) {
      f = std::make_pair(name, std::move(c));
      fatal_ = f->second.probe == Probe::kFatal;
    }
  } else {
    f = musl_ ? search_musl(from, name, &via, &searched)
              : search_glibc(from, name, &via, &searched);
  }
  if (f && f->second.probe == Probe::kFatal) {
    missing(from, name, std::move(searched), f->first + ": " + f->second.detail);
    // glibc stops at the first fatal error; musl reports it and goes on with the others.
    if (musl_) fatal_ = false;
    return;
  }
  if (!f) {
    missing(from, name, std::move(searched), "");
    return;
  }
  add_object(from, name, f->first, f->second, via);
}

void Simulation::map_deps() {
  // Each object's DT_NEEDED in order, objects in the order they joined the list.
  for (size_t q = 0; q < out_.loaded.size() && !fatal_; ++q) {
    int obj = order_[q];
    if (objects_[obj].elf == nullptr) continue;
    // Copy: objects_ grows inside the loop.
    std::vector<std::string> needed = objects_[obj].elf->needed;
    for (const std::string& n : needed) {
      if (objects_.size() >= kMaxObjects) {
        note("more than " + std::to_string(kMaxObjects) + " objects: stopped");
        return;
      }
      map_needed(obj, n);
      if (fatal_) return;
    }
  }
}

// _dl_check_all_versions (elf/dl-version.c): every (vn_file, vna_name) of every object in the
// list must be defined by the object loaded for vn_file; all of them are reported. A provider
// without symbol versioning only gets a note, as ld.so does.
void Simulation::check_versions() {
  for (const LoadedObject& lo : out_.loaded) {
    const scan::Facts* f = root_.facts(lo.node);
    if (f == nullptr || !f->elf) continue;
    for (const elf::VersionNeed& vn : f->elf->verneed) {
      const LoadedObject* provider = nullptr;
      for (const LoadedObject& p : out_.loaded) {
        const scan::Facts* pf = root_.facts(p.node);
        bool by_soname = pf && pf->elf && pf->elf->soname && *pf->elf->soname == vn.file;
        if (p.name == vn.file || p.path == vn.file || by_soname ||
            std::find(p.also_named.begin(), p.also_named.end(), vn.file) != p.also_named.end()) {
          provider = &p;
          break;
        }
      }
      if (provider == nullptr) continue;
      const elf::ElfInfo& pe = *root_.facts(provider->node)->elf;
      if (pe.verdef.empty()) {
        note(provider->path + ": no version information available (required by " + lo.path + ")");
        continue;
      }
      for (const std::string& v : vn.versions) {
        if (std::find(pe.verdef.begin(), pe.verdef.end(), v) != pe.verdef.end()) continue;
        out_.version_errors.push_back({v, vn.file, lo.path, provider->path});
      }
    }
  }
}

// PT_INTERP must resolve in the root (following symlinks) to an ELF of the program's machine.
bool Simulation::check_interp() {
  const std::string& interp = *elf_->interp;
  fs::ResolveResult r = root_.resolve(interp);
  if (!r.ok()) {
    out_.interp_error = "the program interpreter " + escape(interp) + " is not in the image" +
                        (r.hops.empty() ? "" : " (" + fs::describe_hops(r) + ")");
    return false;
  }
  const fs::Node& n = tree_.node(*r.node);
  const scan::Facts* f = root_.facts(*r.node);
  if (!n.is_regular()) {
    out_.interp_error = "the program interpreter " + escape(interp) + " is not a regular file";
    return false;
  }
  if (f == nullptr || !f->elf) {
    out_.interp_error = "the program interpreter " + escape(interp) + " is not an ELF file";
    return false;
  }
  if (!same_machine(*f->elf, *elf_) || f->elf->ei_data != elf_->ei_data) {
    out_.interp_error = "the program interpreter " + escape(interp) + " is " +
                        machine_text(*f->elf) + ", not " + machine_text(*elf_);
    return false;
  }
  Object o;
  o.name = interp;
  o.path = interp;
  o.origin = dirname_of(interp);
  o.node = *r.node;
  o.elf = &*f->elf;
  if (!musl_) {
    o.names.push_back(interp);
    if (f->elf->soname) o.names.push_back(*f->elf->soname);
  }
  objects_.push_back(std::move(o));
  rtld_ = static_cast<int>(objects_.size()) - 1;
  return true;
}

void Simulation::setup_glibc() {
  cache_id_ = ld_cache_id_for_platform(arch_.oci, arch_.variant);
  if (!ctx_.cache_note().empty()) note(ctx_.cache_note());
  // Subdirectories tried under every search dir (_dl_important_hwcaps). glibc-hwcaps: glibc >=
  // 2.33, x86-64 levels the CPU supports, highest first. Legacy: glibc < 2.37 tries
  // tls/PLATFORM/x86_64, tls/PLATFORM, tls, PLATFORM/x86_64, PLATFORM (LD_DEBUG=libs on Debian
  // 11 and 12 lists exactly these). An unknown version is taken as current (no legacy dirs).
  int v = ctx_.glibc_version();
  if (arch_.oci == "amd64" && (v == 0 || v >= 233)) {
    for (int level = std::min(env_.x86_64_level, 4); level >= 2; --level) {
      subdirs_.push_back("glibc-hwcaps/x86-64-v" + std::to_string(level) + "/");
    }
  }
  if (v != 0 && v < 237 && !arch_.platform.empty()) {
    std::string p(arch_.platform);
    if (arch_.oci == "amd64") {
      subdirs_.insert(subdirs_.end(),
                      {"tls/" + p + "/x86_64/", "tls/" + p + "/", "tls/", p + "/x86_64/", p + "/"});
    } else {
      subdirs_.insert(subdirs_.end(), {"tls/" + p + "/", "tls/", p + "/"});
    }
  }
  subdirs_.push_back("");
}

void Simulation::run(fs::NodeId program) {
  const scan::Facts* f = root_.facts(program);
  std::string path = tree_.path_of(program);
  LoadedObject self;
  self.name = path;
  self.path = path;
  self.node = program;
  self.found_via = "program";
  if (f == nullptr || !f->elf) {
    out_.notes.push_back(path + " is not an ELF file the scan could read");
    return;
  }
  elf_ = &*f->elf;
  out_.interp = elf_->interp;
  // Static and static-pie programs load nothing.
  if (elf_->is_static() || elf_->is_static_pie() || (!elf_->interp && elf_->needed.empty())) {
    out_.loaded.push_back(std::move(self));
    return;
  }
  std::optional<Arch> arch = arch_of(*elf_);
  if (!arch) {
    out_.notes.push_back("no loader model for " + machine_text(*elf_) + ": not simulated");
    out_.loaded.push_back(std::move(self));
    return;
  }
  arch_ = *arch;
  // Which loader: PT_INTERP names it; a library without one goes by its libc.
  if (elf_->interp) {
    musl_ = basename_of(*elf_->interp).find("ld-musl-") != std::string_view::npos;
  } else {
    for (const std::string& n : elf_->needed)
      musl_ |= n == "libc.so" || starts_with(n, "libc.musl-");
  }
  out_.libc = musl_ ? Libc::kMusl : Libc::kGlibc;
  // The program is objects_[0] and loaded[0]; its $ORIGIN is its canonical dir, as from
  // /proc/self/exe.
  Object o;
  o.name = path;
  o.path = path;
  o.origin = dirname_of(path);
  o.node = program;
  o.elf = elf_;
  if (!musl_) o.names.push_back(path);
  objects_.push_back(std::move(o));
  objects_[0].listed = 0;
  order_.push_back(0);
  out_.loaded.push_back(std::move(self));
  if (elf_->interp) {
    if (!check_interp()) return;
  } else {
    // `ld.so --list lib.so`: the loader that runs it is the architecture's own.
    std::string interp(musl_ ? "/lib/ld-musl-" + std::string(arch_.musl) + ".so.1"
                             : std::string(arch_.glibc_interp));
    fs::ResolveResult r = root_.resolve(interp);
    const scan::Facts* rf = r.ok() ? root_.facts(*r.node) : nullptr;
    if (rf != nullptr && rf->elf) {
      Object ro;
      ro.name = ro.path = interp;
      ro.origin = dirname_of(interp);
      ro.node = *r.node;
      ro.elf = &*rf->elf;
      if (!musl_) {
        ro.names.push_back(interp);
        if (rf->elf->soname) ro.names.push_back(*rf->elf->soname);
      }
      objects_.push_back(std::move(ro));
      rtld_ = static_cast<int>(objects_.size()) - 1;
    }
  }
  setup_dirs();
  if (!musl_) setup_glibc();
  map_deps();
  if (!musl_ && !fatal_) check_versions();
}

}  // namespace

LoaderContext::LoaderContext(const RootView& root) : root_(root) {
  const fs::Tree& tree = root.tree();
  // /etc/ld.so.cache: ld.so ignores one it cannot parse.
  if (std::optional<std::string_view> c = root.content("/etc/ld.so.cache")) {
    try {
      cache_ = parse_ld_cache(std::as_bytes(std::span(c->data(), c->size())));
      if (cache_->generator) {
        size_t at = cache_->generator->rfind("version ");
        if (at != std::string::npos) {
          glibc_version_ = parse_version(std::string_view(*cache_->generator).substr(at + 8));
        }
      }
    } catch (const Error& e) {
      cache_note_ = std::string("/etc/ld.so.cache is unusable, ld.so ignores it: ") + e.what();
    }
  } else if (root.resolve("/etc/ld.so.cache").ok()) {
    cache_note_ = "/etc/ld.so.cache was not captured by the scan: not used";
  }
  // The glibc version from the loader file: ld-2.31.so up to glibc 2.33.
  if (glibc_version_ == 0) {
    for (std::string_view interp : {"/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1",
                                    "/lib/ld-linux.so.2", "/lib/ld-linux-armhf.so.3"}) {
      fs::ResolveResult r = root.resolve(interp);
      if (!r.ok()) continue;
      std::string_view base = basename_of(r.path);
      if (starts_with(base, "ld-2.") && ends_with(base, ".so")) {
        glibc_version_ = parse_version(base.substr(3, base.size() - 6));
      }
      break;
    }
  }
  // /etc/ld.so.conf, only to explain why a library outside the search path is not found.
  ReadFileFn read = [&root](const std::string& p) -> std::optional<std::string> {
    auto c = root.content(p);
    if (!c) return std::nullopt;
    return std::string(*c);
  };
  ListDirFn list = [&root, &tree](const std::string& d) -> std::optional<std::vector<std::string>> {
    fs::ResolveResult r = root.resolve(d);
    if (!r.ok() || !tree.node(*r.node).is_dir()) return std::nullopt;
    std::vector<std::string> names;
    for (fs::NodeId c : tree.children(*r.node)) names.emplace_back(tree.node(c).name);
    return names;
  };
  conf_ = parse_ld_so_conf("/etc/ld.so.conf", read, list);
  // Files by name (".so" in it) and ELF files by DT_SONAME.
  tree.walk([&](fs::NodeId id) {
    const fs::Node& n = tree.node(id);
    if (n.is_dir()) return true;
    if (n.name.find(".so") != std::string_view::npos) by_name_[n.name].push_back(id);
    if (n.is_regular()) {
      const scan::Facts* f = root.facts(id);
      if (f && f->elf && f->elf->soname) by_soname_[*f->elf->soname].push_back(id);
    }
    return true;
  });
}

std::span<const fs::NodeId> LoaderContext::files_named(std::string_view name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return {};
  return it->second;
}

std::span<const fs::NodeId> LoaderContext::files_with_soname(std::string_view soname) const {
  auto it = by_soname_.find(std::string(soname));
  if (it == by_soname_.end()) return {};
  return it->second;
}

LoadResult simulate_load(const LoaderContext& context, fs::NodeId program, const LoaderEnv& env) {
  LoadResult out;
  Simulation sim(context, env, out);
  sim.run(program);
  return out;
}

LoadResult simulate_load(const RootView& root, fs::NodeId program, const LoaderEnv& env) {
  LoaderContext context(root);
  return simulate_load(context, program, env);
}

}  // namespace coroner::linux_
