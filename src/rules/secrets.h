// Secrets: the patterns of data/secret_rules.tsv (compiled into the binary), matched with one
// Hyperscan multi-pattern database in streaming mode, so that the scan feeds each file's blocks
// once as the layer streams (scan::ContentScanner). Matches keep the line and a redacted form
// ("AKIA…(20)"), never the secret. Which files are read: text and scripts up to
// kMaxSecretScanBytes; ELF and binary files are skipped (keys in DER/PKCS#12 form are found by
// name in audit_rules.cc). Turning matches into findings is audit_rules.cc's job.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "scan/layer_index.h"

namespace coroner::rules {

struct SecretRule {
  std::string id;       // "aws-access-key-id"
  std::string finding;  // the audit rule id it raises: "private-key" or "secret-token"
  std::string description;
  std::string regex;  // Hyperscan syntax
};

// Files above this size are not scanned: logs and dumps that large are rarely hand-written
// config, and the cap bounds the work a hostile layer can ask for.
inline constexpr uint64_t kMaxSecretScanBytes = 64ull << 20;
// A file with more matches than this is reported with the first ones (and the scan of that file
// stops: a test-fixture file of keys would otherwise flood the report).
inline constexpr size_t kMaxSecretMatchesPerFile = 16;

// Parses the TSV format of data/secret_rules.tsv. Throws Error "secret rules: line N: ...".
std::vector<SecretRule> parse_secret_rules(std::string_view tsv);
// The embedded table (parsed once).
const std::vector<SecretRule>& secret_rules();

// Whether the scan should feed this file to the secret scanner.
bool wants_secret_scan(std::string_view path, uint64_t size, scan::ContentKind kind);

// A scanner over the embedded rules (the database is compiled once per process; each scanner
// has its own Hyperscan scratch and stream). Throws Error when Hyperscan cannot run here (a CPU
// without SSSE3).
std::unique_ptr<scan::ContentScanner> make_secret_scanner();
// The same, over `rules` (tests), for every file whatever its kind when `all_files`.
std::unique_ptr<scan::ContentScanner> make_secret_scanner(const std::vector<SecretRule>& rules,
                                                          bool all_files);

// Scans one string (an ENV value, a history step) with the embedded rules; ContentMatch::entry
// is 0.
std::vector<scan::ContentMatch> scan_secrets(std::string_view text);

// "AKIA…(20)": the first 4 characters (non-printable ones as '?'), an ellipsis and the length.
std::string redact(std::string_view head, uint64_t length);

}  // namespace coroner::rules
