// A reusable buffer for whole file contents or long prefixes of files, as the scan reads them
// file after file: it grows geometrically (at least 1 MiB, doubling) up to `grow_up_to` bytes and
// is kept for the next file, and is sized exactly above that. Big ones are mapped with
// transparent huge pages where the kernel offers them: a 100 MiB libLLVM in 4 KiB pages costs
// ~25k page faults, measured at ~25% of a scan of a 1 GB root.
#pragma once

#include <cstddef>

namespace coroner {

class WholeBuffer {
 public:
  explicit WholeBuffer(size_t grow_up_to) : grow_up_to_(grow_up_to) {}
  ~WholeBuffer() { release(); }
  WholeBuffer(const WholeBuffer&) = delete;
  WholeBuffer& operator=(const WholeBuffer&) = delete;

  // At least n writable bytes (what an earlier call wrote is not kept when the buffer grows).
  std::byte* get(size_t n);
  std::byte* data() const { return p_; }
  size_t capacity() const { return size_; }
  void release();

 private:
  size_t grow_up_to_;
  std::byte* p_ = nullptr;
  size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace coroner
