// The dynamic loader simulation: which objects glibc's ld.so (or musl's) would load for a
// program in the image, in which order, from which directory and why, and what it would fail
// on (a missing DT_NEEDED, a library on disk but outside the search path, a version need that
// the provider does not define). It reads only the Tree and the scan's facts (RootView).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "linux/root.h"

namespace coroner::linux_ {

enum class Libc : uint8_t { kUnknown, kGlibc, kMusl };

struct LoadedObject {
  std::string name;  // the DT_NEEDED string (or the program path for the first object)
  std::string path;  // where it was found, canonical, absolute
  fs::NodeId node = fs::kRootNode;
  std::string found_via;  // "DT_RUNPATH of /usr/bin/x", "LD_LIBRARY_PATH", "ld.so.cache",
                          // "default dir", "already loaded"
  std::string needed_by;  // path of the object whose DT_NEEDED it is
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
  std::string platform;         // "linux/amd64": picks $LIB, $PLATFORM, the musl path file
};

// Simulates loading `program` (a node whose facts hold an ElfInfo).
LoadResult simulate_load(const RootView& root, fs::NodeId program, const LoaderEnv& env);

}  // namespace coroner::linux_
