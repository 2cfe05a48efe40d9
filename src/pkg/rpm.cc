#include "pkg/rpm.h"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>

#include "base/bytes.h"
#include "base/error.h"
#include "base/text.h"

namespace coroner::pkg {
namespace {

// Header tags (rpmtag.h).
enum Tag : uint32_t {
  kName = 1000,
  kVersion = 1001,
  kRelease = 1002,
  kEpoch = 1003,
  kSize = 1009,
  kLicense = 1014,
  kArch = 1022,
  kOldFileNames = 1027,
  kFileSizes = 1028,
  kFileStates = 1029,
  kFileModes = 1030,
  kFileRdevs = 1033,
  kFileMtimes = 1034,
  kFileDigests = 1035,
  kFileLinkTos = 1036,
  kFileFlags = 1037,
  kFileUserName = 1039,
  kFileGroupName = 1040,
  kSourceRpm = 1044,
  kDirIndexes = 1116,
  kBaseNames = 1117,
  kDirNames = 1118,
  kLongFileSizes = 5008,
  kLongSize = 5009,
  kFileCaps = 5010,
  kFileDigestAlgo = 5011,
};

// Entry types (rpmtag.h rpmTagType).
enum Type : uint32_t {
  kChar = 1,
  kInt8 = 2,
  kInt16 = 3,
  kInt32 = 4,
  kInt64 = 5,
  kString = 6,
  kBin = 7,
  kStringArray = 8,
  kI18nString = 9,
};

// Bounds on what a header may claim (rpm's own: hdrchkTags 0x10000, hdrchkData 256 MiB).
constexpr uint32_t kMaxIndex = 0x10000;
constexpr uint32_t kMaxData = 256u << 20;

struct IndexEntry {
  uint32_t type = 0;
  uint32_t offset = 0;
  uint32_t count = 0;
};

class Header {
 public:
  explicit Header(std::span<const std::byte> blob) {
    ByteReader r(blob, /*little_endian=*/false);
    static constexpr uint8_t kMagic[] = {0x8e, 0xad, 0xe8, 0x01};
    if (blob.size() >= 8 && std::memcmp(blob.data(), kMagic, 4) == 0) r.skip(8);
    uint32_t il = r.read<uint32_t>();
    uint32_t dl = r.read<uint32_t>();
    if (il == 0 || il > kMaxIndex)
      throw Error("index count " + std::to_string(il) + " out of range");
    if (dl > kMaxData) throw Error("data length " + std::to_string(dl) + " out of range");
    uint64_t index_at = r.offset();
    uint64_t data_at = checked_add(index_at, checked_mul(il, 16));
    data_ = r.sub(data_at, dl);  // throws if the blob is shorter
    for (uint32_t i = 0; i < il; ++i) {
      uint32_t tag = r.read<uint32_t>();
      IndexEntry e{r.read<uint32_t>(), r.read<uint32_t>(), r.read<uint32_t>()};
      if (e.type == 0 || e.type > kI18nString) {
        throw Error("tag " + std::to_string(tag) + ": unknown type " + std::to_string(e.type));
      }
      // Region tags (HEADERIMAGE, HEADERSIGNATURES, HEADERIMMUTABLE) point at a trailer that
      // may sit outside this blob's data in exported form; they carry nothing we read.
      if (tag >= 61 && tag <= 63) continue;
      if (e.offset > dl) {
        throw Error("tag " + std::to_string(tag) + ": offset " + std::to_string(e.offset) +
                    " past the data (" + std::to_string(dl) + " bytes)");
      }
      // Every element takes at least one byte: a count beyond the data is a lie.
      if (e.count == 0 || e.count > dl) {
        throw Error("tag " + std::to_string(tag) + ": count " + std::to_string(e.count) +
                    " out of range");
      }
      entries_.emplace(tag, e);
    }
  }

  bool has(uint32_t tag) const { return entries_.count(tag) != 0; }

  std::optional<std::string> string(uint32_t tag) const {
    const IndexEntry* e = find(tag, {kString, kI18nString, kStringArray});
    if (!e) return std::nullopt;
    return std::string(reader().cstr_at(e->offset));
  }

  std::vector<std::string> strings(uint32_t tag) const {
    std::vector<std::string> out;
    const IndexEntry* e = find(tag, {kStringArray, kI18nString, kString});
    if (!e) return out;
    ByteReader r = reader();
    uint64_t off = e->offset;
    uint32_t n = e->type == kString ? 1 : e->count;
    out.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      std::string_view s = r.cstr_at(off);
      out.emplace_back(s);
      off += s.size() + 1;
    }
    return out;
  }

  // Integers of any width as uint64 (CHAR/INT8 sign-extended as rpm does for FILESTATES).
  std::vector<uint64_t> ints(uint32_t tag) const {
    std::vector<uint64_t> out;
    const IndexEntry* e = find(tag, {kChar, kInt8, kInt16, kInt32, kInt64});
    if (!e) return out;
    ByteReader r = reader();
    uint64_t width = e->type == kInt16 ? 2 : e->type == kInt32 ? 4 : e->type == kInt64 ? 8 : 1;
    r.sub(e->offset, checked_mul(width, e->count));  // the whole array must fit
    r.seek(e->offset);
    out.reserve(e->count);
    for (uint32_t i = 0; i < e->count; ++i) {
      switch (width) {
        case 1:
          out.push_back(static_cast<uint64_t>(static_cast<int64_t>(r.read<int8_t>())));
          break;
        case 2:
          out.push_back(r.read<uint16_t>());
          break;
        case 4:
          out.push_back(r.read<uint32_t>());
          break;
        default:
          out.push_back(r.read<uint64_t>());
      }
    }
    return out;
  }

  std::optional<uint64_t> int_value(uint32_t tag) const {
    std::vector<uint64_t> v = ints(tag);
    if (v.empty()) return std::nullopt;
    return v.front();
  }

 private:
  ByteReader reader() const { return ByteReader(data_, false); }

  const IndexEntry* find(uint32_t tag, std::initializer_list<uint32_t> types) const {
    auto it = entries_.find(tag);
    if (it == entries_.end()) return nullptr;
    for (uint32_t t : types) {
      if (it->second.type == t) return &it->second;
    }
    throw Error("tag " + std::to_string(tag) + ": unexpected type " +
                std::to_string(it->second.type));
  }

  std::span<const std::byte> data_;
  std::map<uint32_t, IndexEntry> entries_;
};

bool is_hex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A per-file array must have one element per file, or be absent.
template <typename V>
void check_count(const V& v, size_t n, std::string_view what) {
  if (!v.empty() && v.size() != n) {
    throw Error(std::string(what) + ": " + std::to_string(v.size()) + " entries for " +
                std::to_string(n) + " files");
  }
}

RpmPackage parse(std::span<const std::byte> blob) {
  Header h(blob);
  RpmPackage p;
  p.name = h.string(kName).value_or("");
  if (p.name.empty()) throw Error("no NAME");
  p.version = h.string(kVersion).value_or("");
  p.release = h.string(kRelease).value_or("");
  if (auto e = h.int_value(kEpoch)) p.epoch = static_cast<uint32_t>(*e);
  p.arch = h.string(kArch).value_or("");
  p.sourcerpm = h.string(kSourceRpm).value_or("");
  p.license = h.string(kLicense).value_or("");
  p.size = h.int_value(kLongSize);
  if (!p.size) p.size = h.int_value(kSize);
  if (auto a = h.int_value(kFileDigestAlgo)) p.digest_algo = static_cast<uint32_t>(*a);

  std::vector<std::string> paths;
  std::vector<std::string> base = h.strings(kBaseNames);
  if (!base.empty()) {
    std::vector<std::string> dirs = h.strings(kDirNames);
    std::vector<uint64_t> idx = h.ints(kDirIndexes);
    check_count(idx, base.size(), "DIRINDEXES");
    if (idx.empty()) throw Error("BASENAMES without DIRINDEXES");
    for (size_t i = 0; i < base.size(); ++i) {
      if (idx[i] >= dirs.size()) {
        throw Error("DIRINDEXES[" + std::to_string(i) + "] = " + std::to_string(idx[i]) +
                    " past DIRNAMES (" + std::to_string(dirs.size()) + ")");
      }
      paths.push_back(dirs[idx[i]] + base[i]);
    }
  } else {
    paths = h.strings(kOldFileNames);  // rpm < 4.1
  }
  size_t n = paths.size();
  std::vector<std::string> digests = h.strings(kFileDigests);
  std::vector<std::string> links = h.strings(kFileLinkTos);
  std::vector<std::string> users = h.strings(kFileUserName), groups = h.strings(kFileGroupName);
  std::vector<std::string> caps = h.strings(kFileCaps);
  std::vector<uint64_t> rdevs = h.ints(kFileRdevs);
  std::vector<uint64_t> modes = h.ints(kFileModes), flags = h.ints(kFileFlags),
                        mtimes = h.ints(kFileMtimes), states = h.ints(kFileStates);
  std::vector<uint64_t> sizes = h.ints(kLongFileSizes);
  if (sizes.empty()) sizes = h.ints(kFileSizes);
  check_count(digests, n, "FILEDIGESTS");
  check_count(links, n, "FILELINKTOS");
  check_count(modes, n, "FILEMODES");
  check_count(flags, n, "FILEFLAGS");
  check_count(mtimes, n, "FILEMTIMES");
  check_count(states, n, "FILESTATES");
  check_count(sizes, n, "FILESIZES");
  check_count(users, n, "FILEUSERNAME");
  check_count(groups, n, "FILEGROUPNAME");
  check_count(caps, n, "FILECAPS");
  check_count(rdevs, n, "FILERDEVS");
  p.files.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    RpmFile f;
    f.path = std::move(paths[i]);
    if (!digests.empty()) {
      if (!is_hex(digests[i])) throw Error("FILEDIGESTS[" + std::to_string(i) + "]: not hex");
      f.digest = ascii_lower(digests[i]);
    }
    if (!links.empty()) f.linkto = links[i];
    if (!modes.empty()) f.mode = static_cast<uint32_t>(modes[i] & 0xffff);
    if (!flags.empty()) f.flags = static_cast<uint32_t>(flags[i]);
    if (!mtimes.empty()) f.mtime = static_cast<uint32_t>(mtimes[i]);
    if (!sizes.empty()) f.size = sizes[i];
    if (!users.empty()) f.user = users[i];
    if (!groups.empty()) f.group = groups[i];
    if (!caps.empty()) f.caps = caps[i];
    if (!rdevs.empty()) f.rdev = static_cast<uint16_t>(rdevs[i] & 0xffff);
    if (!states.empty()) f.state = static_cast<RpmFileState>(static_cast<int8_t>(states[i]));
    p.files.push_back(std::move(f));
  }
  return p;
}

struct SqliteClose {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

}  // namespace

std::string RpmPackage::evr() const {
  std::string s = epoch ? std::to_string(*epoch) + ":" : "";
  return s + version + (release.empty() ? "" : "-" + release);
}

std::pair<std::string, std::string> RpmPackage::source() const {
  std::string_view s = sourcerpm;
  for (std::string_view suffix : {".src.rpm", ".nosrc.rpm"}) {
    if (ends_with(s, suffix)) s.remove_suffix(suffix.size());
  }
  size_t rel = s.rfind('-');
  if (s.empty() || rel == std::string_view::npos || rel == 0) return {name, evr()};
  size_t ver = s.rfind('-', rel - 1);
  if (ver == std::string_view::npos || ver == 0) return {name, evr()};
  return {std::string(s.substr(0, ver)), std::string(s.substr(ver + 1))};
}

RpmPackage parse_rpm_header(std::span<const std::byte> blob) {
  try {
    return parse(blob);
  } catch (const Error& e) {
    throw Error(std::string("rpm header: ") + e.what());
  }
}

std::vector<RpmPackage> read_rpmdb_sqlite(std::span<const std::byte> bytes,
                                          std::vector<std::string>& notes) {
  static constexpr std::string_view kMagic{"SQLite format 3\0", 16};
  if (bytes.size() < 100 || as_chars(bytes.first(16)) != kMagic) {
    throw Error("rpmdb.sqlite: not an SQLite 3 database");
  }
  // sqlite3_deserialize copies nothing: the buffer must outlive the connection (declared first,
  // freed last) and, read-only, it is never written. A WAL-mode file (header bytes 18-19 = 2)
  // cannot be read from memory: mark the copy as a rollback-journal database.
  auto buf = std::make_unique<unsigned char[]>(bytes.size());
  std::memcpy(buf.get(), bytes.data(), bytes.size());
  if (buf[18] == 2) buf[18] = 1;
  if (buf[19] == 2) buf[19] = 1;
  sqlite3* raw = nullptr;
  if (sqlite3_open_v2(":memory:", &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, nullptr) !=
      SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    throw Error("rpmdb.sqlite: cannot open an in-memory database: " + msg);
  }
  std::unique_ptr<sqlite3, SqliteClose> db(raw);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  auto size = static_cast<sqlite3_int64>(bytes.size());
  int rc =
      sqlite3_deserialize(db.get(), "main", buf.get(), size, size, SQLITE_DESERIALIZE_READONLY);
  if (rc != SQLITE_OK) {
    throw Error(std::string("rpmdb.sqlite: cannot load: ") + sqlite3_errstr(rc));
  }
  sqlite3_stmt* raw_stmt = nullptr;
  rc = sqlite3_prepare_v2(db.get(), "SELECT hnum, blob FROM Packages ORDER BY hnum", -1, &raw_stmt,
                          nullptr);
  if (rc != SQLITE_OK) {
    throw Error(std::string("rpmdb.sqlite: no Packages table: ") + sqlite3_errmsg(db.get()));
  }
  std::unique_ptr<sqlite3_stmt, StmtFinalize> stmt(raw_stmt);
  std::vector<RpmPackage> out;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    int64_t hnum = sqlite3_column_int64(stmt.get(), 0);
    const void* blob = sqlite3_column_blob(stmt.get(), 1);
    int len = sqlite3_column_bytes(stmt.get(), 1);
    if (!blob || len <= 0) {
      notes.push_back("rpmdb.sqlite: package " + std::to_string(hnum) + ": empty header");
      continue;
    }
    try {
      out.push_back(parse_rpm_header(
          std::span(static_cast<const std::byte*>(blob), static_cast<size_t>(len))));
    } catch (const Error& e) {
      notes.push_back("rpmdb.sqlite: package " + std::to_string(hnum) + ": " + e.what());
    }
  }
  if (rc != SQLITE_DONE) {
    throw Error(std::string("rpmdb.sqlite: reading Packages: ") + sqlite3_errmsg(db.get()));
  }
  return out;
}

}  // namespace coroner::pkg
