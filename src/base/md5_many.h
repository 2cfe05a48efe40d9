// MD5 of many independent messages at once: each SIMD register holds one state word of 16
// messages (AVX-512) or 8 (AVX2), so a batch of small files is hashed several times faster than
// one file after another; MD5 itself cannot be split within one message. Written by hand
// because no Debian library does it (OpenSSL hashes one message at a time; ISA-L's crypto half,
// which has md5_mb, is not packaged). Used for dpkg's md5sums (pkg/digest_pass).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

namespace coroner {

using Md5Digest = std::array<unsigned char, 16>;

// One message: the concatenation of its pieces (pieces may have any size, 0 included).
using Md5Message = std::span<const std::span<const std::byte>>;

enum class Md5Kernel {
  kScalar,  // portable C, one message at a time
  kAvx2,    // 8 lanes
  kAvx512,  // 16 lanes
};

// The widest kernel this CPU runs (the build decides nothing: it is checked at run time).
Md5Kernel best_md5_kernel();
// Every kernel this CPU runs, narrowest first (for tests and benchmarks).
std::vector<Md5Kernel> md5_kernels();
std::string_view md5_kernel_name(Md5Kernel kernel);

// The md5 of each message (out[i] of messages[i]). Messages of very different sizes are fine:
// a lane that finishes takes the next message, the largest first; when only a few long
// messages remain, they finish on the scalar code.
// Requires: out.size() == messages.size(); `kernel` runs on this CPU (md5_kernels()).
void md5_many(std::span<const Md5Message> messages, std::span<Md5Digest> out,
              Md5Kernel kernel = best_md5_kernel());

// MD5 of messages that arrive one after another (the files of a layer, as views that stay
// readable), each in a SIMD lane as soon as one is free: a long message rides in its lane while
// short ones come and go in the others, so that long files are hashed in lanes too, which a batch
// of md5_many() cannot do unless it holds several of them at once. Not thread-safe.
class Md5Lanes {
 public:
  // `done` gets each message's digest; `release`, when set, gets the parts of messages hashed so
  // far (a few MiB at a time, and the rest at the end of each message), which the caller may
  // give back (madvise) since the lanes will not read them again.
  using Done = std::function<void(size_t id, const Md5Digest& digest)>;
  using Release = std::function<void(std::span<const std::byte> hashed)>;
  explicit Md5Lanes(Done done, Release release = {}, Md5Kernel kernel = best_md5_kernel());
  ~Md5Lanes();
  Md5Lanes(const Md5Lanes&) = delete;
  Md5Lanes& operator=(const Md5Lanes&) = delete;

  // Queues message `id`; `data` must stay readable until `done` reports it. Hashes while every
  // lane has a message (so a caller that adds messages as they come keeps the lanes full).
  void add(size_t id, std::span<const std::byte> data);
  // Hashes every message queued; `done` has then reported each one. The last two messages, once
  // only two are left, go through the scalar code on two threads (this one and another), so
  // `release` must be thread-safe.
  void finish();

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// The md5 of one message, on the scalar code (the reference the SIMD kernels are tested
// against, besides OpenSSL).
Md5Digest md5_scalar(std::span<const std::byte> data);

namespace md5_detail {
// state: 4 words x `lanes` (state[w * lanes + lane]); each lane i reads blocks * 64 bytes from
// ptr[i]. Defined in md5_many_x86.cc; called only when the CPU has the instructions.
void compress_avx512(uint32_t* state, const std::byte* const* ptr, size_t blocks);
void compress_avx2(uint32_t* state, const std::byte* const* ptr, size_t blocks);
}  // namespace md5_detail

}  // namespace coroner
