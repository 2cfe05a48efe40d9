// Package-file digests computed in the scan's single pass: an md5 of each regular file a
// package may own, taken while the layer streams (a scan::ContentScanner), so that verify()
// needs no second read for dpkg's md5sums. Not hashed: files outside the places packages
// install into (/usr/local, /opt, /home, /tmp...), and files that an upper layer already
// scanned replaces or deletes (ShadowBoard); verify() re-reads any of those it needs. No
// printing.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "pkg/verify.h"
#include "scan/layer_index.h"

namespace coroner::pkg {

// True for a normalised path (relative, no leading "/") that a distribution package may
// install: everything under the FHS trees packages own (usr/ but not usr/local/, bin/, sbin/,
// lib*/, etc/, boot/, var/ but not var/tmp, var/log, var/cache, var/run), nothing under the
// local, user and runtime trees (usr/local/, opt/, home/, root/, srv/, tmp/, run/, mnt/...).
// A guess for speed only: verify() stays exact either way.
bool may_be_package_file(std::string_view path);

// What the layers scanned so far hide below them, for scans that finish upper layers while a
// lower one still streams (scan::scan_image): paths each layer writes, deletes (whiteouts) or
// makes opaque, as hashes. Thread-safe. A hash collision only costs a re-read in verify().
class ShadowBoard {
 public:
  // Records a finished layer (scan::ScanOptions::layer_scanned).
  void publish(const scan::LayerIndex& layer);
  // True when a published layer above `layer` replaces or deletes `path` (normalised), or
  // deletes or makes opaque one of its parent directories: the file is not visible.
  bool hidden_above(uint32_t layer, std::string_view path) const;

 private:
  struct Layer {
    std::unordered_set<uint64_t> written, deleted, opaque;
  };
  mutable std::shared_mutex mu_;
  std::map<uint32_t, Layer> layers_;
};

// The ContentMatch rule number of a pass digest (no secret rule has it); `redacted` holds the
// lowercase hex md5.
inline constexpr uint16_t kPassMd5Rule = 0xffff;

// A ContentScanner that md5s each non-empty regular file may_be_package_file() accepts and
// `shadows` (may be null) does not hide, and hands the digest over as a ContentMatch {rule
// kPassMd5Rule, redacted = hex}. `inner` (may be null) sees the same files and blocks, as if it
// were the only scanner.
std::unique_ptr<scan::ContentScanner> md5_pass(std::unique_ptr<scan::ContentScanner> inner,
                                               std::shared_ptr<const ShadowBoard> shadows = {});

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
