// TreeBuilder: test-only, builds LayerIndexes directly in memory (no tar, no scan) and merges
// them into an fs::Tree, for the tests of fs/ and of everything that reads a Tree (rules,
// linux/ simulations). Entries are added to the current layer in order; layer() starts the
// next one. Modifiers (owner, mode, kind, first_line, elf, xattr, content) apply to the entry
// added last. The builder owns every string and LayerIndex the Tree points into, so it must
// outlive the Tree it returns. check_invariants() checks a merged Tree (see its comment).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fs/tree.h"
#include "scan/layer_index.h"

namespace coroner::testing {

class TreeBuilder {
 public:
  TreeBuilder();

  // Starts a new layer above the current one (the builder starts with layer 0 open).
  TreeBuilder& layer();

  // A regular file of `size` bytes (content is not kept; kind kEmpty or kBinary by size).
  TreeBuilder& file(std::string_view path, uint64_t size = 0, uint32_t mode = 0644,
                    uint32_t uid = 0, uint32_t gid = 0);
  TreeBuilder& dir(std::string_view path, uint32_t mode = 0755, uint32_t uid = 0, uint32_t gid = 0);
  TreeBuilder& symlink(std::string_view path, std::string_view target);
  // A tar hardlink to `target` (a normalised path, as scan/ stores it).
  TreeBuilder& hardlink(std::string_view path, std::string_view target);
  TreeBuilder& char_device(std::string_view path, uint32_t major, uint32_t minor,
                           uint32_t mode = 0666);
  TreeBuilder& fifo(std::string_view path, uint32_t mode = 0644);
  // Whiteout entries as scan/ produces them (Entry::whiteout; the marker name is gone).
  TreeBuilder& whiteout(std::string_view path);
  TreeBuilder& opaque(std::string_view dir);  // "" or "." for the root

  // Modifiers of the entry added last.
  TreeBuilder& owner(uint32_t uid, uint32_t gid);
  TreeBuilder& mode(uint32_t mode);
  TreeBuilder& size(uint64_t size);
  TreeBuilder& kind(scan::ContentKind kind);
  // Content: sets size and kind (kEmpty, kElf on "\x7fELF", kScript on "#!" with first_line,
  // kText without NUL, else kBinary) and keeps it in LayerIndex::captured.
  TreeBuilder& content(std::string_view bytes);
  TreeBuilder& first_line(std::string_view line);  // also sets kind kScript
  TreeBuilder& elf(elf::ElfInfo info);             // also sets kind kElf
  TreeBuilder& xattr(std::string_view name, std::string_view value);

  // The LayerIndexes so far (bottom first). Adding entries afterwards invalidates built trees.
  std::span<const scan::LayerIndex> layers() const { return layers_; }
  std::span<scan::LayerIndex> mutable_layers() { return layers_; }
  // Merges the layers. The builder must outlive the result.
  fs::Tree build() const;

 private:
  std::string_view keep(std::string_view s);
  scan::Entry& add(std::string_view path, scan::FileType type, uint32_t mode);
  scan::Facts& facts_of_last();

  std::deque<std::string> strings_;  // stable storage for every string_view in the entries
  std::vector<scan::LayerIndex> layers_;
};

// Invariants of a merged Tree; returns one line per violation (empty when all hold):
// no ".wh." names among present nodes; every present node's parent present and a directory;
// names unique within a directory and children sorted; lookup(path_of(id)) == id; every
// node's and version's layer valid; every present node's inode present and not a hardlink
// entry (the hardlink target is present); no present child under a non-directory.
std::vector<std::string> check_invariants(const fs::Tree& tree);

// A security.capability xattr value (struct vfs_cap_data, little-endian): `magic` (revision and
// the effective flag), then the 32-bit words (permitted, inheritable per word; revision 3 adds
// the root id).
std::string vfs_cap(uint32_t magic, std::vector<uint32_t> words);

}  // namespace coroner::testing
