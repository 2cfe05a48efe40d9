// The dynamic loader simulation: which objects glibc's ld.so (or musl's) would load for a
// program in the image, in which order, from which directory and why, and what it would fail
// on (a missing DT_NEEDED, a library on disk but outside the search path, a version need that
// the provider does not define). It reads only the Tree and the scan's facts (RootView).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "linux/ld_cache.h"
#include "linux/root.h"

namespace coroner::linux_ {

enum class Libc : uint8_t { kUnknown, kGlibc, kMusl };

struct LoadedObject {
  std::string name;  // the DT_NEEDED string (or the program path for the first object)
  // Where the loader opened it, as the loader names it (what ldd prints): the search dir as
  // written after $ORIGIN/$LIB/$PLATFORM expansion plus the name, the ld.so.cache value, or the
  // PT_INTERP string for the loader itself. The program: its canonical path. The canonical
  // path of the file is tree().path_of(node).
  std::string path;
  fs::NodeId node = fs::kRootNode;
  std::string found_via;  // "DT_RUNPATH of /usr/bin/x", "LD_LIBRARY_PATH", "ld.so.cache",
                          // "default dir", "program interpreter", "path in DT_NEEDED"
  std::string needed_by;  // path of the object whose DT_NEEDED it is
  // Names it was matched under later: its DT_SONAME, or another DT_NEEDED that reached the same
  // file (ld.so compares names, then st_dev/st_ino, and maps each file once).
  std::vector<std::string> also_named;
};

struct MissingLibrary {
  std::string name;                   // DT_NEEDED
  std::string needed_by;              // path
  std::vector<std::string> searched;  // dirs searched, in order
  // On disk somewhere the loader does not look (library-not-in-search-path): path and why
  // ("/usr/local/lib/libfoo.so.1: /usr/local/lib is listed in /etc/ld.so.conf.d/local.conf but
  // /etc/ld.so.cache was not rebuilt (run ldconfig)").
  std::optional<std::string> found_elsewhere;
  std::string found_elsewhere_why;
  // Empty when no file was found ("cannot open shared object file"). Otherwise the loader found
  // a file it cannot use and stopped there: "invalid ELF header", "file too short", "cannot
  // read file data: Is a directory", "cannot dynamically load executable"...
  std::string error;
};

struct VersionError {
  std::string version;    // "GLIBC_2.38"
  std::string file;       // vn_file: "libc.so.6"
  std::string needed_by;  // path of the object that needs it
  std::string provider;   // path of the object that was loaded for `file`
};

struct LoadResult {
  Libc libc = Libc::kUnknown;
  std::optional<std::string> interp;  // PT_INTERP as written
  // The loader was not found or is not usable (elf-interpreter-missing): why.
  std::optional<std::string> interp_error;
  std::vector<LoadedObject> loaded;  // breadth-first as ld.so maps them; [0] is the program
  std::vector<MissingLibrary> missing;
  std::vector<VersionError> version_errors;
  std::vector<std::string> notes;  // skipped candidates (wrong class/machine), odd caches...

  bool ok() const { return !interp_error && missing.empty() && version_errors.empty(); }
};

struct LoaderEnv {
  std::string ld_library_path;  // from the image Env (or the override), may be empty
  // "linux/amd64". Informational: $LIB, $PLATFORM, the cache flags and the musl path file follow
  // the program's own e_machine/EI_CLASS (the loader of a wrong-architecture program never runs;
  // exec reports elf-arch-mismatch).
  std::string platform;
  // The process's working directory (WORKDIR): a DT_NEEDED with a '/' that is relative, and an
  // empty LD_LIBRARY_PATH element, are relative to it, as open(2) sees them.
  std::string cwd = "/";
  // x86-64 microarchitecture level of the CPU the image will run on (1 = baseline ... 4), for
  // glibc-hwcaps/x86-64-vN subdirectories (glibc >= 2.33) and their ld.so.cache entries. The
  // default is the baseline every amd64 image must support: a library that exists only under
  // glibc-hwcaps/x86-64-v3 is then reported as not found, with the reason.
  int x86_64_level = 1;
};

// What the loader reads from the root independently of the program: /etc/ld.so.cache (parsed
// once), the dirs /etc/ld.so.conf lists (only to explain library-not-in-search-path: ld.so never
// reads it), the glibc version, and an index of files by name and by DT_SONAME for
// found_elsewhere. Build it once per root and share it across simulate_load calls (ldd --all);
// immutable after construction, so const use from several threads is safe.
class LoaderContext {
 public:
  // Requires: `root` outlives the context.
  explicit LoaderContext(const RootView& root);

  const RootView& root() const { return root_; }
  // The parsed /etc/ld.so.cache, or nullptr when absent or unusable (cache_note() says why).
  const LdCache* ld_cache() const { return cache_ ? &*cache_ : nullptr; }
  const std::string& cache_note() const { return cache_note_; }
  const LdConf& ld_so_conf() const { return conf_; }
  // glibc version as major * 100 + minor (236 for 2.36) from the ld.so.cache generator or the
  // name of the loader file (ld-2.31.so); 0 when unknown.
  int glibc_version() const { return glibc_version_; }
  // Present non-directory nodes whose name is `name` / ELF files whose DT_SONAME is `soname`,
  // in path order.
  std::span<const fs::NodeId> files_named(std::string_view name) const;
  std::span<const fs::NodeId> files_with_soname(std::string_view soname) const;

 private:
  const RootView& root_;
  std::optional<LdCache> cache_;
  std::string cache_note_;
  LdConf conf_;
  int glibc_version_ = 0;
  std::unordered_map<std::string_view, std::vector<fs::NodeId>> by_name_;
  std::unordered_map<std::string, std::vector<fs::NodeId>> by_soname_;
};

// Simulates loading `program` (a node whose facts hold an ElfInfo): glibc's ld.so when
// PT_INTERP names a glibc loader, musl's when it names ld-musl-*; a file without PT_INTERP (a
// shared library, as `ld.so --list lib.so` runs it) by the libc its DT_NEEDED names.
LoadResult simulate_load(const LoaderContext& context, fs::NodeId program, const LoaderEnv& env);
// The same with a context built for this one call.
LoadResult simulate_load(const RootView& root, fs::NodeId program, const LoaderEnv& env);

}  // namespace coroner::linux_
