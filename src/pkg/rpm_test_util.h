// Test helper: builds rpm header blobs (headerExport layout: il, dl, index, data; big-endian) and
// an rpmdb.sqlite file image holding them, the way rpm 4.18 lays them out.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
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

}  // namespace coroner::pkg::testing
