#include "base/md5_many.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <deque>
#include <numeric>
#include <system_error>
#include <thread>

namespace coroner {
namespace {

constexpr uint32_t kIv[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
constexpr size_t kBlock = 64;

uint32_t load_le32(const std::byte* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

// One lane of the portable kernel: state[w * stride] is word w.
void compress_scalar(uint32_t* state, size_t stride, const std::byte* p, size_t blocks) {
  uint32_t a = state[0], b = state[stride], c = state[2 * stride], d = state[3 * stride];
  for (size_t block = 0; block < blocks; ++block, p += kBlock) {
    uint32_t w[16];
    for (int i = 0; i < 16; ++i) w[i] = load_le32(p + 4 * i);
    uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
#define MD5_F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define MD5_G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define MD5_H(x, y, z) ((x) ^ (y) ^ (z))
#define MD5_I(x, y, z) ((y) ^ ((x) | ~(z)))
#define MD5_STEP(fn, a, b, c, d, word, shift, k) \
  a = b + std::rotl(a + fn(b, c, d) + w[word] + k, shift)
#include "base/md5_rounds.inc"
#undef MD5_STEP
#undef MD5_F
#undef MD5_G
#undef MD5_H
#undef MD5_I
    a += a0;
    b += b0;
    c += c0;
    d += d0;
  }
  state[0] = a;
  state[stride] = b;
  state[2 * stride] = c;
  state[3 * stride] = d;
}

// Where one message stands: the next run of whole 64-byte blocks to compress. Bytes that do
// not make a whole block within one piece, and the padding at the end (RFC 1321, 3.1-3.2), are
// copied into `staged_`.
class Cursor {
 public:
  explicit Cursor(Md5Message msg) : msg_(msg) {}

  // The next run: `*blocks` (>= 1) blocks at the returned pointer. Calling it again without
  // advance() returns the same run.
  const std::byte* next(size_t* blocks) {
    if (staged_blocks_ == 0) {
      while (piece_ < msg_.size() && off_ == msg_[piece_].size()) ++piece_, off_ = 0;
      if (piece_ < msg_.size() && msg_[piece_].size() - off_ >= kBlock) {
        *blocks = (msg_[piece_].size() - off_) / kBlock;
        return msg_[piece_].data() + off_;
      }
      stage();
    }
    *blocks = staged_blocks_ - staged_done_;
    return staged_ + kBlock * staged_done_;
  }
  // Requires: blocks <= the count next() gave.
  void advance(size_t blocks) {
    if (staged_blocks_ != 0) {
      staged_done_ += blocks;
      if (staged_done_ == staged_blocks_) {
        done_ = final_;
        staged_blocks_ = staged_done_ = 0;
      }
      return;
    }
    off_ += kBlock * blocks;
    length_ += kBlock * blocks;
  }
  bool done() const { return done_; }
  // Bytes of the message consumed so far (hashed, or copied into the staged blocks).
  uint64_t consumed() const { return length_; }

 private:
  // Gathers the next 64 bytes across pieces, or what is left plus the padding.
  void stage() {
    size_t n = 0;
    while (n < kBlock && piece_ < msg_.size()) {
      size_t take = std::min(kBlock - n, msg_[piece_].size() - off_);
      std::memcpy(staged_ + n, msg_[piece_].data() + off_, take);
      n += take;
      off_ += take;
      if (off_ == msg_[piece_].size()) ++piece_, off_ = 0;
    }
    length_ += n;
    if (n == kBlock) {
      staged_blocks_ = 1;
      return;
    }
    final_ = true;
    staged_blocks_ = n + 1 + 8 <= kBlock ? 1 : 2;
    std::memset(staged_ + n, 0, kBlock * staged_blocks_ - n);
    staged_[n] = std::byte{0x80};
    uint64_t bits = length_ * 8;
    for (int i = 0; i < 8; ++i)
      staged_[kBlock * staged_blocks_ - 8 + i] = static_cast<std::byte>(bits >> (8 * i));
  }

  Md5Message msg_;
  size_t piece_ = 0, off_ = 0;
  uint64_t length_ = 0;  // bytes consumed so far
  alignas(64) std::byte staged_[2 * kBlock];
  size_t staged_blocks_ = 0, staged_done_ = 0;
  bool final_ = false, done_ = false;
};

Md5Digest digest_of(const uint32_t* state, size_t stride) {
  Md5Digest out;
  for (int w = 0; w < 4; ++w) {
    uint32_t v = state[w * stride];
    for (int i = 0; i < 4; ++i) out[4 * w + i] = static_cast<unsigned char>(v >> (8 * i));
  }
  return out;
}

#if defined(__x86_64__)
// Blocks one kernel call advances every lane at most (the idle lanes read kIdle's zeros).
constexpr size_t kMaxRun = 16;
alignas(64) constexpr std::byte kIdle[kMaxRun * kBlock] = {};

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
}
#endif

}  // namespace

Md5Kernel best_md5_kernel() {
  static const Md5Kernel best = md5_kernels().back();
  return best;
}

std::vector<Md5Kernel> md5_kernels() {
  std::vector<Md5Kernel> kernels{Md5Kernel::kScalar};
#if defined(__x86_64__)
  if (cpu_has_avx2()) kernels.push_back(Md5Kernel::kAvx2);
  if (cpu_has_avx512()) kernels.push_back(Md5Kernel::kAvx512);
#endif
  return kernels;
}

std::string_view md5_kernel_name(Md5Kernel kernel) {
  switch (kernel) {
    case Md5Kernel::kScalar:
      return "scalar";
    case Md5Kernel::kAvx2:
      return "avx2";
    case Md5Kernel::kAvx512:
      return "avx512";
  }
  return "?";
}

// --- the lanes, for md5_many and Md5Lanes -----------------------------------------------------

namespace {

constexpr size_t kMaxLanes = 16;
// Bytes a lane hashes between two calls of `release`, and per run of the scalar code.
constexpr uint64_t kReleaseStep = 4 << 20;

// Messages go into lanes as lanes free up: a kernel call advances every busy lane by the same
// number of blocks (idle lanes hash zeros that nobody reads). With no SIMD kernel, one lane on
// the scalar code.
class LaneEngine {
 public:
  explicit LaneEngine([[maybe_unused]] Md5Kernel kernel) {
#if defined(__x86_64__)
    if (kernel == Md5Kernel::kAvx512) {
      lanes_ = 16;
      kernel_ = md5_detail::compress_avx512;
    } else if (kernel == Md5Kernel::kAvx2) {
      lanes_ = 8;
      kernel_ = md5_detail::compress_avx2;
    }
#endif
  }

  Md5Lanes::Done done;
  Md5Lanes::Release release;  // for messages of one piece (push_one) only

  // Queues a message of any pieces, which must outlive its digest.
  void push(size_t id, Md5Message message) { queue_.push_back({id, message, {}, false}); }
  // Queues a message of one piece: the lane keeps the span itself.
  void push_one(size_t id, std::span<const std::byte> data) {
    queue_.push_back({id, {}, data, true});
  }
  // Hashes while every lane has a message.
  void run_full() {
    fill();
    while (busy_ == lanes_) {
      step();
      fill();
    }
  }
  // Hashes everything queued. With `two_threads`, the last two messages finish on two threads.
  void finish(bool two_threads) {
    for (;;) {
      fill();
      if (busy_ == 0) return;
      if (!few_left()) {
        step();
        continue;
      }
      size_t busy[2], n = 0;
      for (size_t l = 0; l < lanes_ && n < 2; ++l)
        if (lane_[l].busy) busy[n++] = l;
      // The caller waits for finish() (the digest pass, at the end of a layer, when the scan's
      // other threads are done): a second thread halves the time of the last two long messages.
      // Each thread writes only its lane's state words and progress; `release` runs on both.
      std::thread second;
      if (n == 2 && two_threads) {
        try {
          second = std::thread([&] { scalar_run(busy[1]); });
        } catch (const std::system_error&) {
          // no thread to be had: one after the other, below
        }
      }
      if (n == 2 && !second.joinable()) scalar_run(busy[1]);
      scalar_run(busy[0]);
      if (second.joinable()) second.join();
      for (size_t i = 0; i < n; ++i) complete(busy[i]);
    }
  }

 private:
  using Kernel = void (*)(uint32_t*, const std::byte* const*, size_t);
  struct Pending {
    size_t id;
    Md5Message message;
    std::span<const std::byte> one;
    bool is_one;
  };
  struct Lane {
    bool busy = false;
    size_t id = 0;
    std::span<const std::byte> piece;  // push_one's message (the cursor reads it through &piece)
    Cursor cursor{Md5Message{}};
    uint64_t released = 0;  // bytes of `piece` handed to `release`
  };

  // Idle lanes take the next queued messages.
  void fill() {
    for (size_t l = 0; l < lanes_ && !queue_.empty(); ++l) {
      Lane& ln = lane_[l];
      if (ln.busy) continue;
      const Pending& p = queue_.front();
      ln.busy = true;
      ln.id = p.id;
      ln.piece = p.one;
      ln.cursor = Cursor(p.is_one ? Md5Message(&ln.piece, 1) : p.message);
      ln.released = 0;
      queue_.pop_front();
      for (size_t w = 0; w < 4; ++w) state_[w * lanes_ + l] = kIv[w];
      ++busy_;
    }
  }
  void progress(Lane& ln) {
    uint64_t at = ln.cursor.consumed();
    if (release && !ln.piece.empty() && at - ln.released >= kReleaseStep) {
      release(ln.piece.subspan(ln.released, at - ln.released));
      ln.released = at;
    }
  }
  void complete(size_t l) {
    Lane& ln = lane_[l];
    done(ln.id, digest_of(state_ + l, lanes_));
    if (release && ln.released < ln.piece.size()) release(ln.piece.subspan(ln.released));
    ln.busy = false;
    --busy_;
  }
  // One run of up to kReleaseStep bytes of lane `l` on the scalar code.
  void scalar_blocks(size_t l) {
    Lane& ln = lane_[l];
    size_t blocks = 0;
    const std::byte* p = ln.cursor.next(&blocks);
    blocks = std::min(blocks, static_cast<size_t>(kReleaseStep / kBlock));
    compress_scalar(state_ + l, lanes_, p, blocks);
    ln.cursor.advance(blocks);
  }
  // Hashes lane `l` to the end of its message on the scalar code (complete() is the caller's).
  void scalar_run(size_t l) {
    while (!lane_[l].cursor.done()) {
      scalar_blocks(l);
      if (!lane_[l].cursor.done()) progress(lane_[l]);
    }
  }
  // One kernel call over the busy lanes, or a run of the scalar code on the only lane.
  void step() {
    if (kernel_ == nullptr) {
      scalar_blocks(0);
      lane_[0].cursor.done() ? complete(0) : progress(lane_[0]);
      return;
    }
#if defined(__x86_64__)
    const std::byte* ptr[kMaxLanes];
    size_t run = kMaxRun;
    for (size_t l = 0; l < lanes_; ++l) {
      if (!lane_[l].busy) {
        ptr[l] = kIdle;
        continue;
      }
      size_t blocks = 0;
      ptr[l] = lane_[l].cursor.next(&blocks);
      run = std::min(run, blocks);
    }
    kernel_(state_, ptr, run);
    for (size_t l = 0; l < lanes_; ++l) {
      if (!lane_[l].busy) continue;
      lane_[l].cursor.advance(run);
      lane_[l].cursor.done() ? complete(l) : progress(lane_[l]);
    }
#endif
  }
  // A kernel call costs about the same with one lane busy as with all: with few lanes left and
  // nothing queued, the scalar code is faster.
  bool few_left() const { return queue_.empty() && kernel_ != nullptr && busy_ <= lanes_ / 8; }

  size_t lanes_ = 1;
  Kernel kernel_ = nullptr;
  alignas(64) uint32_t state_[4 * kMaxLanes] = {};
  Lane lane_[kMaxLanes];
  std::deque<Pending> queue_;
  size_t busy_ = 0;
};

}  // namespace

void md5_many(std::span<const Md5Message> messages, std::span<Md5Digest> out, Md5Kernel kernel) {
  // Largest first, so that the long messages start early and the short ones fill in.
  std::vector<uint64_t> size(messages.size());
  for (size_t i = 0; i < messages.size(); ++i)
    for (const auto& piece : messages[i]) size[i] += piece.size();
  std::vector<size_t> order(messages.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t x, size_t y) { return size[x] > size[y]; });
  LaneEngine lanes(kernel);
  lanes.done = [&](size_t id, const Md5Digest& d) { out[id] = d; };
  for (size_t i : order) lanes.push(i, messages[i]);
  lanes.finish(false);
}

struct Md5Lanes::State : LaneEngine {
  using LaneEngine::LaneEngine;
};

Md5Lanes::Md5Lanes(Done done, Release release, Md5Kernel kernel)
    : s_(std::make_unique<State>(kernel)) {
  s_->done = std::move(done);
  s_->release = std::move(release);
}

Md5Lanes::~Md5Lanes() = default;

void Md5Lanes::add(size_t id, std::span<const std::byte> data) {
  s_->push_one(id, data);
  s_->run_full();
}

void Md5Lanes::finish() { s_->finish(true); }

Md5Digest md5_scalar(std::span<const std::byte> data) {
  Md5Digest out;
  Md5Message message(&data, 1);
  md5_many(std::span(&message, 1), std::span(&out, 1), Md5Kernel::kScalar);
  return out;
}

}  // namespace coroner
