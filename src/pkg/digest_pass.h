// Package-file digests computed in the scan's single pass: an md5 of each regular file a
// package may own, taken while the layer streams (a scan::ContentScanner), so that verify()
// needs no second read for dpkg's md5sums. Files outside the places packages install into
// (/usr/local, /opt, /home, /tmp...) are not hashed; verify() re-reads the few a package does
// list there. No printing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <unordered_map>

#include "pkg/verify.h"
#include "scan/layer_index.h"

namespace coroner::pkg {

// True for a normalised path (relative, no leading "/") that a distribution package may
// install: everything under the FHS trees packages own (usr/ but not usr/local/, bin/, sbin/,
// lib*/, etc/, boot/, var/ but not var/tmp, var/log, var/cache, var/run), nothing under the
// local, user and runtime trees (usr/local/, opt/, home/, root/, srv/, tmp/, run/, mnt/...).
// A guess for speed only: verify() stays exact either way.
bool may_be_package_file(std::string_view path);

// The ContentMatch rule number of a pass digest (no secret rule has it); `redacted` holds the
// lowercase hex md5.
inline constexpr uint16_t kPassMd5Rule = 0xffff;

// A ContentScanner that md5s each non-empty regular file may_be_package_file() accepts and
// hands the digest over as a ContentMatch {rule kPassMd5Rule, redacted = hex}. `inner` (may be
// null) sees the same files and blocks, as if it were the only scanner.
std::unique_ptr<scan::ContentScanner> md5_pass(std::unique_ptr<scan::ContentScanner> inner);

// The digests md5_pass() left in the layers' content_matches, as verify()'s KnownDigest (empty
// regular files need none: their md5 is the empty string's).
class PassDigests {
 public:
  explicit PassDigests(std::span<const scan::LayerIndex> layers);
  // Requires: this object outlives the returned function.
  KnownDigest known() const;
  size_t size() const { return md5_.size(); }

 private:
  std::unordered_map<const scan::Entry*, std::string_view> md5_;
};

}  // namespace coroner::pkg
