#include "explore/listing.h"

#include <algorithm>

#include "base/error.h"
#include "base/text.h"
#include "fs/resolve.h"

namespace coroner::explore {
namespace {}  // namespace

fs::NodeId resolve_or_throw(const Image& image, std::string_view path, bool follow_last) {
  fs::ResolveOptions options;
  options.follow_last = follow_last;
  fs::ResolveResult r = fs::resolve(image.tree(), path, options);
  if (r.ok()) return *r.node;
  std::string msg = escape(path) + ": " + std::string(fs::error_text(r.error)) + " in the image";
  if (r.path != path) msg += " (at " + escape(r.path) + ")";
  throw Error(msg);
}

FileView FileInfo::view() const {
  return {.path = path,
          .type = type,
          .mode = mode,
          .uid = uid,
          .gid = gid,
          .size = size,
          .mtime = mtime,
          .layer = layer};
}

FileInfo file_info(const Image& image, fs::NodeId id) {
  const fs::Tree& tree = image.tree();
  const fs::Node& n = tree.node(id);
  const scan::Entry& inode = *n.inode;
  FileInfo f;
  f.node = id;
  f.path = tree.path_of(id);
  f.name = id == fs::kRootNode ? "/" : std::string(n.name);
  f.type = inode.type;
  f.hardlink = n.entry->type == scan::FileType::kHardlink;
  f.mode = inode.mode;
  f.uid = inode.uid;
  f.gid = inode.gid;
  if (auto u = image.accounts().users.name(f.uid)) f.user = std::string(*u);
  if (auto g = image.accounts().groups.name(f.gid)) f.group = std::string(*g);
  f.size = inode.type == scan::FileType::kRegular ? inode.size : 0;
  if (inode.type == scan::FileType::kSymlink) f.size = inode.link.size();
  f.mtime = inode.mtime;
  if (inode.type == scan::FileType::kCharDevice || inode.type == scan::FileType::kBlockDevice) {
    if (const scan::Facts* facts = image.facts(n.inode_layer, inode)) {
      f.dev_major = facts->dev_major;
      f.dev_minor = facts->dev_minor;
    }
  }
  if (inode.type == scan::FileType::kSymlink) f.link = std::string(inode.link);
  if (f.hardlink) f.link = "/" + std::string(n.entry->link);
  f.layer = n.layer;
  f.layer_digest = image.layer_digest(n.layer);
  return f;
}

std::vector<Listing> list(const Image& image, std::string_view path, bool recursive) {
  const fs::Tree& tree = image.tree();
  fs::NodeId id = resolve_or_throw(image, path, /*follow_last=*/true);
  std::vector<Listing> out;
  if (!tree.node(id).is_dir()) {
    // ls shows a non-directory operand itself, as lstat sees the last component.
    fs::NodeId self = resolve_or_throw(image, path, /*follow_last=*/false);
    out.push_back({tree.path_of(self), false, {file_info(image, self)}});
    return out;
  }
  tree.walk(
      [&](fs::NodeId dir) {
        if (!tree.node(dir).is_dir()) return false;
        Listing l{tree.path_of(dir), true, {}};
        for (fs::NodeId c : tree.children(dir)) l.entries.push_back(file_info(image, c));
        out.push_back(std::move(l));
        return recursive;
      },
      id);
  return out;
}

uint32_t resolve_layer(const Image& image, int64_t n) {
  auto count = static_cast<int64_t>(image.layers().size());
  int64_t i = n < 0 ? count + n : n;
  if (i < 0 || i >= count) {
    throw Error("layer " + std::to_string(n) + ": the image has " + std::to_string(count) +
                " layers (0.." + std::to_string(count - 1) + ", or -1 for the top)");
  }
  return static_cast<uint32_t>(i);
}

std::vector<FileInfo> find(const Image& image, std::string_view start, const FindQuery& query) {
  FindFilter filter = query.filter;
  const Accounts& acc = image.accounts();
  if (query.user) {
    filter.uid = lookup_id(acc.users, *query.user);
    if (!filter.uid)
      throw Error("-user " + escape(*query.user) + ": no such user in the image's /etc/passwd");
  }
  if (query.group) {
    filter.gid = lookup_id(acc.groups, *query.group);
    if (!filter.gid)
      throw Error("-group " + escape(*query.group) + ": no such group in the image's /etc/group");
  }
  if (query.layer) filter.layer = resolve_layer(image, *query.layer);

  const fs::Tree& tree = image.tree();
  fs::NodeId from = resolve_or_throw(image, start, /*follow_last=*/true);
  std::vector<FileInfo> out;
  tree.walk(
      [&](fs::NodeId id) {
        FileInfo f = file_info(image, id);
        if (!filter.matches(f.view())) return true;
        if (filter.nouser && f.user) return true;
        if (filter.nogroup && f.group) return true;
        out.push_back(std::move(f));
        return true;
      },
      from);
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

}  // namespace coroner::explore
