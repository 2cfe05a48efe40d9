#include "testing/layer_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace coroner::testing {
namespace {

struct ArchiveFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct EntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

// Test helper: a failure here is a bug in the test, not malformed input.
void check(archive* a, int r, const char* what) {
  if (r >= ARCHIVE_WARN) return;
  const char* msg = archive_error_string(a);
  throw std::runtime_error(std::string("LayerBuilder: ") + what + ": " + (msg ? msg : "?"));
}

la_ssize_t append_to_string(archive*, void* client, const void* buf, size_t n) {
  static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

// Writes `value` as zero-padded octal into a field of `width` bytes, the last one NUL.
void put_octal(char* field, size_t width, uint64_t value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
}

std::string pad512(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

// One pax record "LEN key=value\n", where LEN counts the whole record including itself.
std::string pax_record(std::string_view key, std::string_view value) {
  size_t body = 1 + key.size() + 1 + value.size() + 1;  // " key=value\n"
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  return std::to_string(len) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

}  // namespace

std::string ustar_header(std::string_view name, char typeflag, uint64_t size,
                         std::string_view linkname, uint32_t mode) {
  std::string h(512, '\0');
  // memcpy from an empty view's nullptr is undefined even for 0 bytes: copy() has no such rule.
  name.substr(0, 100).copy(h.data(), 100);
  put_octal(&h[100], 8, mode);
  put_octal(&h[108], 8, 0);  // uid
  put_octal(&h[116], 8, 0);  // gid
  put_octal(&h[124], 12, size);
  put_octal(&h[136], 12, static_cast<uint64_t>(LayerBuilder::kDefaultMtime));
  h[156] = typeflag;
  linkname.substr(0, 100).copy(&h[157], 100);
  std::memcpy(&h[257],
              "ustar\0"
              "00",
              8);
  // The checksum is computed with the checksum field itself as eight spaces.
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  put_octal(&h[148], 7, sum);
  h[155] = ' ';
  return h;
}

std::string old_gnu_sparse_tar(std::string_view name, uint64_t realsize,
                               const std::vector<std::pair<uint64_t, uint64_t>>& map) {
  uint64_t stored = 0;
  for (auto [off, len] : map) stored += len;
  std::string h = ustar_header(name, 'S', stored);
  std::memcpy(&h[257], "ustar  ", 8);  // the old GNU magic
  for (size_t i = 0; i < map.size() && i < 4; ++i) {
    put_octal(&h[386 + i * 24], 12, map[i].first);
    put_octal(&h[386 + i * 24 + 12], 12, map[i].second);
  }
  put_octal(&h[483], 12, realsize);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  put_octal(&h[148], 7, sum);
  h[155] = ' ';
  std::string data(stored, 'd');
  data.resize((stored + 511) / 512 * 512, '\0');
  return h + data + std::string(1024, '\0');
}

LayerBuilder::Item& LayerBuilder::add(Item::Kind kind, std::string path, uint32_t mode) {
  Item& it = items_.emplace_back();
  it.kind = kind;
  it.path = std::move(path);
  it.mode = mode;
  return it;
}

LayerBuilder::Item& LayerBuilder::last() {
  if (items_.empty() || items_.back().kind == Item::Kind::kRaw) {
    throw std::logic_error("LayerBuilder: modifier without a preceding (non-raw) entry");
  }
  return items_.back();
}

LayerBuilder& LayerBuilder::file(std::string path, std::string content, uint32_t mode, uint32_t uid,
                                 uint32_t gid) {
  Item& it = add(Item::Kind::kFile, std::move(path), mode);
  it.content = std::move(content);
  it.uid = uid;
  it.gid = gid;
  return *this;
}

LayerBuilder& LayerBuilder::dir(std::string path, uint32_t mode, uint32_t uid, uint32_t gid) {
  Item& it = add(Item::Kind::kDir, std::move(path), mode);
  it.uid = uid;
  it.gid = gid;
  return *this;
}

LayerBuilder& LayerBuilder::symlink(std::string path, std::string target) {
  add(Item::Kind::kSymlink, std::move(path), 0777).link = std::move(target);
  return *this;
}

LayerBuilder& LayerBuilder::hardlink(std::string path, std::string target) {
  add(Item::Kind::kHardlink, std::move(path), 0644).link = std::move(target);
  return *this;
}

LayerBuilder& LayerBuilder::char_device(std::string path, uint32_t major, uint32_t minor,
                                        uint32_t mode) {
  Item& it = add(Item::Kind::kChar, std::move(path), mode);
  it.major = major;
  it.minor = minor;
  return *this;
}

LayerBuilder& LayerBuilder::block_device(std::string path, uint32_t major, uint32_t minor,
                                         uint32_t mode) {
  Item& it = add(Item::Kind::kBlock, std::move(path), mode);
  it.major = major;
  it.minor = minor;
  return *this;
}

LayerBuilder& LayerBuilder::fifo(std::string path, uint32_t mode) {
  add(Item::Kind::kFifo, std::move(path), mode);
  return *this;
}

LayerBuilder& LayerBuilder::whiteout(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string marker =
      slash == std::string_view::npos
          ? ".wh." + std::string(path)
          : std::string(path.substr(0, slash + 1)) + ".wh." + std::string(path.substr(slash + 1));
  return file(std::move(marker));
}

LayerBuilder& LayerBuilder::opaque(std::string_view dir) {
  if (dir.empty() || dir == "." || dir == "./") return file(".wh..wh..opq");
  std::string d(dir);
  if (d.back() != '/') d += '/';
  return file(d + ".wh..wh..opq");
}

LayerBuilder& LayerBuilder::xattr(std::string name, std::string value) {
  last().xattrs.emplace_back(std::move(name), std::move(value));
  return *this;
}
LayerBuilder& LayerBuilder::uname(std::string name) {
  last().uname = std::move(name);
  return *this;
}
LayerBuilder& LayerBuilder::gname(std::string name) {
  last().gname = std::move(name);
  return *this;
}
LayerBuilder& LayerBuilder::mtime(int64_t seconds) {
  last().mtime = seconds;
  return *this;
}
LayerBuilder& LayerBuilder::owner(uint32_t uid, uint32_t gid) {
  last().uid = uid;
  last().gid = gid;
  return *this;
}
LayerBuilder& LayerBuilder::mode(uint32_t mode) {
  last().mode = mode;
  return *this;
}

LayerBuilder& LayerBuilder::raw(std::string name, char typeflag, std::string content,
                                std::string linkname, uint32_t mode) {
  Item& it = add(Item::Kind::kRaw, std::move(name), mode);
  it.typeflag = typeflag;
  it.content = std::move(content);
  it.link = std::move(linkname);
  return *this;
}

LayerBuilder& LayerBuilder::raw_bytes(std::string bytes) {
  Item& it = add(Item::Kind::kRaw, {}, 0);
  it.verbatim = true;
  it.content = std::move(bytes);
  return *this;
}

namespace {

std::string raw_entry_bytes(const std::string& name, char typeflag, const std::string& content,
                            const std::string& link, uint32_t mode) {
  std::string out;
  if (name.size() > 100 || link.size() > 100) {
    std::string pax;
    if (name.size() > 100) pax += pax_record("path", name);
    if (link.size() > 100) pax += pax_record("linkpath", link);
    out += ustar_header("PaxHeaders/raw", 'x', pax.size());
    out += pad512(std::move(pax));
  }
  out += ustar_header(name, typeflag, content.size(), link, mode);
  out += pad512(content);
  return out;
}

}  // namespace

std::string LayerBuilder::tar() const {
  auto filetype = [](Item::Kind kind) -> unsigned {
    switch (kind) {
      case Item::Kind::kDir:
        return AE_IFDIR;
      case Item::Kind::kSymlink:
        return AE_IFLNK;
      case Item::Kind::kChar:
        return AE_IFCHR;
      case Item::Kind::kBlock:
        return AE_IFBLK;
      case Item::Kind::kFifo:
        return AE_IFIFO;
      default:
        return AE_IFREG;  // files, and hardlinks (libarchive writes typeflag '1')
    }
  };
  std::string out;
  std::unique_ptr<archive, ArchiveFree> a(archive_write_new());
  check(a.get(), archive_write_set_format_pax_restricted(a.get()), "set format");
  // xattrs as SCHILY.xattr.NAME records only, as Go's archive/tar (Docker, BuildKit) writes them;
  // libarchive would otherwise add LIBARCHIVE.xattr duplicates.
  check(a.get(), archive_write_set_format_option(a.get(), "pax", "xattrheader", "SCHILY"),
        "xattrheader");
  // No blocking: every write reaches `out` at once, so raw entries land exactly between the
  // entries libarchive writes (entries stay 512-aligned; the end marker is two zero blocks).
  check(a.get(), archive_write_set_bytes_per_block(a.get(), 0), "bytes per block");
  check(a.get(), archive_write_set_bytes_in_last_block(a.get(), 1), "bytes in last block");
  check(a.get(), archive_write_open(a.get(), &out, nullptr, append_to_string, nullptr), "open");

  for (const Item& it : items_) {
    if (it.kind == Item::Kind::kRaw) {
      check(a.get(), archive_write_finish_entry(a.get()), "finish entry");
      out += it.verbatim ? it.content
                         : raw_entry_bytes(it.path, it.typeflag, it.content, it.link, it.mode);
      continue;
    }
    std::unique_ptr<archive_entry, EntryFree> e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), it.path.c_str());
    archive_entry_set_filetype(e.get(), filetype(it.kind));
    archive_entry_set_perm(e.get(), it.mode & 07777);
    archive_entry_set_uid(e.get(), it.uid);
    archive_entry_set_gid(e.get(), it.gid);
    archive_entry_set_mtime(e.get(), it.mtime, 0);
    if (!it.uname.empty()) archive_entry_copy_uname(e.get(), it.uname.c_str());
    if (!it.gname.empty()) archive_entry_copy_gname(e.get(), it.gname.c_str());
    if (it.kind == Item::Kind::kSymlink) archive_entry_copy_symlink(e.get(), it.link.c_str());
    if (it.kind == Item::Kind::kHardlink) archive_entry_copy_hardlink(e.get(), it.link.c_str());
    if (it.kind == Item::Kind::kChar || it.kind == Item::Kind::kBlock) {
      archive_entry_set_rdevmajor(e.get(), it.major);
      archive_entry_set_rdevminor(e.get(), it.minor);
    }
    for (const auto& [name, value] : it.xattrs) {
      archive_entry_xattr_add_entry(e.get(), name.c_str(), value.data(), value.size());
    }
    archive_entry_set_size(
        e.get(), it.kind == Item::Kind::kFile ? static_cast<la_int64_t>(it.content.size()) : 0);
    check(a.get(), archive_write_header(a.get(), e.get()), "write header");
    if (!it.content.empty()) {
      la_ssize_t n = archive_write_data(a.get(), it.content.data(), it.content.size());
      if (n != static_cast<la_ssize_t>(it.content.size())) check(a.get(), ARCHIVE_FATAL, "data");
    }
  }
  check(a.get(), archive_write_close(a.get()), "close");
  return out;
}

std::string gzip(std::string_view bytes, int level) {
  static constexpr uint32_t kLevelBuf[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                           ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
  if (level < 0 || level > 3) throw std::invalid_argument("gzip: ISA-L levels are 0-3");
  std::vector<uint8_t> level_buf(kLevelBuf[level]);
  isal_zstream s;
  isal_deflate_init(&s);
  s.gzip_flag = IGZIP_GZIP;
  s.level = static_cast<uint32_t>(level);
  s.level_buf = level_buf.data();
  s.level_buf_size = static_cast<uint32_t>(level_buf.size());
  s.end_of_stream = 1;
  s.flush = NO_FLUSH;
  s.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(bytes.data()));
  s.avail_in = static_cast<uint32_t>(bytes.size());
  std::string out;
  do {
    size_t old = out.size();
    out.resize(old + 256 * 1024 + bytes.size() / 2);
    s.next_out = reinterpret_cast<uint8_t*>(out.data() + old);
    s.avail_out = static_cast<uint32_t>(out.size() - old);
    if (isal_deflate(&s) != COMP_OK) throw std::runtime_error("gzip: isal_deflate failed");
    out.resize(out.size() - s.avail_out);
  } while (s.internal_state.state != ZSTATE_END);
  return out;
}

std::string zstd(std::string_view bytes, int level) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), level);
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace coroner::testing
