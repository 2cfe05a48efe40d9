#include "base/whole_buffer.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>

namespace coroner {

std::byte* WholeBuffer::get(size_t n) {
  if (n <= size_) return p_;
  // Geometric growth: each new buffer is fresh pages that fault in and are zeroed by the
  // kernel, so growing file by file would cost that many times the largest file.
  constexpr size_t kHuge = 2 << 20;
  size_t size =
      n > grow_up_to_ ? n : std::max({n, std::min(size_ * 2, grow_up_to_), size_t{1} << 20});
  if (size >= kHuge) {
    size = (size + kHuge - 1) / kHuge * kHuge;
    // Growing a mapping keeps its pages: the kernel zeroes only the new part (fresh pages are
    // zeroed on first touch, which costs about as much as copying them).
    void* p = mapped_ ? ::mremap(p_, size_, size, MREMAP_MAYMOVE) : MAP_FAILED;
    if (p == MAP_FAILED) {
      release();  // before the new one: never both at once
      p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    }
    if (p == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    ::madvise(p, size, MADV_HUGEPAGE);  // a hint: without THP it is plain pages
#endif
    p_ = static_cast<std::byte*>(p);
    mapped_ = true;
  } else {
    release();
    p_ = new std::byte[size];
    mapped_ = false;
  }
  size_ = size;
  return p_;
}

void WholeBuffer::release() {
  if (!p_) return;
  if (mapped_) {
    ::munmap(p_, size_);
  } else {
    delete[] p_;
  }
  p_ = nullptr;
  size_ = 0;
}

}  // namespace coroner
