#include "base/bytes.h"

#include <cstdio>

namespace coroner {

std::string ByteReader::fmt_oob(const char* what, uint64_t len, uint64_t off) const {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s %llu bytes at offset 0x%llx exceeds size 0x%llx", what,
                static_cast<unsigned long long>(len), static_cast<unsigned long long>(off),
                static_cast<unsigned long long>(data_.size()));
  return buf;
}

}  // namespace coroner
