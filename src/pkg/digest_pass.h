// Package-file digests computed in the scan's single pass: a digest of each regular file a
// package may own, taken while the layer streams (a scan::ContentScanner), so that verify()
// needs no second read: md5 for dpkg's md5sums, or, once the files seen so far show an rpm or
// apk system (DigestHint), sha256 for rpm or sha1 for apk. Not hashed: files outside the
// places packages install into (/usr/local, /opt, /home, /tmp...), and files that an upper
// layer already scanned replaces or deletes (ShadowBoard); verify() re-reads any of those it
// needs, and any file hashed with another digest than its package's. No printing.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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

// What the layers scanned so far hide below them, for scans that scan upper layers while a
// lower one still streams (scan::scan_image): paths each layer writes, deletes (whiteouts) or
// makes opaque, as hashes. Thread-safe. A hash collision only costs a re-read in verify().
class ShadowBoard {
 public:
  // Records a finished layer (scan::ScanOptions::layer_scanned).
  void publish(const scan::LayerIndex& layer);
  // Records a file `layer` writes as soon as its scan sees it, before the layer is finished (a
  // file an upper layer writes hides the lower layer's, whatever else the upper layer holds).
  void write(uint32_t layer, std::string_view path);
  // True when a layer above `layer` replaces `path` (normalised), or a published one deletes
  // it, or deletes or makes opaque one of its parent directories: the file is not visible.
  bool hidden_above(uint32_t layer, std::string_view path) const;

 private:
  struct Layer {
    std::unordered_set<uint64_t> written, deleted, opaque;
  };
  mutable std::shared_mutex mu_;
  std::map<uint32_t, Layer> layers_;
};

// Which digest the packages of the image record, as far as the paths the scan has seen tell:
// dpkg's files (etc/dpkg/, var/lib/dpkg/) mean md5 and win over the others; rpm's (etc/dnf/,
// etc/yum.conf, etc/yum.repos.d/, etc/zypp/, var/lib/rpm/, usr/lib/sysimage/rpm/) sha256, the
// digest of current rpm packages; apk's (etc/apk/, lib/apk/db/) sha1. md5 until one shows up.
// Shared by the layers of one scan, so that a layer that starts later knows what the others
// saw. Thread-safe. A speed hint only, like ShadowBoard.
class DigestHint {
 public:
  enum Digest { kMd5, kSha256, kSha1 };
  void note(std::string_view path);
  Digest digest() const;

 private:
  std::atomic<int> state_{0};  // 0: nothing seen, 1: dpkg, 2: rpm, 3: apk
};

// The ContentMatch rule number of a pass digest (no secret rule has it); `redacted` holds the
// lowercase hex digest (its length names the algorithm).
inline constexpr uint16_t kPassDigestRule = 0xffff;

// A ContentScanner that digests each non-empty regular file may_be_package_file() accepts and
// `shadows` (may be null) does not hide, with the digest `hint` (may be null: md5) names when
// the file begins, and hands the digest over as a ContentMatch {rule kPassDigestRule, redacted
// = hex}. It writes the files of its layer on `shadows` as they begin (ShadowBoard::write), for
// the lower layers still streaming. `inner` (may be null) sees the same files and blocks, as if
// it were the only scanner.
std::unique_ptr<scan::ContentScanner> digest_pass(std::unique_ptr<scan::ContentScanner> inner,
                                                  std::shared_ptr<ShadowBoard> shadows = {},
                                                  std::shared_ptr<DigestHint> hint = {});

// The two scan hooks that run the pass over a whole image (scan::ScanOptions): layer_scanned
// publishes each finished layer on a ShadowBoard, and content_scanner makes each layer's
// digest_pass around `inner()` (unset: no inner scanner), all sharing that board and one
// DigestHint.
struct PassHooks {
  std::function<void(const scan::LayerIndex&)> layer_scanned;
  std::function<std::unique_ptr<scan::ContentScanner>()> content_scanner;
};
PassHooks digest_pass_hooks(std::function<std::unique_ptr<scan::ContentScanner>()> inner = {});

// The digests digest_pass() left in the layers' content_matches, as verify()'s KnownDigest
// (empty regular files need none: their digest is the empty string's).
class PassDigests {
 public:
  explicit PassDigests(std::span<const scan::LayerIndex> layers);
  // Requires: this object outlives the returned function.
  KnownDigest known() const;
  size_t size() const { return digests_.size(); }

 private:
  std::unordered_map<const scan::Entry*, std::string_view> digests_;
};

}  // namespace coroner::pkg
