// `coroner audit IMAGE [--format text|json|sarif|html] [--baseline FILE] [--against FILE]`:
// what is inside the image that should not be (secrets, keys, risky modes, orphans, leftovers,
// wasted bytes), as rules/audit_rules.h finds it. The pipeline: open → scan (with the secret
// scanner in the same pass) → merge → audit rules → render. diagnose --all reuses the pieces.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "explore/open_image.h"
#include "rules/finding.h"

namespace coroner::cli {

// open_image() with what the audit needs from the single pass: the audit's captured files and
// the secret scanner. `request.capture` is kept (or-ed with the audit's).
std::unique_ptr<explore::Image> open_image_for_audit(const explore::ImageRequest& request);

// The audit findings of an image opened by open_image_for_audit (sorted), with the package
// verification (the package-owned files with a recorded digest are read again) and
// `config_drift` lines (compare_baseline) as config-drift findings. What could not be checked
// is appended to `notes` when given.
std::vector<rules::Finding> audit_findings(const explore::Image& image,
                                           std::vector<std::string> config_drift = {},
                                           std::vector<std::string>* notes = nullptr);

// Config checksums: "sha256:<hex>  /path" lines for the key config files the scan captured
// (sha256sum layout), and the differences of `image` from such a baseline, one line each.
std::string config_baseline(const explore::Image& image);
std::vector<std::string> compare_baseline(const explore::Image& image, std::string_view baseline);

CommandResult run_audit(const Request& request);

}  // namespace coroner::cli
