#include "pkg/rpm_ndb.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "base/bytes.h"
#include "base/error.h"

namespace coroner::pkg {
namespace {

// rpmpkg.c's constants.
constexpr uint32_t magic(std::string_view m) {
  return static_cast<uint32_t>(static_cast<uint8_t>(m[0])) |
         static_cast<uint32_t>(static_cast<uint8_t>(m[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(m[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(m[3])) << 24;
}
constexpr uint32_t kDbMagic = magic("RpmP");
constexpr uint32_t kSlotMagic = magic("Slot");
constexpr uint32_t kBlobHeadMagic = magic("BlbS");
constexpr uint32_t kBlobTailMagic = magic("BlbE");
constexpr uint32_t kDbVersion = 0;
constexpr uint64_t kHeaderSize = 32;  // the first two slots of page 0
constexpr uint64_t kSlotSize = 16;
constexpr uint64_t kBlockSize = 16;
constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kBlobHeadSize = 16;
constexpr uint64_t kBlobTailSize = 12;

const std::string kWhat = "rpmdb Packages.db (ndb): ";

struct Slot {
  uint32_t number;  // as rpm counts them: the header is slots 0 and 1
  uint32_t pkgidx;
  uint32_t blkoff, blkcnt;
};

// The notes of one database: the first few in full, then a count. A hostile file of 64 MiB
// holds millions of slots, and a note for each would take ten times its size.
class Notes {
 public:
  explicit Notes(std::vector<std::string>& out) : out_(out) {}
  Notes(const Notes&) = delete;
  Notes& operator=(const Notes&) = delete;
  ~Notes() {
    if (dropped_ > 0) {
      out_.push_back(kWhat + std::to_string(dropped_) + " more slots or blobs skipped likewise");
    }
  }
  void add(std::string note) {
    if (kept_ < kMax) {
      out_.push_back(kWhat + std::move(note));
      ++kept_;
    } else {
      ++dropped_;
    }
  }

 private:
  static constexpr size_t kMax = 10;
  std::vector<std::string>& out_;
  size_t kept_ = 0, dropped_ = 0;
};

uint32_t adler32_of(std::span<const std::byte> bytes) {
  uLong a = adler32(0L, Z_NULL, 0);
  while (!bytes.empty()) {
    auto n = static_cast<uInt>(std::min<size_t>(bytes.size(), 1u << 30));
    a = adler32(a, reinterpret_cast<const Bytef*>(bytes.data()), n);
    bytes = bytes.subspan(n);
  }
  return static_cast<uint32_t>(a);
}

// The header blob of `slot`, or nullopt with a note when the blob is inconsistent.
std::optional<std::span<const std::byte>> blob_of(const ByteReader& db, const Slot& s,
                                                  Notes& notes) {
  std::string where = "package " + std::to_string(s.pkgidx) + " (slot " + std::to_string(s.number) +
                      ", offset " + std::to_string(s.blkoff * kBlockSize) + "): ";
  if (s.blkcnt * kBlockSize < kBlobHeadSize + kBlobTailSize) {
    notes.add(where + std::to_string(s.blkcnt) +
              " blocks, too few for a blob's head and tail: skipped");
    return std::nullopt;
  }
  std::span<const std::byte> all = db.sub(s.blkoff * kBlockSize, s.blkcnt * kBlockSize);
  ByteReader r(all);
  if (r.peek_at<uint32_t>(0) != kBlobHeadMagic) {
    notes.add(where + "no blob head (\"BlbS\") there: skipped");
    return std::nullopt;
  }
  if (r.peek_at<uint32_t>(4) != s.pkgidx) {
    notes.add(where + "the blob there is package " + std::to_string(r.peek_at<uint32_t>(4)) +
              "'s: skipped");
    return std::nullopt;
  }
  uint64_t len = r.peek_at<uint32_t>(12);
  uint64_t need = (kBlobHeadSize + len + kBlobTailSize + kBlockSize - 1) / kBlockSize;
  if (need != s.blkcnt) {
    notes.add(where + "a blob of " + std::to_string(len) + " bytes needs " + std::to_string(need) +
              " blocks, the slot gives " + std::to_string(s.blkcnt) + ": skipped");
    return std::nullopt;
  }
  uint64_t tail = all.size() - kBlobTailSize;
  if (r.peek_at<uint32_t>(tail + 4) != len || r.peek_at<uint32_t>(tail + 8) != kBlobTailMagic) {
    notes.add(where + "the blob's tail does not match its head: skipped");
    return std::nullopt;
  }
  if (adler32_of(all.first(tail)) != r.peek_at<uint32_t>(tail)) {
    notes.add(where +
              "the blob's adler32 does not match its bytes: read all the same (rpm does "
              "not check it either)");
  }
  return all.subspan(kBlobHeadSize, len);
}

}  // namespace

std::vector<RpmPackage> read_rpmdb_ndb(std::span<const std::byte> bytes,
                                       std::vector<std::string>& notes) {
  ByteReader db(bytes, /*little_endian=*/true);
  if (bytes.size() < kHeaderSize || db.peek_at<uint32_t>(0) != kDbMagic) {
    throw Error(kWhat + "no \"RpmP\" magic at the start (" + std::to_string(bytes.size()) +
                " bytes): not an ndb package database");
  }
  uint32_t version = db.peek_at<uint32_t>(4);
  if (version != kDbVersion) {
    throw Error(kWhat + "version " + std::to_string(version) + ", only version 0 is known");
  }
  uint64_t slot_pages = db.peek_at<uint32_t>(12);
  if (slot_pages == 0 || slot_pages > bytes.size() / kPageSize) {
    throw Error(kWhat + "the header declares " + std::to_string(slot_pages) +
                " slot pages of 4096 bytes, the file has " + std::to_string(bytes.size()) +
                " bytes (truncated?)");
  }
  // As rpmpkgReadSlots: the blocks the file holds (a partial block at the end is not one) and
  // the first block after the slot pages.
  uint64_t file_blocks = bytes.size() / kBlockSize;
  uint64_t first_blob_block = slot_pages * kPageSize / kBlockSize;
  if (bytes.size() % kBlockSize != 0) {
    notes.push_back(kWhat + std::to_string(bytes.size()) +
                    " bytes, not a whole number of 16-byte blocks: the last " +
                    std::to_string(bytes.size() % kBlockSize) + " are ignored (truncated?)");
  }

  Notes noted(notes);
  auto slot_where = [](uint64_t n) {
    return "slot " + std::to_string(n) + " (offset " + std::to_string(n * kSlotSize) + "): ";
  };
  std::vector<Slot> slots;
  for (uint64_t n = kHeaderSize / kSlotSize; n < slot_pages * kPageSize / kSlotSize; ++n) {
    uint64_t off = n * kSlotSize;
    if (db.peek_at<uint32_t>(off) != kSlotMagic) {
      throw Error(kWhat + slot_where(n) + "no \"Slot\" magic: the slot pages are damaged");
    }
    Slot s{static_cast<uint32_t>(n), db.peek_at<uint32_t>(off + 4), db.peek_at<uint32_t>(off + 8),
           db.peek_at<uint32_t>(off + 12)};
    if (s.blkoff == 0) continue;  // a free slot
    if (s.pkgidx == 0 || s.blkcnt == 0 || s.blkoff < first_blob_block) {
      noted.add(slot_where(n) + "package " + std::to_string(s.pkgidx) + " at block " +
                std::to_string(s.blkoff) + ", " + std::to_string(s.blkcnt) +
                " blocks: not a valid entry (no index, no blocks, or inside the slot pages): "
                "skipped");
      continue;
    }
    if (uint64_t{s.blkoff} + s.blkcnt > file_blocks) {
      noted.add(slot_where(n) + "package " + std::to_string(s.pkgidx) + "'s blob ends at byte " +
                std::to_string((uint64_t{s.blkoff} + s.blkcnt) * kBlockSize) +
                ", past the end of the file (" + std::to_string(bytes.size()) +
                " bytes; truncated?): skipped");
      continue;
    }
    slots.push_back(s);
  }
  // A package index met twice: the first slot holds it (rpmpkgFindSlot finds that one).
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.pkgidx != b.pkgidx ? a.pkgidx < b.pkgidx : a.number < b.number;
  });
  size_t kept = 0;
  for (size_t i = 0; i < slots.size(); ++i) {
    if (kept > 0 && slots[kept - 1].pkgidx == slots[i].pkgidx) {
      noted.add(slot_where(slots[i].number) + "package " + std::to_string(slots[i].pkgidx) +
                " has a slot already: skipped");
      continue;
    }
    slots[kept++] = slots[i];
  }
  slots.resize(kept);
  // rpmpkgList, which `rpm -qa` walks, orders the slots by blob offset.
  std::sort(slots.begin(), slots.end(), [](const Slot& a, const Slot& b) {
    return a.blkoff != b.blkoff ? a.blkoff < b.blkoff : a.number < b.number;
  });

  std::vector<RpmPackage> out;
  out.reserve(slots.size());
  uint64_t end = 0;  // of the last blob read: blobs must not overlap, as rpm's own checks want
  uint32_t end_pkgidx = 0;
  for (const Slot& s : slots) {
    if (s.blkoff < end) {
      noted.add("package " + std::to_string(s.pkgidx) + " (slot " + std::to_string(s.number) +
                "): its blob overlaps package " + std::to_string(end_pkgidx) + "'s: skipped");
      continue;
    }
    end = uint64_t{s.blkoff} + s.blkcnt;
    end_pkgidx = s.pkgidx;
    std::optional<std::span<const std::byte>> blob = blob_of(db, s, noted);
    if (!blob) continue;
    try {
      out.push_back(parse_rpm_header(*blob));
    } catch (const Error& e) {
      noted.add("package " + std::to_string(s.pkgidx) + ": " + e.what());
    }
  }
  return out;
}

}  // namespace coroner::pkg
