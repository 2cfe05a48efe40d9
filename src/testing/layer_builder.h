// LayerBuilder: test-only, writes a layer tar in memory with libarchive's write API (pax
// restricted, as Docker and BuildKit write layers), after go-containerregistry's mkLayer. Entries
// are kept in order and the tar is written by tar(); modifiers (xattr, uname, mtime...) apply to
// the entry added last. raw() and raw_bytes() are escape hatches for hostile archives: they write
// hand-made ustar headers or arbitrary bytes that libarchive would never produce.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace coroner::testing {

class LayerBuilder {
 public:
  static constexpr int64_t kDefaultMtime = 1700000000;  // 2023-11-14, fixed for stable output

  LayerBuilder& file(std::string path, std::string content = {}, uint32_t mode = 0644,
                     uint32_t uid = 0, uint32_t gid = 0);
  LayerBuilder& dir(std::string path, uint32_t mode = 0755, uint32_t uid = 0, uint32_t gid = 0);
  LayerBuilder& symlink(std::string path, std::string target);
  // A tar hardlink (typeflag '1') to `target`, a path written earlier in the same layer.
  LayerBuilder& hardlink(std::string path, std::string target);
  LayerBuilder& char_device(std::string path, uint32_t major, uint32_t minor, uint32_t mode = 0666);
  LayerBuilder& block_device(std::string path, uint32_t major, uint32_t minor,
                             uint32_t mode = 0660);
  LayerBuilder& fifo(std::string path, uint32_t mode = 0644);
  // "dir/name" -> an empty file "dir/.wh.name" (OCI whiteout of dir/name).
  LayerBuilder& whiteout(std::string_view path);
  // "dir" -> "dir/.wh..wh..opq"; "" or "." -> ".wh..wh..opq" at the root.
  LayerBuilder& opaque(std::string_view dir);

  // Modifiers of the entry added last (not of raw entries).
  LayerBuilder& xattr(std::string name, std::string value);  // e.g. "security.capability"
  LayerBuilder& uname(std::string name);
  LayerBuilder& gname(std::string name);
  LayerBuilder& mtime(int64_t seconds);
  LayerBuilder& owner(uint32_t uid, uint32_t gid);
  LayerBuilder& mode(uint32_t mode);

  // A hand-made ustar entry with `name` and `linkname` written byte for byte, never normalised
  // ("../x", "/abs", ".wh.", invalid UTF-8...). Names longer than 100 bytes get a pax 'x'
  // header with a path/linkpath record. `typeflag` is the tar type ('0', '1', '2', '3', '4',
  // '5', '6', 'x'...).
  LayerBuilder& raw(std::string name, char typeflag = '0', std::string content = {},
                    std::string linkname = {}, uint32_t mode = 0644);
  // Bytes appended verbatim at this point of the tar (should be a multiple of 512 to keep the
  // archive well-formed, or not, to break it).
  LayerBuilder& raw_bytes(std::string bytes);

  // The tar stream, ending with the two zero blocks of the end-of-archive marker.
  std::string tar() const;

 private:
  struct Item {
    enum class Kind : uint8_t { kFile, kDir, kSymlink, kHardlink, kChar, kBlock, kFifo, kRaw };
    Kind kind = Kind::kFile;
    std::string path, content, link;
    uint32_t mode = 0644, uid = 0, gid = 0, major = 0, minor = 0;
    int64_t mtime = kDefaultMtime;
    std::string uname, gname;
    std::vector<std::pair<std::string, std::string>> xattrs;
    char typeflag = '0';    // raw entries
    bool verbatim = false;  // raw_bytes: `content` is appended as is
  };
  Item& add(Item::Kind kind, std::string path, uint32_t mode);
  Item& last();

  std::vector<Item> items_;
};

// Compressed forms of `bytes`, for layer blobs. Concatenate results for multi-member gzip or
// multi-frame zstd streams.
std::string gzip(std::string_view bytes, int level = 1);  // ISA-L, levels 0-3
std::string zstd(std::string_view bytes, int level = 3);  // libzstd

// A ustar header block (512 bytes) with `name` and `linkname` copied byte for byte (truncated at
// 100), as raw() writes it; for tests that need to corrupt one field.
std::string ustar_header(std::string_view name, char typeflag, uint64_t size,
                         std::string_view linkname = {}, uint32_t mode = 0644);

// A whole tar (entry + end blocks) with one old GNU sparse ('S') entry `name` of `realsize`
// bytes whose map (offset, length) goes into the header's four slots (more are dropped), data
// 'd' for every mapped byte. The map is written as given: tests and fuzz seeds make hostile ones.
std::string old_gnu_sparse_tar(std::string_view name, uint64_t realsize,
                               const std::vector<std::pair<uint64_t, uint64_t>>& map);

}  // namespace coroner::testing
