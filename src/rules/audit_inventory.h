// The audit's inventories (info findings): the executables of the image summarised by kind (ELF
// dynamic, static, static-pie, shared object; scripts by interpreter), by layer and by
// directory; executables in system bin dirs that no package owns (installed by hand); and the
// ulimit/sysctl settings the image carries (/etc/security/limits.conf and limits.d/*.conf,
// /etc/sysctl.conf and sysctl.d/*.conf), each effective (non-comment) line quoted.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "linux/root.h"
#include "rules/finding.h"

namespace coroner::rules {

// How an executable runs: "ELF dynamic", "ELF static", "ELF static-pie", "ELF shared object",
// "ELF (unparsed)", "script #!/bin/sh" (the interpreter as the kernel reads it; "env X" for
// /usr/bin/env X), "text without #!", "other".
std::string executable_kind(const linux_::RootView& root, fs::NodeId id);

// Regular files with an x bit, outside /proc and /sys.
struct ExecutableInventory {
  uint64_t total = 0;
  std::vector<std::pair<std::string, uint64_t>> by_kind;       // by count, descending
  std::vector<std::pair<uint32_t, uint64_t>> by_layer;         // by layer
  std::vector<std::pair<std::string, uint64_t>> by_directory;  // by count, descending
  // Executables in system bin dirs that no package lists, grouped by (dir, layer).
  struct Unowned {
    std::string dir;
    uint32_t layer = 0;
    std::vector<std::string> paths;  // canonical
    std::vector<std::string> kinds;  // executable_kind of each
  };
  std::vector<Unowned> unowned;
};

// `owned`: the paths package databases list (pkg::owned_paths; canonicalised here). With no
// package database (empty), only /usr/local/{bin,sbin} count as unowned.
ExecutableInventory inventory_executables(const linux_::RootView& root,
                                          const std::vector<std::string>& owned);

// One settings file and its effective lines ("path:line: text").
struct SettingsFile {
  std::string path;
  bool sysctl = false;  // else limits
  std::vector<std::string> lines;
};
std::vector<SettingsFile> limits_and_sysctl(const linux_::RootView& root);

// The files limits_and_sysctl reads (for ScanOptions::capture; paths are normalised).
bool settings_capture_paths(std::string_view path);

}  // namespace coroner::rules
