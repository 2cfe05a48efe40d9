// ByteGate: a process-wide budget for big transient buffers. The scanning threads (one per
// layer) buffer captured files whole and up to 32 MiB of each ELF file (elf::ElfStream); two
// threads each holding such a buffer at once would add up, so a thread that needs a big buffer
// first takes a lease on the gate and waits while the budget is in use. A holder never waits on
// another gate, and a lease is taken per file and given back once the file is used, so the waits
// cannot deadlock.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace coroner::scan {

// Whole-content buffers above this many bytes take a lease on big_buffer_gate(); smaller ones
// are kept per thread for the next file.
inline constexpr size_t kBigBuffer = 8 << 20;

class ByteGate {
 public:
  // Leases are granted while their sum stays within `budget`; one lease larger than the budget
  // is granted when nothing else is held (a file is never refused, only delayed).
  explicit ByteGate(size_t budget) : budget_(budget) {}
  ByteGate(const ByteGate&) = delete;
  ByteGate& operator=(const ByteGate&) = delete;

  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept : gate_(o.gate_), bytes_(o.bytes_) { o.gate_ = nullptr; }
    Lease& operator=(Lease&& o) noexcept;
    ~Lease() { reset(); }
    void reset();
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    friend class ByteGate;
    Lease(ByteGate* gate, size_t bytes) : gate_(gate), bytes_(bytes) {}
    ByteGate* gate_ = nullptr;
    size_t bytes_ = 0;
  };

  // Blocks until `bytes` fit in the budget. Requires: the calling thread holds no lease on
  // this gate (it would wait on itself).
  Lease acquire(size_t bytes);
  size_t in_use() const;

 private:
  void give_back(size_t bytes);

  const size_t budget_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t used_ = 0;
};

// The gate of the whole-content buffers of every scan in the process: budget kBigBuffer, so at
// most one buffer larger than kBigBuffer exists at a time.
ByteGate& big_buffer_gate();

}  // namespace coroner::scan
