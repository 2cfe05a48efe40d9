// The audit: what is inside the image that should not be, or is set up riskily, whatever the
// entrypoint does. One short function per rule id of DESIGN.md's Audit section (secret-file-
// readable, private-key, secret-token, world-writable, setuid-binary, orphan-owner,
// dangling-symlink, log-errors, tmp-leftovers, wasted-space) over the merged Tree, the captured
// files and the secret matches the scan collected (secrets.h). package-file-missing,
// package-file-modified, config-missing and conffile-modified turn pkg::verify's report (which
// the caller computes: it needs the content) into findings; audit_inventory.h adds the
// executables inventory, unowned executables and the limits/sysctl settings (info).
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "image/source.h"
#include "linux/root.h"
#include "pkg/verify.h"
#include "rules/finding.h"

namespace coroner::rules {

struct AuditInput {
  const linux_::RootView& root;  // the layers carry content_matches when the scan had a
                                 // secret scanner (make_secret_scanner)
  const image::ImageInfo& info;  // Env and history are scanned for secrets too
  // pkg::verify over the same tree, or null: the package checks are skipped. run_audit asks
  // for it once, after the rules that need no package data, so that the caller may compute it
  // meanwhile on another thread. Unset: no packages.
  std::function<const pkg::VerifyReport*()> packages;
  // Config drift against a --against baseline (cli/audit.h compare_baseline), one line each.
  std::vector<std::string> config_drift;
};

// Findings sorted by sort_findings().
std::vector<Finding> run_audit(const AuditInput& input);

// The files the audit reads whole (ScanOptions::capture, besides linux_::capture_paths): logs
// under /var/log, .env files and credential files, up to kMaxAuditCapture bytes each.
inline constexpr uint64_t kMaxAuditCapture = 4 << 20;
bool audit_capture_paths(std::string_view path, uint64_t size);

}  // namespace coroner::rules
