#include "explore/diff.h"

#include <algorithm>
#include <unordered_map>

#include "base/digest.h"
#include "base/error.h"
#include "fs/tree.h"

namespace coroner::explore {
namespace {

class DigestScanner final : public scan::ContentScanner {
 public:
  bool begin(std::string_view, uint64_t, scan::ContentKind) override {
    sha_ = Sha256();
    return true;
  }
  void feed(std::span<const std::byte> block) override { sha_.update(block); }
  void end(std::vector<scan::ContentMatch>& out) override {
    out.push_back({.entry = 0, .line = 0, .rule = kDigestRule, .redacted = sha_.finish()});
  }

 private:
  Sha256 sha_;
};

// One side of the comparison: an image, and what is looked up in it more than once.
class Side {
 public:
  explicit Side(const Image& image) : image_(image) {}
  const Image& image() const { return image_; }
  const fs::Tree& tree() const { return image_.tree(); }

  // The sha256 of the content of a present regular file, or "" when the scan did not compute
  // it (images opened without content_digests, or a file the scanner did not see).
  std::string_view digest(fs::NodeId id) const {
    const fs::Node& n = tree().node(id);
    const scan::LayerIndex& layer = image_.layers()[n.inode_layer];
    if (layer.entries.empty() || n.inode < layer.entries.data() ||
        n.inode >= layer.entries.data() + layer.entries.size()) {
      return {};
    }
    auto index = static_cast<uint32_t>(n.inode - layer.entries.data());
    const auto& m = layer.content_matches;
    auto it = std::lower_bound(m.begin(), m.end(), index,
                               [](const scan::ContentMatch& c, uint32_t i) { return c.entry < i; });
    for (; it != m.end() && it->entry == index; ++it) {
      if (it->rule == kDigestRule) return it->redacted;
    }
    return {};
  }

  const scan::Facts* facts(fs::NodeId id) const {
    const fs::Node& n = tree().node(id);
    return image_.facts(n.inode_layer, *n.inode);
  }

  // The layer whose deletion removed `path` from the merged view, if the history has one.
  std::optional<uint32_t> deleted_by(const std::string& path) {
    if (!deleted_) {
      deleted_.emplace();
      for (fs::NodeId id = 0; id < tree().node_count(); ++id) {
        if (!tree().node(id).present) deleted_->emplace(tree().path_of(id), id);
      }
    }
    auto it = deleted_->find(path);
    if (it == deleted_->end()) return std::nullopt;
    uint32_t v = tree().node(it->second).last_version;
    if (v == fs::kNoVersion) return std::nullopt;
    const fs::Version& version = tree().versions()[v];
    if (version.change != fs::Change::kDeleted) return std::nullopt;
    return version.layer;
  }

 private:
  const Image& image_;
  std::optional<std::unordered_map<std::string, fs::NodeId>> deleted_;
};

class Differ {
 public:
  Differ(const Image& a, const Image& b, const DiffOptions& options)
      : a_(a), b_(b), options_(options) {
    // Bottom layers both images share (same digest at the same position): a path whose top
    // version and inode both come from one of them is the same tar entry on both sides.
    size_t n = std::min(a.layers().size(), b.layers().size());
    while (shared_ < n && !a.layer_digest(shared_).empty() &&
           a.layer_digest(shared_) == b.layer_digest(shared_)) {
      ++shared_;
    }
  }

  std::vector<DiffEntry> run() {
    std::optional<fs::NodeId> ra = start(a_), rb = start(b_);
    if (!ra && !rb) resolve_or_throw(a_.image(), options_.path, true);  // names the problem
    visit(ra, rb);
    std::sort(out_.begin(), out_.end(),
              [](const DiffEntry& x, const DiffEntry& y) { return x.path < y.path; });
    return std::move(out_);
  }

 private:
  std::optional<fs::NodeId> start(const Side& side) {
    try {
      return resolve_or_throw(side.image(), options_.path, /*follow_last=*/true);
    } catch (const Error&) {
      return std::nullopt;
    }
  }

  void visit(std::optional<fs::NodeId> ia, std::optional<fs::NodeId> ib) {
    const fs::Tree& ta = a_.tree();
    const fs::Tree& tb = b_.tree();
    if (ia && !ib) {
      added_or_deleted('D', *ia, a_);
      return;
    }
    if (!ia && ib) {
      added_or_deleted('A', *ib, b_);
      return;
    }
    const fs::Node& na = ta.node(*ia);
    const fs::Node& nb = tb.node(*ib);
    if (!same_entry(na, nb)) compare(*ia, *ib);
    if (na.is_dir() != nb.is_dir()) {
      // The C entry says "type"; everything below the directory side is added or deleted.
      if (na.is_dir()) {
        for (fs::NodeId c : ta.children(*ia)) added_or_deleted('D', c, a_);
      } else {
        for (fs::NodeId c : tb.children(*ib)) added_or_deleted('A', c, b_);
      }
      return;
    }
    if (!na.is_dir()) return;
    auto ca = ta.children(*ia), cb = tb.children(*ib);
    size_t i = 0, j = 0;
    while (i < ca.size() || j < cb.size()) {
      if (j == cb.size() || (i < ca.size() && ta.node(ca[i]).name < tb.node(cb[j]).name)) {
        visit(ca[i++], std::nullopt);
      } else if (i == ca.size() || tb.node(cb[j]).name < ta.node(ca[i]).name) {
        visit(std::nullopt, cb[j++]);
      } else {
        visit(ca[i++], cb[j++]);
      }
    }
  }

  bool same_entry(const fs::Node& na, const fs::Node& nb) const {
    if (na.layer >= shared_ || nb.layer != na.layer || na.inode_layer >= shared_ ||
        nb.inode_layer != na.inode_layer || na.implicit != nb.implicit) {
      return false;
    }
    if (na.implicit) return true;
    const auto& la = a_.image().layers()[na.inode_layer].entries;
    const auto& lb = b_.image().layers()[nb.inode_layer].entries;
    return na.inode - la.data() == nb.inode - lb.data();
  }

  // `id` and everything below it, as added (from b) or deleted (from a).
  void added_or_deleted(char kind, fs::NodeId id, Side& side) {
    side.tree().walk(
        [&](fs::NodeId n) {
          DiffEntry d;
          d.kind = kind;
          FileInfo f = file_info(side.image(), n);
          d.path = f.path;
          if (kind == 'A') {
            d.layer = f.layer;
            d.b = std::move(f);
          } else {
            d.layer = b_.deleted_by(d.path);
            d.a = std::move(f);
          }
          out_.push_back(std::move(d));
          return true;
        },
        id);
  }

  void compare(fs::NodeId ia, fs::NodeId ib) {
    FileInfo fa = file_info(a_.image(), ia), fb = file_info(b_.image(), ib);
    std::vector<std::string> changes;
    if (fa.type != fb.type) changes.emplace_back("type");
    if ((fa.mode & 07777) != (fb.mode & 07777)) changes.emplace_back("mode");
    if (fa.uid != fb.uid || fa.gid != fb.gid) changes.emplace_back("owner");
    if (fa.type == fb.type) {
      if (fa.type == scan::FileType::kRegular) {
        if (fa.size != fb.size) {
          changes.emplace_back("size");
        } else if (options_.content && fa.size > 0) {
          std::string_view da = a_.digest(ia), db = b_.digest(ib);
          if (da.empty() || db.empty()) {
            throw Error("diff: no content digest for " + fa.path +
                        " (images must be opened with content_digests)");
          }
          if (da != db) changes.emplace_back("content");
        }
      }
      if (fa.type == scan::FileType::kSymlink && fa.link != fb.link) changes.emplace_back("link");
      if ((fa.type == scan::FileType::kCharDevice || fa.type == scan::FileType::kBlockDevice) &&
          (fa.dev_major != fb.dev_major || fa.dev_minor != fb.dev_minor)) {
        changes.emplace_back("device");
      }
    }
    const scan::Facts* xa = a_.facts(ia);
    const scan::Facts* xb = b_.facts(ib);
    static const std::vector<std::pair<std::string, std::string>> kNone;
    if ((xa ? xa->xattrs : kNone) != (xb ? xb->xattrs : kNone)) changes.emplace_back("xattrs");
    if (options_.mtime && fa.mtime != fb.mtime) changes.emplace_back("mtime");
    if (changes.empty()) return;
    DiffEntry d;
    d.kind = 'C';
    d.path = fb.path;
    d.changes = std::move(changes);
    d.layer = fb.layer;
    d.a = std::move(fa);
    d.b = std::move(fb);
    out_.push_back(std::move(d));
  }

  Side a_, b_;
  const DiffOptions& options_;
  uint32_t shared_ = 0;
  std::vector<DiffEntry> out_;
};

}  // namespace

std::unique_ptr<scan::ContentScanner> content_digests() {
  return std::make_unique<DigestScanner>();
}

std::vector<DiffEntry> diff(const Image& a, const Image& b, const DiffOptions& options) {
  return Differ(a, b, options).run();
}

}  // namespace coroner::explore
