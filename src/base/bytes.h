// ByteReader: a bounds-checked, endian-aware cursor over untrusted bytes (after bloaty's
// ReadFixed/StrictSubstr and mold's integer types). Every read past the end throws Error, so
// parsers never index raw pointers with offsets taken from the input.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/error.h"

namespace coroner {

// Overflow-checked arithmetic for sizes and offsets read from input.
inline uint64_t checked_add(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_add_overflow(a, b, &r)) throw Error("integer overflow in offset arithmetic");
  return r;
}
inline uint64_t checked_mul(uint64_t a, uint64_t b) {
  uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) throw Error("integer overflow in size arithmetic");
  return r;
}

inline std::string_view as_chars(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> data, bool little_endian = true)
      : data_(data), little_(little_endian) {}

  uint64_t size() const { return data_.size(); }
  uint64_t offset() const { return pos_; }
  uint64_t remaining() const { return data_.size() - pos_; }
  bool little_endian() const { return little_; }
  void set_little_endian(bool le) { little_ = le; }

  void seek(uint64_t off) {
    if (off > data_.size()) throw Error(fmt_oob("seek to", off, 0));
    pos_ = off;
  }
  void skip(uint64_t n) { seek(checked_add(pos_, n)); }

  template <typename T>
  T read() {
    static_assert(std::is_integral_v<T>);
    T v = peek_at<T>(pos_);
    pos_ += sizeof(T);
    return v;
  }

  // Reads an integer at an absolute offset without moving the cursor.
  template <typename T>
  T peek_at(uint64_t off) const {
    static_assert(std::is_integral_v<T>);
    auto b = sub(off, sizeof(T));
    T v;
    std::memcpy(&v, b.data(), sizeof(T));
    bool host_le = std::endian::native == std::endian::little;
    if (sizeof(T) > 1 && host_le != little_) v = byteswap(v);
    return v;
  }

  std::span<const std::byte> bytes(uint64_t n) {
    auto b = sub(pos_, n);
    pos_ += n;
    return b;
  }

  // The sub-span [off, off+len), or Error when it does not fit.
  std::span<const std::byte> sub(uint64_t off, uint64_t len) const {
    if (off > data_.size() || len > data_.size() - off) throw Error(fmt_oob("read of", len, off));
    return data_.subspan(off, len);
  }

  // A NUL-terminated string starting at `off`, which must end before `limit` (default: the end).
  std::string_view cstr_at(uint64_t off, uint64_t limit = UINT64_MAX) const {
    uint64_t end = std::min<uint64_t>(limit, data_.size());
    if (off >= end) throw Error(fmt_oob("string at", 0, off));
    auto s = as_chars(data_.subspan(off, end - off));
    auto nul = s.find('\0');
    if (nul == std::string_view::npos) throw Error(fmt_oob("unterminated string at", 0, off));
    return s.substr(0, nul);
  }

 private:
  template <typename T>
  static T byteswap(T v) {
    using U = std::make_unsigned_t<T>;
    U u = static_cast<U>(v), r = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      r = static_cast<U>((r << 8) | (u & 0xff));
      u = static_cast<U>(u >> 8);
    }
    return static_cast<T>(r);
  }
  std::string fmt_oob(const char* what, uint64_t len, uint64_t off) const;

  std::span<const std::byte> data_;
  uint64_t pos_ = 0;
  bool little_;
};

}  // namespace coroner
