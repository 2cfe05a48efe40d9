#include "pkg/digest_pass.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/digest.h"
#include "base/error.h"
#include "base/md5_many.h"
#include "base/stream.h"
#include "base/text.h"

namespace coroner::pkg {
namespace {

constexpr size_t kMd5Hex = 32;

// The length of the hex form that names the digest (base/digest.h HexDigest).
size_t hex_len_of(DigestHint::Digest d) {
  switch (d) {
    case DigestHint::kSha1:
      return 40;
    case DigestHint::kSha256:
      return 64;
    case DigestHint::kMd5:
      break;
  }
  return kMd5Hex;
}

// A digest for the hasher thread, which must not throw: none when OpenSSL cannot start one
// (the file then gets no digest, and verify() reads it again).
std::optional<HexDigest> start_digest(size_t hex_len) {
  try {
    return HexDigest(hex_len);
  } catch (const Error&) {
    return std::nullopt;
  }
}

// Gives back the whole pages of the views of a mapped layer once they are hashed
// (ContentScanner::kept): the page cache keeps them, and the process does not keep the layer
// mapped. Each madvise flushes the TLBs of the process's other threads, so the views of small
// files are given back together: once they add up to kSweep bytes, or span more than 4 kSweep,
// the span from the lowest to the highest of them (all views of one scanner lie in its layer's
// mapping). Pages in that span still in use are read in again from the page cache. Thread-safe
// (Md5Lanes::finish releases on two threads).
class PageDropper {
 public:
  ~PageDropper() { sweep(); }
  void operator()(std::span<const std::byte> view) {
    if (view.size() >= kSweep) {
      drop_mapped_pages(view.data(), view.data() + view.size());
      return;
    }
    std::lock_guard lock(mu_);
    const std::byte* end = view.data() + view.size();
    if (bytes_ > 0 && (std::max(hi_, end) - std::min(lo_, view.data()) >
                       static_cast<std::ptrdiff_t>(4 * kSweep))) {
      sweep_locked();
    }
    if (bytes_ == 0 || view.data() < lo_) lo_ = view.data();
    if (bytes_ == 0 || end > hi_) hi_ = end;
    bytes_ += view.size();
    if (bytes_ >= kSweep) sweep_locked();
  }
  void sweep() {
    std::lock_guard lock(mu_);
    sweep_locked();
  }

 private:
  static constexpr size_t kSweep = 4 << 20;
  void sweep_locked() {
    if (bytes_ > 0) drop_mapped_pages(lo_, hi_);
    bytes_ = 0;
  }
  std::mutex mu_;
  const std::byte* lo_ = nullptr;
  const std::byte* hi_ = nullptr;
  size_t bytes_ = 0;
};

// First component of `path` and the rest ("" when there is none).
std::pair<std::string_view, std::string_view> head_tail(std::string_view path) {
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

uint64_t hash_of(std::string_view path) { return std::hash<std::string_view>{}(path); }

// Digests files on a thread of its own, so that hashing a big layer does not sit on the thread
// that reads and parses it (the layer's critical path): the reader copies each block once, into
// chunks of the file's size (up to kChunk), and queues them, with at most kInFlight bytes queued
// or held. The hasher collects whole files of up to kSolo bytes into a batch and md5s each batch
// of kBatch bytes with md5_many (16 or 8 files at once in SIMD lanes: about 8x OpenSSL's speed
// on small files); a file that grows past kSolo streams through OpenSSL instead, since one
// message cannot be split across lanes; so do sha256 and sha1 files (for rpm and apk), whatever
// their size. A file of a mapped plain layer comes as one view instead (view(), from
// ContentScanner::kept): no copy, nothing held, and md5 hashes it in Md5Lanes whatever its
// size, since its bytes wait in the page cache for a lane. Digests are ready when the hasher has
// been drained (finish()).
class AsyncDigests {
 public:
  AsyncDigests() = default;
  AsyncDigests(const AsyncDigests&) = delete;
  AsyncDigests& operator=(const AsyncDigests&) = delete;
  ~AsyncDigests() { finish(); }

  // Starts file `id` (ids count up from 0) of `size` bytes.
  void begin(size_t id, size_t hex_len, uint64_t size) {
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
    left_ = size;
    push({Job::kBegin, id, {}, hex_len});
  }
  // Copies each block once, into chunks of the file's size up to kChunk.
  void feed(std::span<const std::byte> b) {
    while (!b.empty()) {
      if (chunk_room_ == 0) {
        chunk_room_ = left_ == 0 ? kChunk : static_cast<size_t>(std::min<uint64_t>(left_, kChunk));
        chunk_.reserve(chunk_room_);
      }
      size_t n = std::min(b.size(), chunk_room_ - chunk_.size());
      chunk_.insert(chunk_.end(), b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n));
      b = b.subspan(n);
      left_ -= std::min<uint64_t>(left_, n);
      if (chunk_.size() == chunk_room_) flush();
    }
  }
  // The whole content of the current file, as a view that stays readable until finish()
  // (ContentScanner::kept): queued as it is, instead of copies of its blocks.
  void view(std::span<const std::byte> content) {
    Job j{Job::kView, 0, {}};
    j.view = content;
    push(std::move(j));
  }
  void end(size_t id) {
    flush();
    push({Job::kEnd, id, {}});
  }
  // Waits for every queued file; then digest(id) holds each one ("" when OpenSSL failed).
  void finish() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    ready_.notify_all();
    thread_.join();
  }
  std::string digest(size_t id) const { return id < digests_.size() ? digests_[id] : ""; }

 private:
  static constexpr size_t kChunk = 1 << 20;
  // The hasher holds at most kBatch + 2 * kSolo bytes (the batch, which may overshoot kBatch by
  // its last file, and the file being read), less than kInFlight: so the reader never waits
  // for room while the hasher waits for data.
  // 4 MiB: the bench image's files of 1-4 MiB (138 MB of libraries) go into the lanes, which
  // took its zstd audit from 3.92 to 3.66 s of CPU; the batch holds 16 MiB more than at 1 MiB.
  static constexpr size_t kSolo = 4 << 20;
  static constexpr size_t kBatch = 16 << 20;
  static constexpr size_t kInFlight = 28 << 20;
  static_assert(kBatch + 2 * kSolo < kInFlight);
  static constexpr size_t kWake = 512 << 10;
  static constexpr size_t kWakeJobs = 512;
  struct Job {
    enum Kind { kBegin, kData, kView, kEnd } kind;
    size_t id;
    std::vector<std::byte> data;
    size_t hex_len = kMd5Hex;         // kBegin's: the digest (base/digest.h HexDigest)
    std::span<const std::byte> view;  // kView's
  };
  struct File {
    size_t id = 0;
    std::vector<std::vector<std::byte>> chunks;
    size_t bytes = 0;
  };

  // Hands the chunk over (it is full unless the file ended early).
  void flush() {
    if (!chunk_.empty()) push({Job::kData, 0, std::move(chunk_)});
    chunk_ = {};
    chunk_room_ = 0;
  }
  // The hasher is woken once per kWake bytes or kWakeJobs jobs queued, not per job: it does
  // its work a batch at a time, and a wake-up per small file cost a futex call each.
  void push(Job j) {
    std::unique_lock lock(mu_);
    if (in_flight_ >= kInFlight) {
      ready_.notify_one();
      room_.wait(lock, [&] { return in_flight_ < kInFlight; });
    }
    in_flight_ += j.data.capacity();
    unsignalled_bytes_ += j.data.size() + j.view.size();
    jobs_.push_back(std::move(j));
    if (unsignalled_bytes_ >= kWake || ++unsignalled_jobs_ >= kWakeJobs) {
      unsignalled_bytes_ = unsignalled_jobs_ = 0;
      ready_.notify_one();
    }
  }
  void release(size_t bytes) {
    if (bytes == 0) return;
    std::lock_guard lock(mu_);
    in_flight_ -= bytes;
    room_.notify_one();
  }
  void store(size_t id, std::string hex) {
    if (digests_.size() <= id) digests_.resize(id + 1);
    digests_[id] = std::move(hex);  // only this thread touches digests_ until join
  }
  void hash_batch(std::vector<File>& batch) {
    std::vector<std::vector<std::span<const std::byte>>> pieces(batch.size());
    std::vector<Md5Message> messages;
    messages.reserve(batch.size());
    size_t held = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      for (const auto& c : batch[i].chunks) {
        pieces[i].emplace_back(c);
        held += c.capacity();
      }
      messages.emplace_back(pieces[i]);
    }
    std::vector<Md5Digest> out(batch.size());
    md5_many(messages, out);
    for (size_t i = 0; i < batch.size(); ++i) store(batch[i].id, hex_lower(out[i]));
    batch.clear();
    release(held);
  }
  void run() {
    File file;  // the file being read, until it is batched or goes solo
    // A file that streams through OpenSSL (stream is empty when OpenSSL failed).
    bool solo = false;
    std::optional<HexDigest> stream;
    // Files given as views (kView) go to md5 lanes of their own, long ones included: their
    // bytes cost no memory here, so nothing bounds how many ride in the lanes at once.
    bool viewed = false;
    PageDropper dropper;  // before `lanes`, which releases into it until it is destroyed
    Md5Lanes lanes([this](size_t id, const Md5Digest& d) { store(id, hex_lower(d)); },
                   [&dropper](std::span<const std::byte> v) { dropper(v); });
    std::vector<File> batch;  // whole files of at most kSolo bytes
    size_t batch_bytes = 0;
    for (;;) {
      Job j;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !jobs_.empty() || closed_; });
        if (jobs_.empty()) break;
        j = std::move(jobs_.front());
        jobs_.pop_front();
      }
      switch (j.kind) {
        case Job::kBegin:
          viewed = false;
          file = File{j.id, {}, 0};
          // md5 goes into the SIMD batches; sha256 and sha1 stream through OpenSSL.
          solo = j.hex_len != kMd5Hex;
          stream = solo ? start_digest(j.hex_len) : std::nullopt;
          break;
        case Job::kView:
          viewed = true;
          if (solo) {
            if (stream) stream->update(j.view);
            dropper(j.view);
          } else {
            lanes.add(file.id, j.view);
          }
          break;
        case Job::kData:
          if (solo) {
            if (stream) stream->update(j.data);
            release(j.data.capacity());
            break;
          }
          file.bytes += j.data.size();
          file.chunks.push_back(std::move(j.data));
          if (file.bytes > kSolo) {
            solo = true;
            stream = start_digest(kMd5Hex);
            size_t held = 0;
            for (const auto& c : file.chunks) {
              if (stream) stream->update(c);
              held += c.capacity();
            }
            file.chunks.clear();
            release(held);
          }
          break;
        case Job::kEnd:
          if (viewed && !solo) break;  // the lanes store it
          if (solo) {
            store(j.id, stream ? stream->finish() : std::string());
          } else {
            batch_bytes += file.bytes;
            batch.push_back(std::move(file));
            file = {};
            if (batch_bytes >= kBatch) {
              hash_batch(batch);
              batch_bytes = 0;
            }
          }
          break;
      }
    }
    hash_batch(batch);
    lanes.finish();
  }

  // Reader side: the chunk being filled, its size when full, and what the file has left.
  std::vector<std::byte> chunk_;
  size_t chunk_room_ = 0;
  uint64_t left_ = 0;
  std::mutex mu_;
  std::condition_variable ready_, room_;
  std::deque<Job> jobs_;
  size_t in_flight_ = 0;
  size_t unsignalled_bytes_ = 0, unsignalled_jobs_ = 0;
  bool closed_ = false;
  std::vector<std::string> digests_;  // hasher side, read after finish()
  std::thread thread_;
};

class DigestPass : public scan::ContentScanner {
 public:
  DigestPass(std::unique_ptr<scan::ContentScanner> inner, std::shared_ptr<ShadowBoard> shadows,
             std::shared_ptr<DigestHint> hint)
      : inner_(std::move(inner)), shadows_(std::move(shadows)), hint_(std::move(hint)) {}
  // The digests go into the matches end() appended: the scan destroys its scanner before it
  // hands the LayerIndex over.
  ~DigestPass() override {
    hasher_.finish();
    for (const Pending& p : pending_) (*p.out)[p.match].redacted = hasher_.digest(p.file);
  }

  void set_layer(uint32_t index) override {
    layer_ = index;
    if (inner_) inner_->set_layer(index);
  }
  bool begin(std::string_view path, uint64_t size, scan::ContentKind kind) override {
    viewed_ = false;
    inner_on_ = inner_ && inner_->begin(path, size, kind);
    if (hint_) hint_->note(path);
    bool package = size > 0 && may_be_package_file(path);
    if (package && shadows_ && layer_) shadows_->write(*layer_, path);
    hashing_ = package && !(shadows_ && layer_ && shadows_->hidden_above(*layer_, path));
    if (hashing_)
      hasher_.begin(files_, hex_len_of(hint_ ? hint_->digest() : DigestHint::kMd5), size);
    return inner_on_ || hashing_;
  }
  void kept(std::span<const std::byte> content) override {
    if (inner_on_) inner_->kept(content);
    if (!hashing_) return;
    hasher_.view(content);
    viewed_ = true;
  }
  void feed(std::span<const std::byte> block) override {
    if (inner_on_) inner_->feed(block);
    if (hashing_ && !viewed_) hasher_.feed(block);
  }
  void end(std::vector<scan::ContentMatch>& out) override {
    if (inner_on_) inner_->end(out);
    if (!hashing_) return;
    hasher_.end(files_);
    out.push_back({0, 0, kPassDigestRule, ""});
    pending_.push_back({&out, out.size() - 1, files_++});
  }

 private:
  struct Pending {
    std::vector<scan::ContentMatch>* out;
    size_t match, file;
  };
  std::unique_ptr<scan::ContentScanner> inner_;
  std::shared_ptr<ShadowBoard> shadows_;
  std::shared_ptr<DigestHint> hint_;
  std::optional<uint32_t> layer_;  // unknown in a streamed scan: nothing is skipped
  AsyncDigests hasher_;
  std::vector<Pending> pending_;
  size_t files_ = 0;
  bool inner_on_ = false, hashing_ = false;
  bool viewed_ = false;  // the hasher has this file's content as a view (kept())
};

}  // namespace

bool may_be_package_file(std::string_view path) {
  auto [top, rest] = head_tail(path);
  if (top == "usr") return !starts_with(rest, "local/");
  if (top == "var") {
    std::string_view sub = head_tail(rest).first;
    return sub != "tmp" && sub != "log" && sub != "cache" && sub != "run";
  }
  return top == "bin" || top == "sbin" || top == "etc" || top == "boot" || top == "lib" ||
         top == "lib32" || top == "lib64" || top == "libx32";
}

std::unique_ptr<scan::ContentScanner> digest_pass(std::unique_ptr<scan::ContentScanner> inner,
                                                  std::shared_ptr<ShadowBoard> shadows,
                                                  std::shared_ptr<DigestHint> hint) {
  return std::make_unique<DigestPass>(std::move(inner), std::move(shadows), std::move(hint));
}

PassHooks digest_pass_hooks(std::function<std::unique_ptr<scan::ContentScanner>()> inner) {
  auto shadows = std::make_shared<ShadowBoard>();
  auto hint = std::make_shared<DigestHint>();
  return {[shadows](const scan::LayerIndex& l) { shadows->publish(l); },
          [shadows, hint, inner = std::move(inner)] {
            return digest_pass(inner ? inner() : nullptr, shadows, hint);
          }};
}

void DigestHint::note(std::string_view path) {
  int seen = 0;
  if (starts_with(path, "etc/dpkg/") || starts_with(path, "var/lib/dpkg/")) {
    seen = 1;
  } else if (starts_with(path, "etc/dnf/") || path == "etc/yum.conf" ||
             starts_with(path, "etc/yum.repos.d/") || starts_with(path, "etc/zypp/") ||
             starts_with(path, "var/lib/rpm/") || starts_with(path, "usr/lib/sysimage/rpm/")) {
    seen = 2;
  } else if (starts_with(path, "etc/apk/") || starts_with(path, "lib/apk/db/")) {
    seen = 3;
  }
  if (seen == 0) return;
  // dpkg's evidence is final (a Debian image with rpm's tools installed is still dpkg's).
  int now = state_.load(std::memory_order_relaxed);
  while (now != 1 && now != seen && !state_.compare_exchange_weak(now, seen)) {
  }
}

DigestHint::Digest DigestHint::digest() const {
  switch (state_.load(std::memory_order_relaxed)) {
    case 2:
      return kSha256;
    case 3:
      return kSha1;
    default:
      return kMd5;
  }
}

void ShadowBoard::publish(const scan::LayerIndex& layer) {
  Layer l;
  for (const scan::Entry& e : layer.entries) {
    uint64_t h = hash_of(e.path);
    switch (e.whiteout) {
      case scan::Whiteout::kNone:
        l.written.insert(h);
        break;
      case scan::Whiteout::kFile:
        l.deleted.insert(h);
        break;
      case scan::Whiteout::kOpaque:
        l.opaque.insert(h);
        break;
    }
  }
  std::unique_lock lock(mu_);
  layers_[layer.index] = std::move(l);
}

void ShadowBoard::write(uint32_t layer, std::string_view path) {
  uint64_t h = hash_of(path);
  std::unique_lock lock(mu_);
  layers_[layer].written.insert(h);
}

bool ShadowBoard::hidden_above(uint32_t layer, std::string_view path) const {
  std::shared_lock lock(mu_);
  for (auto it = layers_.upper_bound(layer); it != layers_.end(); ++it) {
    const Layer& l = it->second;
    uint64_t h = hash_of(path);
    if (l.written.count(h) || l.deleted.count(h)) return true;
    // A deleted or opaque parent directory hides everything the lower layers had below it.
    for (size_t slash = path.rfind('/'); slash != std::string_view::npos && slash > 0;
         slash = path.rfind('/', slash - 1)) {
      uint64_t p = hash_of(path.substr(0, slash));
      if (l.deleted.count(p) || l.opaque.count(p)) return true;
    }
  }
  return false;
}

PassDigests::PassDigests(std::span<const scan::LayerIndex> layers) {
  for (const scan::LayerIndex& l : layers) {
    for (const scan::ContentMatch& m : l.content_matches) {
      if (m.rule == kPassDigestRule && m.entry < l.entries.size())
        digests_[&l.entries[m.entry]] = m.redacted;
    }
  }
}

KnownDigest PassDigests::known() const {
  return [this](const scan::Entry& e, size_t hex_len) -> std::optional<std::string> {
    if (e.type == scan::FileType::kRegular && e.size == 0) return HexDigest(hex_len).finish();
    auto it = digests_.find(&e);
    // A file hashed with another digest than the one asked for is read again.
    if (it == digests_.end() || it->second.size() != hex_len) return std::nullopt;
    return std::string(it->second);
  };
}

}  // namespace coroner::pkg
