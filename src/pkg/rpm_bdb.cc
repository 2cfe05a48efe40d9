#include "pkg/rpm_bdb.h"

#include <algorithm>
#include <array>
#include <string_view>

#include "base/bytes.h"
#include "base/error.h"

namespace coroner::pkg {
namespace {

// Layout (Berkeley DB's dbinc/db_page.h and hash.h; the offsets bdb_ro.c uses).
// Metadata page (page 0): DBMETA then HMETA.
constexpr uint64_t kMetaMagic = 12;      // u32: 0x061561 for hash
constexpr uint64_t kMetaVersion = 16;    // u32: 8..10
constexpr uint64_t kMetaPageSize = 20;   // u32
constexpr uint64_t kMetaEncrypt = 24;    // u8: encrypt_alg
constexpr uint64_t kMetaType = 25;       // u8: P_HASHMETA
constexpr uint64_t kMetaFlags = 26;      // u8: DBMETA_CHKSUM = 1
constexpr uint64_t kMetaLastPgno = 32;   // u32
constexpr uint64_t kMetaMaxBucket = 72;  // u32
constexpr uint64_t kMetaSpares = 96;     // u32[32]
constexpr uint64_t kMetaSize = 512;      // the smallest page holds the whole metadata
constexpr uint32_t kHashMagic = 0x061561;
// Page header (PGHDR, 26 bytes): lsn 8, pgno 4, prev_pgno 4, next_pgno 4, entries 2,
// hf_offset 2, level 1, type 1; then `entries` u16 item offsets (hash pages).
constexpr uint64_t kPgno = 8;
constexpr uint64_t kNextPgno = 16;
constexpr uint64_t kEntries = 20;
constexpr uint64_t kHfOffset = 22;  // overflow pages: the bytes of data on this page (OV_LEN)
constexpr uint64_t kPageType = 25;
constexpr uint64_t kPageHeader = 26;
// Page types.
constexpr uint8_t kHashUnsorted = 2;  // hash version 8 (Berkeley DB < 4.6)
constexpr uint8_t kOverflow = 7;
constexpr uint8_t kHashMeta = 8;
constexpr uint8_t kHash = 13;
// Hash item types: the first byte of an item.
constexpr uint8_t kKeyData = 1;  // H_KEYDATA: the bytes follow
constexpr uint8_t kOffPage = 3;  // H_OFFPAGE (HOFFPAGE, 12 bytes): type, 3 unused, pgno, tlen
constexpr uint64_t kOffPageSize = 12;

class Reader {
 public:
  explicit Reader(std::span<const std::byte> db) : db_(db) {
    if (db.size() < kMetaSize) {
      throw Error("metadata page: " + std::to_string(db.size()) +
                  " bytes, shorter than the 512-byte metadata");
    }
    ByteReader meta(db.first(kMetaSize), /*little_endian=*/true);
    uint32_t magic = meta.peek_at<uint32_t>(kMetaMagic);
    if (magic != kHashMagic) {
      meta.set_little_endian(false);
      magic = meta.peek_at<uint32_t>(kMetaMagic);
    }
    if (magic != kHashMagic) {
      meta.set_little_endian(true);
      throw Error("metadata page: magic " + hex(meta.peek_at<uint32_t>(kMetaMagic)) +
                  " is not a hash database's (0x061561 in either byte order)");
    }
    little_ = meta.little_endian();
    uint32_t version = meta.peek_at<uint32_t>(kMetaVersion);
    if (version < 8 || version > 10) {
      throw Error("metadata page: hash version " + std::to_string(version) +
                  " not supported (8..10)");
    }
    page_size_ = meta.peek_at<uint32_t>(kMetaPageSize);
    if (page_size_ < 512 || page_size_ > 65536 || (page_size_ & (page_size_ - 1)) != 0) {
      throw Error("metadata page: page size " + std::to_string(page_size_) +
                  " is not a power of two in 512..65536");
    }
    if (meta.peek_at<uint8_t>(kMetaType) != kHashMeta) {
      throw Error("metadata page: type " + std::to_string(meta.peek_at<uint8_t>(kMetaType)) +
                  " is not P_HASHMETA (8)");
    }
    if (meta.peek_at<uint8_t>(kMetaEncrypt) != 0) throw Error("metadata page: encrypted");
    if (meta.peek_at<uint8_t>(kMetaFlags) & 1) {
      throw Error("metadata page: page checksums not supported");
    }
    pages_ = db.size() / page_size_;
    uint32_t last = meta.peek_at<uint32_t>(kMetaLastPgno);
    last_pgno_ = std::min<uint64_t>(last, pages_ == 0 ? 0 : pages_ - 1);
    max_bucket_ = meta.peek_at<uint32_t>(kMetaMaxBucket);
    // Each bucket has a page of its own: more buckets than pages is a lie.
    if (max_bucket_ >= pages_) {
      throw Error("metadata page: max_bucket " + std::to_string(max_bucket_) + " but " +
                  std::to_string(pages_) + " pages of " + std::to_string(page_size_) + " bytes");
    }
    for (size_t i = 0; i < spares_.size(); ++i) {
      spares_[i] = meta.peek_at<uint32_t>(kMetaSpares + 4 * i);
    }
    seen_.assign(pages_, false);
  }

  BdbHash read() {
    BdbHash out;
    out.little_endian = little_;
    out.page_size = page_size_;
    for (uint64_t bucket = 0; bucket <= max_bucket_; ++bucket) {
      // bdb_ro.c hash_bucket_to_page: bucket + spares[number of bits of bucket].
      size_t bits = 0;
      for (uint64_t b = bucket; b; b >>= 1) ++bits;
      if (bits >= spares_.size()) throw Error("bucket " + std::to_string(bucket) + ": too many");
      uint64_t pgno = checked_add(bucket, spares_[bits]);
      std::string where = "bucket " + std::to_string(bucket);
      while (pgno != 0) {
        ByteReader page = take(pgno, where);
        uint8_t type = page.peek_at<uint8_t>(kPageType);
        if (type != kHash && type != kHashUnsorted) {
          throw Error("page " + std::to_string(pgno) + " (" + where + "): type " +
                      std::to_string(type) + " is not a hash page");
        }
        read_items(page, pgno, out.records);
        where = "chain of bucket " + std::to_string(bucket);
        pgno = page.peek_at<uint32_t>(kNextPgno);
      }
    }
    return out;
  }

 private:
  static std::string hex(uint32_t v) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "0x";
    for (int shift = 28; shift >= 0; shift -= 4) s += kHex[(v >> shift) & 15];
    return s;
  }

  // Page `pgno`, once: a second visit is a cycle (or two chains sharing pages).
  ByteReader take(uint64_t pgno, const std::string& where) {
    if (pgno == 0 || pgno > last_pgno_) {
      throw Error("page " + std::to_string(pgno) + " (" + where + "): past the last page (" +
                  std::to_string(last_pgno_) + ")");
    }
    if (seen_[pgno]) {
      throw Error("page " + std::to_string(pgno) + " (" + where +
                  "): reached twice (a cycle in a page chain)");
    }
    seen_[pgno] = true;
    ByteReader page(db_.subspan(pgno * page_size_, page_size_), little_);
    uint32_t self = page.peek_at<uint32_t>(kPgno);
    if (self != pgno) {
      throw Error("page " + std::to_string(pgno) + " (" + where + "): header says page " +
                  std::to_string(self));
    }
    return page;
  }

  // Items i and i+1 are a key and its data; item i's bytes run from its offset to the offset
  // of item i-1 (the page's end for item 0): offsets strictly decrease, above the index.
  void read_items(const ByteReader& page, uint64_t pgno, std::vector<BdbRecord>& out) {
    std::string where = "page " + std::to_string(pgno);
    uint16_t n = page.peek_at<uint16_t>(kEntries);
    uint64_t index_end = kPageHeader + 2 * uint64_t{n};
    if (index_end > page_size_) {
      throw Error(where + ": " + std::to_string(n) + " entries do not fit in the page");
    }
    if (n % 2 != 0) throw Error(where + ": odd number of entries (" + std::to_string(n) + ")");
    uint64_t end = page_size_;
    std::array<std::vector<std::byte>, 2> kv;
    for (uint16_t i = 0; i < n; ++i) {
      uint64_t off = page.peek_at<uint16_t>(kPageHeader + 2 * uint64_t{i});
      std::string item = where + ": item " + std::to_string(i);
      if (off < index_end || off >= end) {
        throw Error(item + ": offset " + std::to_string(off) + " outside " +
                    std::to_string(index_end) + ".." + std::to_string(end));
      }
      std::span<const std::byte> bytes = page.sub(off, end - off);
      end = off;
      kv[i % 2] = item_value(bytes, item);
      if (i % 2 == 1) out.push_back({std::move(kv[0]), std::move(kv[1])});
    }
  }

  std::vector<std::byte> item_value(std::span<const std::byte> item, const std::string& where) {
    auto type = static_cast<uint8_t>(item[0]);
    if (type == kKeyData) return {item.begin() + 1, item.end()};
    if (type != kOffPage) {
      throw Error(where + ": item type " + std::to_string(type) +
                  " not supported (only H_KEYDATA 1 and H_OFFPAGE 3)");
    }
    if (item.size() != kOffPageSize) {
      throw Error(where + ": H_OFFPAGE item of " + std::to_string(item.size()) + " bytes, not 12");
    }
    ByteReader r(item, little_);
    uint64_t pgno = r.peek_at<uint32_t>(4);
    uint64_t total = r.peek_at<uint32_t>(8);
    // Every byte comes from a distinct page of the file: a longer item is a lie.
    if (total == 0 || total > db_.size()) {
      throw Error(where + ": overflow item of " + std::to_string(total) + " bytes in a " +
                  std::to_string(db_.size()) + "-byte file");
    }
    std::vector<std::byte> out;
    out.reserve(total);
    std::string chain = "overflow chain of " + where;
    while (out.size() < total) {
      if (pgno == 0) {
        throw Error(where + ": overflow chain ends after " + std::to_string(out.size()) + " of " +
                    std::to_string(total) + " bytes");
      }
      ByteReader page = take(pgno, chain);
      if (page.peek_at<uint8_t>(kPageType) != kOverflow) {
        throw Error("page " + std::to_string(pgno) + " (" + chain + "): type " +
                    std::to_string(page.peek_at<uint8_t>(kPageType)) + " is not P_OVERFLOW (7)");
      }
      uint64_t len = page.peek_at<uint16_t>(kHfOffset);
      if (len > page_size_ - kPageHeader || len > total - out.size()) {
        throw Error("page " + std::to_string(pgno) + " (" + chain + "): " + std::to_string(len) +
                    " bytes of data, " + std::to_string(total - out.size()) + " expected at most");
      }
      if (len == 0) {
        throw Error("page " + std::to_string(pgno) + " (" + chain + "): no data");
      }
      std::span<const std::byte> data = page.sub(kPageHeader, len);
      out.insert(out.end(), data.begin(), data.end());
      pgno = page.peek_at<uint32_t>(kNextPgno);
    }
    return out;
  }

  std::span<const std::byte> db_;
  bool little_ = true;
  uint32_t page_size_ = 0;
  uint64_t pages_ = 0;
  uint64_t last_pgno_ = 0;
  uint64_t max_bucket_ = 0;
  std::array<uint32_t, 32> spares_{};
  std::vector<bool> seen_;
};

BdbHash read_hash(std::span<const std::byte> db) { return Reader(db).read(); }

}  // namespace

BdbHash read_bdb_hash(std::span<const std::byte> db) {
  try {
    return read_hash(db);
  } catch (const Error& e) {
    throw Error(std::string("BerkeleyDB hash: ") + e.what());
  }
}

std::vector<RpmPackage> read_rpmdb_bdb(std::span<const std::byte> db,
                                       std::vector<std::string>& notes) {
  BdbHash hash;
  try {
    hash = read_hash(db);
  } catch (const Error& e) {
    throw Error(std::string("rpmdb Packages (BerkeleyDB): ") + e.what());
  }
  std::vector<std::pair<uint32_t, RpmPackage>> out;
  for (const BdbRecord& r : hash.records) {
    if (r.key.size() != 4) {
      notes.push_back("rpmdb Packages (BerkeleyDB): a key of " + std::to_string(r.key.size()) +
                      " bytes (not a 4-byte header number): skipped");
      continue;
    }
    uint32_t hnum = ByteReader(r.key, hash.little_endian).peek_at<uint32_t>(0);
    if (hnum == 0) continue;  // rpm's next-instance counter, not a header
    try {
      out.emplace_back(hnum, parse_rpm_header(r.value));
    } catch (const Error& e) {
      notes.push_back("rpmdb Packages (BerkeleyDB): package " + std::to_string(hnum) + ": " +
                      e.what());
    }
  }
  // The order rpm -qa walks the sqlite rpmdb: by header number.
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<RpmPackage> pkgs;
  pkgs.reserve(out.size());
  for (auto& [n, p] : out) pkgs.push_back(std::move(p));
  return pkgs;
}

}  // namespace coroner::pkg
