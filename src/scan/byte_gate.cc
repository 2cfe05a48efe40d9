#include "scan/byte_gate.h"

namespace coroner::scan {

ByteGate::Lease& ByteGate::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    reset();
    gate_ = o.gate_;
    bytes_ = o.bytes_;
    o.gate_ = nullptr;
  }
  return *this;
}

void ByteGate::Lease::reset() {
  if (!gate_) return;
  gate_->give_back(bytes_);
  gate_ = nullptr;
  bytes_ = 0;
}

ByteGate::Lease ByteGate::acquire(size_t bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock,
           [&] { return used_ == 0 || (used_ + bytes >= used_ && used_ + bytes <= budget_); });
  used_ += bytes;
  return Lease(this, bytes);
}

size_t ByteGate::in_use() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

void ByteGate::give_back(size_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= bytes;
  }
  cv_.notify_all();
}

ByteGate& big_buffer_gate() {
  static ByteGate gate(kBigBuffer);
  return gate;
}

}  // namespace coroner::scan
