#include "rules/host_rules.h"

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <sstream>

#include "base/stream.h"
#include "base/text.h"
#include "linux/loader.h"
#include "rules/rules.h"

namespace coroner::rules {
namespace {

constexpr uint16_t kEmX86_64 = 62;
// glibc releases that changed what is checked at start-up (major * 100 + minor).
constexpr int kGlibcIsaCheck = 233;       // dl_isa_level_check (sysdeps/x86/dl-prop.h)
constexpr int kGlibcNoKernelCheck = 236;  // "Remove kernel version check" (2022-05)
// Exit statuses: _dl_fatal_printf exits 127; __libc_fatal aborts (128 + SIGABRT); SIGILL.
constexpr int kExitLdso = 127, kExitAbort = 134, kExitSigill = 132;

std::string glibc_text(int v) { return std::to_string(v / 100) + "." + std::to_string(v % 100); }

// The highest GLIBC_2.N that libc.so.6 defines (each release since 2.1 adds its own version
// node to libc.so.6 or keeps the last one; a distribution backport may add a later one).
int glibc_version_of(const elf::ElfInfo& libc) {
  int best = 0;
  for (const std::string& v : libc.verdef) {
    if (!v.starts_with("GLIBC_2.")) continue;
    std::string_view rest = std::string_view(v).substr(8);
    int minor = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), minor);
    if (ec != std::errc()) continue;
    best = std::max(best, 200 + minor);
  }
  return best;
}

std::vector<std::string> needed_level_names(uint32_t bits) {
  std::vector<std::string> out;
  for (int level = 1; level <= 4; ++level)
    if (bits & (1u << (level - 1))) out.push_back(x86_64_level_name(level));
  if (uint32_t unknown = bits & ~0xfu) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "unknown ISA bits 0x%x", unknown);
    out.emplace_back(buf);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

class HostCheck {
 public:
  HostCheck(const RuleInput& in, const std::vector<std::string>& created_by, RuleOutput& out)
      : in_(in), created_by_(created_by), out_(out), context_(in.root) {
    for (const std::string& kv : in.exec.env) {
      if (kv.starts_with("LD_LIBRARY_PATH=")) env_.ld_library_path = kv.substr(16);
    }
    env_.platform = in.info.platform;
    env_.cwd = in.exec.workdir.empty() ? "/" : in.exec.workdir;
    if (in.host.x86_64_level > 0) env_.x86_64_level = in.host.x86_64_level;
    kernel_ = kernel_version_code(in.host.kernel);
  }

  void run() {
    const linux_::ExecResult& e = in_.exec;
    for (size_t i = 0; i < e.program_nodes.size(); ++i) {
      fs::NodeId node = e.program_nodes[i];
      const scan::Facts* f = in_.root.facts(node);
      if (f == nullptr || !f->elf) continue;
      std::string argv0 = i < e.program_args.size() && !e.program_args[i].empty()
                              ? e.program_args[i][0]
                              : in_.root.tree().path_of(node);
      check_program(node, *f->elf, argv0);
    }
  }

 private:
  const elf::ElfInfo* elf_of(fs::NodeId id) const {
    const scan::Facts* f = in_.root.facts(id);
    return f != nullptr && f->elf ? &*f->elf : nullptr;
  }

  std::string kernel_text() const {
    return "kernel " + escape(in_.host.kernel) + " (" + in_.host.kernel_from + ")";
  }
  std::string cpu_text() const {
    return "CPU level " + x86_64_level_name(in_.host.x86_64_level) + " (" + in_.host.cpu_from + ")";
  }

  Finding make(std::string_view rule, fs::NodeId node, std::string message, std::string fix) {
    const RuleInfo* info = find_rule(rule);
    Finding f;
    f.rule = std::string(rule);
    f.severity = Severity::kWarning;
    f.runtimes = info ? info->runtimes : uint8_t{kAllRuntimes};
    f.path = in_.root.tree().path_of(node);
    f.message = std::move(message);
    f.fix = fix.empty() && info ? std::string(info->fix) : std::move(fix);
    uint32_t layer = in_.root.tree().node(node).layer;
    f.layer_index = layer;
    if (layer < in_.info.layers.size()) {
      const image::LayerDesc& d = in_.info.layers[layer];
      f.layer_digest = !d.digest.empty() ? d.digest : d.diff_id;
      if (layer < created_by_.size()) f.created_by = created_by_[layer];
    }
    return f;
  }

  // The host makes glibc refuse to start: the finding is an error and decides the verdict.
  void block(Finding f, std::string predicted, int exit) {
    f.severity = Severity::kError;
    if (out_.verdict.starts) {
      out_.verdict.starts = false;
      out_.verdict.reason = f.rule;
      out_.verdict.predicted_error = std::move(predicted);
      out_.verdict.predicted_exit = exit;
    }
    out_.findings.push_back(std::move(f));
  }

  void check_program(fs::NodeId node, const elf::ElfInfo& elf, const std::string& argv0) {
    if (elf.is_static() || elf.is_static_pie()) {
      check_static(node, elf);
      return;
    }
    if (!elf.interp) return;
    linux_::LoadResult lr = linux_::simulate_load(context_, node, env_);
    if (lr.libc != linux_::Libc::kGlibc) {
      if (lr.libc == linux_::Libc::kMusl) check_unchecked_isa(lr, "musl's loader");
      return;
    }
    // The glibc that runs it: libc.so.6's version definitions, else the loader context's
    // (ld.so.cache generator, ld-2.NN.so).
    int glibc = 0;
    std::string glibc_from;
    const linux_::LoadedObject* libc = nullptr;
    std::optional<fs::NodeId> ldso;
    for (const linux_::LoadedObject& o : lr.loaded) {
      if (o.found_via == "program interpreter") ldso = o.node;
      if (o.name == "libc.so.6" && !libc) libc = &o;
    }
    // The loader is listed only when an object names it in DT_NEEDED (libc.so.6 does).
    if (!ldso && lr.interp)
      if (fs::ResolveResult r = in_.root.resolve(*lr.interp); r.ok()) ldso = r.node;
    if (libc)
      if (const elf::ElfInfo* le = elf_of(libc->node)) {
        glibc = glibc_version_of(*le);
        glibc_from = in_.root.tree().path_of(libc->node) + " defines GLIBC_" + glibc_text(glibc);
      }
    if (glibc == 0 && context_.glibc_version() > 0) {
      glibc = context_.glibc_version();
      glibc_from = "the ld.so.cache generator or the loader's file name";
    }
    if (glibc_from.empty()) glibc_from = "unknown glibc version";
    std::string glibc_evidence =
        "glibc " + (glibc ? glibc_text(glibc) : std::string("?")) + " (" + glibc_from + ")";
    check_kernel_dynamic(node, lr, libc, glibc, glibc_evidence, argv0);
    check_isa_dynamic(node, elf, lr, ldso, glibc, glibc_evidence, argv0);
  }

  // glibc <= 2.35: ld.so stops with "FATAL: kernel too old" when the running kernel is below the
  // minimum glibc was configured for (libc.so.6's own ABI tag), and open_verify skips every
  // library whose ABI tag is above the running kernel, as if it were not there.
  void check_kernel_dynamic(fs::NodeId program, const linux_::LoadResult& lr,
                            const linux_::LoadedObject* libc, int glibc,
                            const std::string& glibc_evidence, const std::string& argv0) {
    if (!kernel_ || glibc == 0) return;  // an unknown glibc: no claim either way
    struct Over {
      const linux_::LoadedObject* o;
      uint32_t tag;
    };
    std::vector<Over> over;
    for (size_t k = 1; k < lr.loaded.size(); ++k) {
      const linux_::LoadedObject& o = lr.loaded[k];
      if (o.found_via == "program interpreter") continue;
      const elf::ElfInfo* e = elf_of(o.node);
      if (!e || !e->abi_tag) continue;
      std::optional<uint32_t> tag = kernel_version_code(*e->abi_tag);
      if (tag && *tag > *kernel_) over.push_back({&o, *tag});
    }
    if (over.empty()) return;
    // ld.so's own check (against libc.so.6's tag, the same glibc build) comes before any
    // library is opened.
    auto libc_over =
        std::find_if(over.begin(), over.end(), [&](const Over& x) { return libc && x.o == libc; });
    const Over& first = libc_over != over.end() ? *libc_over : over.front();
    std::vector<std::string> evidence{kernel_text(), glibc_evidence};
    for (const Over& x : over)
      evidence.push_back(in_.root.tree().path_of(x.o->node) + ": NT_GNU_ABI_TAG Linux " +
                         kernel_version_text(x.tag));
    if (glibc >= kGlibcNoKernelCheck) {
      Finding f = make("kernel-too-old", first.o->node,
                       in_.root.tree().path_of(first.o->node) + " is tagged for Linux " +
                           kernel_version_text(first.tag) + " but the host runs " + kernel_text() +
                           "; glibc " + glibc_text(glibc) +
                           " no longer checks, so it loads, and calls the older kernel lacks "
                           "fail with ENOSYS",
                       "run on a kernel at least " + kernel_version_text(first.tag) +
                           ", or build against an older kernel ABI");
      f.evidence = std::move(evidence);
      out_.findings.push_back(std::move(f));
      return;
    }
    std::string glibc_word = glibc ? "glibc " + glibc_text(glibc) : std::string("this glibc");
    if (libc && first.o == libc) {
      Finding f = make("kernel-too-old", libc->node,
                       glibc_word + " needs Linux " + kernel_version_text(first.tag) +
                           " (its ABI tag) but the host runs " + kernel_text() +
                           ": ld.so stops before the program starts",
                       "run on a kernel at least " + kernel_version_text(first.tag) +
                           ", or use a base image whose glibc supports the host's kernel");
      f.evidence = std::move(evidence);
      block(std::move(f), "FATAL: kernel too old", kExitLdso);
      return;
    }
    Finding f = make("kernel-too-old", first.o->node,
                     in_.root.tree().path_of(first.o->node) + " is tagged for Linux " +
                         kernel_version_text(first.tag) + " but the host runs " + kernel_text() +
                         ": " + glibc_word + "'s ld.so skips it as if it were not there",
                     "run on a kernel at least " + kernel_version_text(first.tag) +
                         ", or rebuild the library without the newer ABI tag");
    f.evidence = std::move(evidence);
    (void)program;
    block(std::move(f),
          argv0 + ": error while loading shared libraries: " + first.o->name +
              ": cannot open shared object file: No such file or directory",
          kExitLdso);
  }

  // glibc >= 2.33 ld.so: its own build level first ("Fatal glibc error: CPU does not support
  // x86-64-vN", checked v2, v3, v4 in order), then every object but itself in reverse
  // initialisation order (dependencies before the program).
  void check_isa_dynamic(fs::NodeId program, const elf::ElfInfo& elf, const linux_::LoadResult& lr,
                         std::optional<fs::NodeId> ldso, int glibc,
                         const std::string& glibc_evidence, const std::string& argv0) {
    if (in_.host.x86_64_level <= 0 || elf.e_machine != kEmX86_64 || elf.ei_class != 2) return;
    const uint32_t have = (1u << in_.host.x86_64_level) - 1;
    if (ldso)
      if (const elf::ElfInfo* le = elf_of(*ldso); le && (le->x86_isa_needed & ~have)) {
        int need = x86_64_level_of_bits(le->x86_isa_needed);
        if (need > in_.host.x86_64_level) {
          int first_missing = in_.host.x86_64_level + 1;
          Finding f = make(
              "cpu-isa-level", *ldso,
              "the image's glibc is built for " + x86_64_level_name(need) + " but the host has " +
                  cpu_text() + ": its ld.so stops before the program starts",
              "run on a CPU with " + x86_64_level_name(need) + ", or use a base image built for " +
                  x86_64_level_name(in_.host.x86_64_level));
          f.evidence = {cpu_text(), glibc_evidence,
                        in_.root.tree().path_of(*ldso) +
                            ": x86 ISA needed: " + join(needed_level_names(le->x86_isa_needed))};
          block(std::move(f),
                "Fatal glibc error: CPU does not support " + x86_64_level_name(first_missing),
                kExitLdso);
          return;
        }
      }
    const linux_::LoadedObject* bad = nullptr;
    const elf::ElfInfo* bad_elf = nullptr;
    for (size_t k = lr.loaded.size(); k-- > 0;) {
      const linux_::LoadedObject& o = lr.loaded[k];
      if (ldso && o.node == *ldso && k > 0) continue;
      const elf::ElfInfo* e = k == 0 ? &elf : elf_of(o.node);
      if (e && (e->x86_isa_needed & ~have)) {
        bad = &o;
        bad_elf = e;
        break;
      }
    }
    if (!bad) return;
    std::string name = bad == &lr.loaded[0] ? argv0 : bad->path;
    std::vector<std::string> evidence{cpu_text(), glibc_evidence,
                                      in_.root.tree().path_of(bad->node) + ": x86 ISA needed: " +
                                          join(needed_level_names(bad_elf->x86_isa_needed))};
    std::string needs = join(needed_level_names(bad_elf->x86_isa_needed & ~have));
    if (glibc != 0 && glibc < kGlibcIsaCheck) {
      Finding f = make("cpu-isa-level", bad->node,
                       in_.root.tree().path_of(bad->node) + " needs " + needs +
                           " but the host has " + cpu_text() + "; glibc " + glibc_text(glibc) +
                           " does not check the ISA marker, so the first such instruction kills "
                           "it with SIGILL (Illegal instruction, exit " +
                           std::to_string(kExitSigill) + ")",
                       "");
      f.evidence = std::move(evidence);
      out_.findings.push_back(std::move(f));
      return;
    }
    (void)program;
    Finding f = make("cpu-isa-level", bad->node,
                     in_.root.tree().path_of(bad->node) + " is marked as needing " + needs +
                         " but the host has " + cpu_text() + ": ld.so refuses to run it",
                     "run on a CPU with " + needs + ", or rebuild without -march=" +
                         x86_64_level_name(x86_64_level_of_bits(bad_elf->x86_isa_needed)) +
                         " / -z x86-64-vN");
    f.evidence = std::move(evidence);
    block(std::move(f), name + ": CPU ISA level is lower than required", kExitLdso);
  }

  // musl and static programs: nothing checks the marker at start-up.
  void check_unchecked_isa(const linux_::LoadResult& lr, const std::string& who) {
    if (in_.host.x86_64_level <= 0) return;
    const uint32_t have = (1u << in_.host.x86_64_level) - 1;
    for (const linux_::LoadedObject& o : lr.loaded) {
      const elf::ElfInfo* e = elf_of(o.node);
      if (!e || e->e_machine != kEmX86_64 || !(e->x86_isa_needed & ~have)) continue;
      std::string needs = join(needed_level_names(e->x86_isa_needed & ~have));
      Finding f = make("cpu-isa-level", o.node,
                       in_.root.tree().path_of(o.node) + " is marked as needing " + needs +
                           " but the host has " + cpu_text() + "; " + who +
                           " does not check the marker, so the first such instruction kills it "
                           "with SIGILL (Illegal instruction, exit " +
                           std::to_string(kExitSigill) + ")",
                       "");
      f.evidence = {cpu_text(), in_.root.tree().path_of(o.node) + ": x86 ISA needed: " +
                                    join(needed_level_names(e->x86_isa_needed))};
      out_.findings.push_back(std::move(f));
      return;
    }
  }

  // Static glibc <= 2.35 (libc.a holds "FATAL: kernel too old"): __libc_start_main compares
  // the running kernel with the minimum libc.a was configured for, which crt1.o's ABI tag (the
  // first one in the file) records; __libc_fatal then aborts.
  void check_static(fs::NodeId node, const elf::ElfInfo& elf) {
    if (kernel_ && elf.glibc_kernel_check && elf.abi_tag) {
      std::optional<uint32_t> tag = kernel_version_code(*elf.abi_tag);
      if (tag && *tag > *kernel_) {
        Finding f = make("kernel-too-old", node,
                         "this static glibc program needs Linux " + kernel_version_text(*tag) +
                             " (its ABI tag) but the host runs " + kernel_text() +
                             ": glibc's start-up code aborts before main",
                         "run on a kernel at least " + kernel_version_text(*tag) +
                             ", or link against an older glibc");
        f.evidence = {
            kernel_text(), "static glibc with the kernel check (glibc <= 2.35)",
            in_.root.tree().path_of(node) + ": NT_GNU_ABI_TAG Linux " + kernel_version_text(*tag)};
        block(std::move(f), "FATAL: kernel too old", kExitAbort);
        return;
      }
    }
    if (elf.e_machine == kEmX86_64) {
      linux_::LoadResult lr;
      linux_::LoadedObject self;
      self.node = node;
      lr.loaded.push_back(self);
      check_unchecked_isa(lr, "a static program's start-up code");
    }
  }

  const RuleInput& in_;
  const std::vector<std::string>& created_by_;
  RuleOutput& out_;
  linux_::LoaderContext context_;
  linux_::LoaderEnv env_;
  std::optional<uint32_t> kernel_;
};

}  // namespace

std::optional<uint32_t> kernel_version_code(std::string_view release) {
  uint32_t version = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 3) {
    if (i >= release.size() || release[i] < '0' || release[i] > '9') break;
    uint32_t here = 0;
    while (i < release.size() && release[i] >= '0' && release[i] <= '9') {
      here = std::min<uint32_t>(here * 10 + static_cast<uint32_t>(release[i] - '0'), 255);
      ++i;
    }
    version = (version << 8) | here;
    ++parts;
    if (i >= release.size() || release[i] != '.') break;
    ++i;
  }
  if (parts == 0) return std::nullopt;
  return version << (8 * (3 - parts));
}

std::string kernel_version_text(uint32_t code) {
  return std::to_string((code >> 16) & 0xff) + "." + std::to_string((code >> 8) & 0xff) + "." +
         std::to_string(code & 0xff);
}

std::optional<int> parse_x86_64_level(std::string_view name) {
  if (name == "x86-64" || name == "x86_64" || name == "baseline") return 1;
  if (name.starts_with("x86-64-")) name.remove_prefix(7);
  if (name.size() == 2 && name[0] == 'v' && name[1] >= '1' && name[1] <= '4') return name[1] - '0';
  return std::nullopt;
}

std::string x86_64_level_name(int level) {
  return level <= 1 ? "x86-64" : "x86-64-v" + std::to_string(level);
}

int x86_64_level_from_cpuinfo(std::string_view cpuinfo) {
  std::istringstream in{std::string(cpuinfo)};
  for (std::string line; std::getline(in, line);) {
    if (!line.starts_with("flags")) continue;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream words(line.substr(colon + 1));
    std::vector<std::string> flags;
    for (std::string w; words >> w;) flags.push_back(w);
    auto all = [&](std::initializer_list<std::string_view> need) {
      return std::all_of(need.begin(), need.end(), [&](std::string_view n) {
        return std::find(flags.begin(), flags.end(), n) != flags.end();
      });
    };
    int level = 0;
    if (all({"cmov", "cx8", "fpu", "fxsr", "mmx", "sse", "sse2"})) level = 1;
    if (level == 1 && all({"cx16", "lahf_lm", "popcnt", "pni", "ssse3", "sse4_1", "sse4_2"}))
      level = 2;
    if (level == 2 && all({"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe"}))
      level = 3;
    if (level == 3 && all({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"})) level = 4;
    return level;
  }
  return 0;
}

int x86_64_level_of_bits(uint32_t bits) {
  for (int level = 4; level >= 1; --level)
    if (bits & (1u << (level - 1))) return level;
  return 0;
}

Host this_host() {
  Host h;
  struct utsname u {};
  if (::uname(&u) == 0) {
    h.kernel = u.release;
    h.kernel_from = "this machine's uname -r; --kernel to change";
  }
#if defined(__x86_64__)
  h.x86_64_level =
      x86_64_level_from_cpuinfo(read_small_file("/proc/cpuinfo", 64 << 20).value_or(""));
  if (h.x86_64_level > 0) h.cpu_from = "this machine's /proc/cpuinfo; --cpu to change";
#endif
  return h;
}

void check_host(const RuleInput& input, const std::vector<std::string>& created_by,
                RuleOutput& output) {
  if (!input.exec.verdict.starts || !output.verdict.starts) return;
  if (input.host.kernel.empty() && input.host.x86_64_level <= 0) return;
  HostCheck(input, created_by, output).run();
}

}  // namespace coroner::rules
