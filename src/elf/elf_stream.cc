#include "elf/elf_stream.h"

#include <string.h>  // memmem (GNU)

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#include "base/error.h"

namespace coroner::elf {
namespace {

constexpr uint32_t PF_X = 1;
constexpr uint32_t PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3, PT_NOTE = 4,
                   PT_GNU_PROPERTY = 0x6474e553;
constexpr uint16_t ET_EXEC = 2, ET_DYN = 3;
constexpr uint64_t DF_1_PIE = 0x08000000;
constexpr size_t kPattern = sizeof(internal::kKernelTooOld) - 1;
// The version records a dynamic section that comes first points to: kept up to this many bytes
// (their walk reads a few KiB; libLLVM's .gnu.version_r is 848 bytes).
constexpr uint64_t kVersionWindow = 4 << 20;

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

bool contains_pattern(const void* p, size_t n) {
  return ::memmem(p, n, internal::kKernelTooOld, kPattern) != nullptr;
}

}  // namespace

void ElfStream::Buffer::append(std::span<const std::byte> b) {
  std::memcpy(mem_.data() + size_, b.data(), b.size());
  size_ += b.size();
}

ElfStream::ElfStream(uint64_t prefix, uint64_t windows)
    : prefix_cap_(std::max<uint64_t>(prefix, 64)), windows_cap_(windows) {}

void ElfStream::reset(uint64_t size) {
  size_ = size;
  pos_ = 0;
  prefix_end_ = std::min(size, prefix_cap_);
  // Room for a prefix that grows (mapped: pages not written cost nothing).
  prefix_.reset(static_cast<size_t>(std::min(size, 2 * prefix_cap_)));
  windows_.clear();
  window_bytes_ = 0;
  layout_.reset();
  plan_done_ = false;
  search_ = true;
  found_ = false;
  tail_.clear();
  block_ = {};
  block_start_ = 0;
}

void ElfStream::release() {
  prefix_.release();
  std::vector<Window>().swap(windows_);
  window_bytes_ = 0;
}

uint64_t ElfStream::kept_bytes() const {
  uint64_t n = prefix_.size();
  for (const Window& w : windows_) n += w.bytes.size();
  return n;
}

internal::FileView ElfStream::view(uint64_t size) const {
  std::vector<internal::Chunk> chunks;
  chunks.reserve(windows_.size() + 1);
  chunks.push_back({0, prefix_.span()});
  for (const Window& w : windows_) chunks.push_back({w.offset, w.bytes});
  return internal::FileView(size, std::move(chunks));
}

bool ElfStream::keep(uint64_t off, uint64_t len, bool partial) {
  if (len == 0 || off >= size_) return true;  // nothing to keep, or the parser's Error
  uint64_t end = len > size_ - off ? size_ : off + len;
  if (end <= prefix_end_) return true;  // in the prefix
  for (const Window& w : windows_) {
    if (w.offset == off && w.end >= end) return true;
  }
  // Bytes already read are still here when they are in the prefix or in the current block.
  if (off < pos_ && off < block_start_ && prefix_.size() < block_start_) return false;
  uint64_t n = end - off;
  if (n > windows_cap_ - window_bytes_) {
    if (!partial || window_bytes_ == windows_cap_) return false;
    n = windows_cap_ - window_bytes_;
    end = off + n;
  }
  window_bytes_ += n;
  Window& w = windows_.emplace_back();
  w.offset = off;
  w.end = end;
  w.bytes.reserve(static_cast<size_t>(n));
  if (off < block_start_) {
    uint64_t to = std::min(block_start_, end);
    w.bytes.assign(prefix_.data() + off, prefix_.data() + to);
  }
  uint64_t from = std::max(off, block_start_), to = std::min(pos_, end);
  if (from < to) {
    auto piece =
        block_.subspan(static_cast<size_t>(from - block_start_), static_cast<size_t>(to - from));
    w.bytes.insert(w.bytes.end(), piece.begin(), piece.end());
  }
  return true;
}

void ElfStream::plan() {
  // Each step reads with the parser's own code over what is kept so far; NotKept names the bytes
  // it waits for: they are kept when still to come, and the step is tried again on a later block.
  // An Error ends the planning (finish() reports it from the whole parse).
  try {
    if (!layout_) {
      // The header is read from the prefix with the parser's bounds (the first 64 bytes).
      if (pos_ < std::min<uint64_t>(size_, 64)) return;
      layout_ = internal::read_layout(view(size_));
      for (const internal::Segment& s : layout_->segments) {
        if (s.type == PT_INTERP || s.type == PT_DYNAMIC || s.type == PT_NOTE ||
            s.type == PT_GNU_PROPERTY)
          keep(s.offset, s.filesz, false);
        // A PT_INTERP makes the file dynamic (or corrupt): glibc_kernel_check cannot be set.
        if (s.type == PT_INTERP && s.filesz != 0) search_ = false;
      }
      if (layout_->e_type != ET_EXEC && layout_->e_type != ET_DYN) search_ = false;
      // A first PT_LOAD without code holds the tables (see kDefaultPrefix): keep all of it, while
      // the prefix is still whole.
      for (const internal::Segment& s : layout_->segments) {
        if (s.type != PT_LOAD || s.offset != 0) continue;
        const uint64_t grown = std::min({s.filesz, size_, 2 * prefix_cap_}), old = prefix_end_;
        // Bytes past the prefix are still here when they are in the current block.
        if (!(s.flags & PF_X) && grown > old && (pos_ <= old || block_start_ <= old)) {
          prefix_end_ = grown;
          if (pos_ > old) {
            uint64_t to = std::min(pos_, grown);
            prefix_.append(block_.subspan(static_cast<size_t>(old - block_start_),
                                          static_cast<size_t>(to - old)));
          }
        }
        break;
      }
    }
    const internal::Segment* dyn = nullptr;
    for (const internal::Segment& s : layout_->segments) {
      if (s.type == PT_DYNAMIC) {
        dyn = &s;
        break;
      }
    }
    if (!dyn) {
      plan_done_ = true;
      return;
    }
    internal::DynamicRefs d = internal::read_dynamic_refs(view(size_), *layout_, *dyn);
    if (d.has_needed) search_ = false;
    if (layout_->e_type == ET_DYN && !(d.flags_1 & DF_1_PIE)) search_ = false;
    // The tables come before the dynamic section in the usual layouts (then they are in the
    // prefix or gone); when it comes first, they are still to come and are kept now.
    if (d.strtab) {
      if (auto m = internal::map_address(*layout_, *d.strtab))
        keep(m->offset, d.strsz ? std::min(*d.strsz, m->length) : m->length, true);
    }
    for (const auto& table : {d.verneed, d.verdef}) {
      if (!table) continue;
      if (auto m = internal::map_address(*layout_, *table))
        keep(m->offset, std::min(m->length, kVersionWindow), true);
    }
    plan_done_ = true;
  } catch (const internal::NotKept& k) {
    if (!keep(k.offset, k.length, false)) plan_done_ = true;  // gone: finish() says so
  } catch (const Error&) {
    plan_done_ = true;
  }
}

void ElfStream::search(std::span<const std::byte> block) {
  if (block.empty()) return;
  // A match across the boundary: the last kPattern - 1 bytes before and the first after.
  if (!tail_.empty()) {
    char joint[2 * kPattern];
    size_t k = std::min(block.size(), kPattern - 1);
    std::memcpy(joint, tail_.data(), tail_.size());
    std::memcpy(joint + tail_.size(), block.data(), k);
    if (contains_pattern(joint, tail_.size() + k)) found_ = true;
  }
  if (!found_ && contains_pattern(block.data(), block.size())) found_ = true;
  const size_t keep_tail = kPattern - 1;
  if (block.size() >= keep_tail) {
    tail_.assign(reinterpret_cast<const char*>(block.data() + block.size() - keep_tail), keep_tail);
  } else {
    tail_.append(reinterpret_cast<const char*>(block.data()), block.size());
    if (tail_.size() > keep_tail) tail_.erase(0, tail_.size() - keep_tail);
  }
}

void ElfStream::feed(std::span<const std::byte> block) {
  if (block.empty()) return;
  const uint64_t start = pos_, stop = pos_ + block.size();
  if (search_ && !found_) search(block);
  if (start < prefix_end_) {
    size_t n = static_cast<size_t>(std::min(prefix_end_, stop) - start);
    prefix_.append(block.first(n));
  }
  for (Window& w : windows_) {
    uint64_t from = std::max(w.offset + w.bytes.size(), start), to = std::min(w.end, stop);
    if (from >= to || from != w.offset + w.bytes.size()) continue;
    auto piece = block.subspan(static_cast<size_t>(from - start), static_cast<size_t>(to - from));
    w.bytes.insert(w.bytes.end(), piece.begin(), piece.end());
  }
  pos_ = stop;
  // Planning may keep windows that start in this block (keep() copies them from it), and one
  // step may make the next possible (the program headers name the dynamic section, which names
  // the tables): steps run while they make progress.
  block_ = block;
  block_start_ = start;
  while (!plan_done_) {
    size_t windows = windows_.size();
    bool had_layout = layout_.has_value();
    plan();
    if (windows_.size() == windows && layout_.has_value() == had_layout) break;
  }
  block_ = {};
  block_start_ = pos_;
}

StreamResult ElfStream::finish() {
  StreamResult out;
  // The size of the file is what was fed (a tar entry has exactly its header's size).
  internal::FileView v = view(pos_);
  auto not_kept = [&](uint64_t off, uint64_t len) {
    return "needs " + std::to_string(len) + " bytes at offset " + hex(off) +
           " that a one-pass read did not keep (they lie past the first " +
           std::to_string(prefix_cap_ >> 20) +
           " MiB, before the headers that name them: an unusual layout)";
  };
  try {
    out.info = internal::parse_view(v, found_);
  } catch (const internal::NotKept& k) {
    out.not_kept = not_kept(k.offset, k.length);
  } catch (const Error& e) {
    // A table read through a span cut short may have failed only for the missing part.
    if (v.truncated()) {
      out.not_kept = not_kept(prefix_end_, pos_ - prefix_end_) + " (" + e.what() + ")";
    } else {
      out.error = e.what();
    }
  }
  return out;
}

}  // namespace coroner::elf
