// dpkg's database as files: the status file (RFC-822 style stanzas, also the one-file-per-package
// status.d/ of distroless images), info/<pkg>[:arch].list (the files a package owns),
// info/<pkg>.md5sums (their content digests), info/<pkg>.conffiles and the diversions file.
// Pure parsers over text; they throw Error("dpkg status: line N: ...") on malformed input. What
// the files mean for an image (which layer, which file is modified) is verify.h's business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::pkg {

// The three words of "Status: install ok installed" (dpkg's pkg-db states, man dpkg(1)).
enum class Want : uint8_t { kUnknown, kInstall, kHold, kDeinstall, kPurge };
enum class EFlag : uint8_t { kOk, kReinstReq };
enum class State : uint8_t {
  kNotInstalled,
  kConfigFiles,
  kHalfInstalled,
  kUnpacked,
  kHalfConfigured,
  kTriggersAwaited,
  kTriggersPending,
  kInstalled,
};

struct Conffile {
  std::string path;  // absolute, as written ("/etc/login.defs")
  std::string md5;   // 32 hex digits, or dpkg's "newconffile" placeholder
  bool obsolete = false;
  bool remove_on_upgrade = false;
};

struct DpkgPackage {
  std::string name;
  std::string version;
  std::string architecture;
  std::string source;          // the Source: name; the package name when the field is absent
  std::string source_version;  // "Source: glibc (2.36-9)": 2.36-9; else the package version
  std::optional<uint64_t> installed_size;  // Installed-Size, in KiB
  Want want = Want::kUnknown;
  EFlag flag = EFlag::kOk;
  State state = State::kNotInstalled;
  std::string multi_arch;  // "same", "foreign", "allowed" or ""
  std::vector<Conffile> conffiles;
  uint32_t line = 0;  // 1-based line where the stanza starts

  // "install ok installed": the only fully installed state.
  bool installed() const { return state == State::kInstalled && flag == EFlag::kOk; }
};

// The state word as dpkg writes it ("half-installed").
std::string_view state_name(State s);

// var/lib/dpkg/status, or one file of status.d/. Field names are case-insensitive; a stanza
// without Package: is an error, as are a continuation line before any field, a line without
// ':' and an unknown Status word.
std::vector<DpkgPackage> parse_status(std::string_view text);

// info/<pkg>.list: one absolute path per line ("/." for the root), as dpkg writes it.
std::vector<std::string> parse_list(std::string_view text);

struct Md5Entry {
  std::string path;  // absolute ("/usr/bin/id"); the file writes it without the leading '/'
  std::string md5;   // 32 lowercase hex digits
};
// info/<pkg>.md5sums (and distroless status.d/<pkg>.md5sums): "<32 hex>  path" per line.
std::vector<Md5Entry> parse_md5sums(std::string_view text);

// info/<pkg>.conffiles: "/etc/x" per line, optionally prefixed by a flag ("remove-on-upgrade").
std::vector<Conffile> parse_conffiles(std::string_view text);

struct Diversion {
  std::string from;     // the diverted path
  std::string to;       // where the package-shipped file goes instead
  std::string package;  // the diverting package; ":" for a local diversion
};
// var/lib/dpkg/diversions: three lines per diversion.
std::vector<Diversion> parse_diversions(std::string_view text);

}  // namespace coroner::pkg
