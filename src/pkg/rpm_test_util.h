// Test helper: builds rpm header blobs (headerExport layout: il, dl, index, data; big-endian) and
// an rpmdb.sqlite file image holding them, the way rpm 4.18 lays them out; and a BerkeleyDB hash
// file image (the Packages of CentOS/RHEL 7 and 8), laid out by hand (bdb_packages below); and
// an ndb Packages.db (SUSE), laid out by hand as rpm's rpmpkg.c writes it (ndb_packages below).
#pragma once

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace coroner::pkg::testing {

class RpmHeaderBuilder {
 public:
  RpmHeaderBuilder& str(uint32_t tag, const std::string& s) {
    add(tag, 6, 1, s + '\0', 1);
    return *this;
  }
  RpmHeaderBuilder& strs(uint32_t tag, const std::vector<std::string>& v) {
    std::string d;
    for (const std::string& s : v) d += s + '\0';
    add(tag, 8, static_cast<uint32_t>(v.size()), d, 1);
    return *this;
  }
  RpmHeaderBuilder& i32(uint32_t tag, const std::vector<uint32_t>& v) {
    std::string d;
    for (uint32_t x : v) d += be(x, 4);
    add(tag, 4, static_cast<uint32_t>(v.size()), d, 4);
    return *this;
  }
  RpmHeaderBuilder& i16(uint32_t tag, const std::vector<uint16_t>& v) {
    std::string d;
    for (uint16_t x : v) d += be(x, 2);
    add(tag, 3, static_cast<uint32_t>(v.size()), d, 2);
    return *this;
  }
  RpmHeaderBuilder& chars(uint32_t tag, const std::vector<int8_t>& v) {
    std::string d;
    for (int8_t x : v) d += static_cast<char>(x);
    add(tag, 1, static_cast<uint32_t>(v.size()), d, 1);
    return *this;
  }
  // A raw index entry (for malformed headers).
  RpmHeaderBuilder& raw(uint32_t tag, uint32_t type, uint32_t offset, uint32_t count) {
    index_ += be(tag, 4) + be(type, 4) + be(offset, 4) + be(count, 4);
    ++il_;
    return *this;
  }
  std::string build() const {
    return be(il_, 4) + be(static_cast<uint32_t>(data_.size()), 4) + index_ + data_;
  }

 private:
  static std::string be(uint64_t v, int n) {
    std::string s;
    for (int i = n - 1; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  }
  void add(uint32_t tag, uint32_t type, uint32_t count, const std::string& d, size_t align) {
    while (data_.size() % align) data_ += '\0';
    raw(tag, type, static_cast<uint32_t>(data_.size()), count);
    data_ += d;
  }
  uint32_t il_ = 0;
  std::string index_, data_;
};

// A hello package: two files in /usr/bin, one %config in /etc, the real tag numbers.
inline std::string hello_header(const std::string& tail_digest, uint32_t mtime = 1700000000) {
  return RpmHeaderBuilder()
      .str(1000, "hello")
      .str(1001, "1.2")
      .str(1002, "3.fc39")
      .i32(1003, {2})
      .str(1022, "x86_64")
      .str(1044, "hello-1.2-3.fc39.src.rpm")
      .i32(1009, {12})
      .str(1014, "MIT")
      .strs(1118, {"/etc/", "/usr/bin/"})
      .strs(1117, {"hello.conf", "hello", "hello-link"})
      .i32(1116, {0, 1, 1})
      .strs(1035, {"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", tail_digest,
                   ""})  // sha256("hello")
      .i32(5011, {8})
      .i16(1030, {0100644, 0100755, 0120777})
      .i32(1028, {5, 5, 5})
      .i32(1034, {mtime, mtime, mtime})
      .strs(1036, {"", "", "hello"})
      .i32(1037, {1 | 16, 0, 0})  // %config(noreplace)
      .chars(1029, {0, 0, 0})
      .build();
}

// An rpmdb.sqlite file image (Packages table as rpm 4.18 creates it) holding `headers`.
inline std::string rpmdb_sqlite(const std::vector<std::string>& headers) {
  sqlite3* db = nullptr;
  sqlite3_open(":memory:", &db);
  sqlite3_exec(db,
               "CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT,"
               "blob BLOB NOT NULL)",
               nullptr, nullptr, nullptr);
  for (const std::string& h : headers) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &st, nullptr);
    sqlite3_bind_blob(st, 1, h.data(), static_cast<int>(h.size()), SQLITE_TRANSIENT);
    sqlite3_step(st);
    sqlite3_finalize(st);
  }
  sqlite3_int64 size = 0;
  unsigned char* bytes = sqlite3_serialize(db, "main", &size, 0);
  std::string out(reinterpret_cast<const char*>(bytes), static_cast<size_t>(size));
  sqlite3_free(bytes);
  sqlite3_close(db);
  return out;
}

// A BerkeleyDB hash database file image (Berkeley DB's db_page.h layout) holding `records`
// (key, value), the way bdb_ro.c reads it:
//   page 0: the metadata: magic 0x061561 at 12, version 9 at 16, page size at 20, type 8
//     (P_HASHMETA) at 25, last_pgno at 32, max_bucket (buckets - 1) at 72, high/low masks,
//     spares[] at 96 (all 1: bucket b lives on page b + 1);
//   pages 1..buckets: one bucket page each (type 13, P_HASH); record i goes to bucket
//     i % buckets; a full bucket page chains to a new page (next_pgno at 16);
//   each page: a 26-byte header (pgno at 8, next_pgno at 16, entries at 20, hf_offset at 22,
//     type at 25), then the u16 offsets of its items, the items packed from the page's end down:
//     H_KEYDATA (1, bytes) or, for a value longer than page_size / 4, H_OFFPAGE (3, 3 unused,
//     pgno, length; 12 bytes) pointing at a chain of overflow pages (type 7, data length in
//     hf_offset, data from byte 26).
// Integers in the byte order `little_endian` says (the metadata magic tells a reader which).
inline std::string bdb_hash(const std::vector<std::pair<std::string, std::string>>& records,
                            uint32_t page_size = 4096, uint32_t buckets = 2,
                            bool little_endian = true) {
  std::vector<std::string> pages(1 + buckets, std::string(page_size, '\0'));
  auto put = [&](std::string& page, size_t off, uint64_t v, size_t width) {
    for (size_t i = 0; i < width; ++i) {
      size_t shift = little_endian ? 8 * i : 8 * (width - 1 - i);
      page[off + i] = static_cast<char>((v >> shift) & 0xff);
    }
  };
  auto get16 = [&](const std::string& page, size_t off) {
    auto b0 = static_cast<uint8_t>(page[off]), b1 = static_cast<uint8_t>(page[off + 1]);
    return little_endian ? uint32_t(b0 | b1 << 8) : uint32_t(b1 | b0 << 8);
  };
  auto new_page = [&](uint8_t type) {
    pages.emplace_back(page_size, '\0');
    size_t n = pages.size() - 1;
    put(pages[n], 8, n, 4);
    pages[n][25] = static_cast<char>(type);
    return n;
  };
  std::vector<size_t> tail(buckets);
  for (uint32_t b = 0; b < buckets; ++b) {
    tail[b] = b + 1;
    put(pages[b + 1], 8, b + 1, 4);
    put(pages[b + 1], 22, page_size, 2);
    pages[b + 1][25] = 13;
  }
  auto item = [&](const std::string& bytes) {
    if (bytes.size() <= page_size / 4) return '\1' + bytes;
    // Overflow chain, then the 12-byte H_OFFPAGE item.
    size_t first = 0, prev = 0;
    for (size_t at = 0; at < bytes.size(); at += page_size - 26) {
      size_t n = new_page(7);
      size_t len = std::min<size_t>(page_size - 26, bytes.size() - at);
      put(pages[n], 22, len, 2);
      pages[n].replace(26, len, bytes.substr(at, len));
      if (prev) put(pages[prev], 16, n, 4);
      if (!first) first = n;
      prev = n;
    }
    std::string off(12, '\0');
    off[0] = 3;
    put(off, 4, first, 4);
    put(off, 8, bytes.size(), 4);
    return off;
  };
  for (size_t i = 0; i < records.size(); ++i) {
    std::string k = item(records[i].first), v = item(records[i].second);
    size_t& pg = tail[i % buckets];
    uint32_t entries = get16(pages[pg], 20), hf = get16(pages[pg], 22);
    if (hf == 0) hf = 65536;  // a 64 KiB page's end does not fit 16 bits
    if (26 + 2 * (entries + 2) + k.size() + v.size() > hf) {
      size_t n = new_page(13);
      put(pages[n], 22, page_size, 2);
      put(pages[pg], 16, n, 4);
      pg = n;
      entries = 0;
      hf = page_size;
    }
    for (const std::string* it : {&k, &v}) {
      hf -= static_cast<uint32_t>(it->size());
      pages[pg].replace(hf, it->size(), *it);
      put(pages[pg], 26 + 2 * entries, hf, 2);
      ++entries;
    }
    put(pages[pg], 20, entries, 2);
    put(pages[pg], 22, hf, 2);
  }
  std::string& meta = pages[0];
  put(meta, 12, 0x061561, 4);
  put(meta, 16, 9, 4);
  put(meta, 20, page_size, 4);
  meta[25] = 8;
  put(meta, 32, pages.size() - 1, 4);
  put(meta, 72, buckets - 1, 4);
  put(meta, 76, buckets * 2 - 1, 4);
  put(meta, 80, buckets - 1, 4);
  for (size_t i = 0; i < 32; ++i) put(meta, 96 + 4 * i, 1, 4);
  std::string out;
  for (const std::string& p : pages) out += p;
  return out;
}

// rpm's Packages: header number (4 bytes, the database's byte order) -> header blob, plus
// rpm's record 0 (the next free header number), as rpm's BerkeleyDB backend writes it.
inline std::string bdb_packages(const std::vector<std::string>& headers, uint32_t page_size = 4096,
                                bool little_endian = true) {
  auto u32 = [&](uint32_t v) {
    std::string s(4, '\0');
    for (size_t i = 0; i < 4; ++i) {
      size_t shift = little_endian ? 8 * i : 8 * (3 - i);
      s[i] = static_cast<char>((v >> shift) & 0xff);
    }
    return s;
  };
  std::vector<std::pair<std::string, std::string>> records;
  records.emplace_back(u32(0), u32(static_cast<uint32_t>(headers.size()) + 1));
  for (size_t i = 0; i < headers.size(); ++i) {
    records.emplace_back(u32(static_cast<uint32_t>(i) + 1), headers[i]);
  }
  return bdb_hash(records, page_size, 2, little_endian);
}

// Adler-32 as RFC 1950 defines it (written here, apart from the zlib the reader uses).
inline uint32_t rfc1950_adler32(const std::string& bytes) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : bytes) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

// An ndb Packages.db (rpm's lib/backend/ndb/rpmpkg.c layout, little-endian) holding `headers`
// as packages 1..n:
//   bytes 0..31: "RpmP", version 0, generation, slot pages, next package index;
//   the slot pages (4096 bytes each, at least `slot_pages`, more if the slots need them): 16-byte
//     slots "Slot", package index, blob offset, blob length (both in 16-byte blocks); package i
//     takes slot 2 + 2i, so a free slot (offset 0) follows each used one;
//   the blobs after them, in package order (`reverse`: last package first, so that the order of
//     the blobs differs from the packages' and slots'): "BlbS", index, timestamp, length; the
//     header; zero padding to a block; the adler32 of all of that, the length, "BlbE".
inline std::string ndb_packages(const std::vector<std::string>& headers, uint32_t slot_pages = 1,
                                bool reverse = false) {
  auto le = [](uint32_t v) {
    std::string s(4, '\0');
    for (size_t i = 0; i < 4; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    return s;
  };
  uint32_t n = static_cast<uint32_t>(headers.size());
  uint32_t pages = std::max(slot_pages, (2 + 2 * n + 255) / 256);
  std::string db(size_t{pages} * 4096, '\0');
  for (size_t off = 32; off < db.size(); off += 16) db.replace(off, 4, "Slot");
  db.replace(0, 20, "RpmP" + le(0) + le(n + 7) + le(pages) + le(n + 1));
  std::vector<uint32_t> order;
  for (uint32_t i = 0; i < n; ++i) order.push_back(reverse ? n - 1 - i : i);
  for (uint32_t i : order) {
    const std::string& h = headers[i];
    uint32_t blkoff = static_cast<uint32_t>(db.size() / 16);
    uint32_t len = static_cast<uint32_t>(h.size());
    std::string blob = "BlbS" + le(i + 1) + le(1700000000 + i) + le(len) + h;
    while ((blob.size() + 12) % 16) blob += '\0';
    blob += le(rfc1950_adler32(blob)) + le(len) + "BlbE";
    uint32_t blkcnt = static_cast<uint32_t>(blob.size() / 16);
    db.replace(size_t{2 + 2 * i} * 16 + 4, 12, le(i + 1) + le(blkoff) + le(blkcnt));
    db += blob;
  }
  return db;
}

}  // namespace coroner::pkg::testing
