#include "fs/resolve.h"

#include <utility>

namespace coroner::fs {
namespace {

// Pushes the components of `path` onto `stack` so that the first component is popped first. A
// trailing "/" pushes "." so that the component before it must be a directory and is followed.
void push_components(std::string_view path, std::vector<std::string_view>& stack) {
  if (!path.empty() && path.back() == '/') stack.push_back(".");
  size_t end = path.size();
  while (end > 0) {
    size_t slash = path.rfind('/', end - 1);
    size_t begin = slash == std::string_view::npos ? 0 : slash + 1;
    if (end > begin) stack.push_back(path.substr(begin, end - begin));
    if (slash == std::string_view::npos) break;
    end = slash;
  }
}

std::string child_path(const Tree& tree, NodeId dir, std::string_view name) {
  std::string p = tree.path_of(dir);
  if (p.size() > 1) p += '/';
  p += name;
  return p;
}

}  // namespace

ResolveResult resolve(const Tree& tree, std::string_view path, const ResolveOptions& options) {
  ResolveResult out;
  if (path.empty()) {
    out.error = ResolveError::kNoEnt;
    return out;
  }
  NodeId cur = path.front() == '/' ? kRootNode : options.cwd;
  std::vector<std::string_view> stack;
  push_components(path, stack);
  auto fail = [&](ResolveError error, std::string failed) {
    out.error = error;
    out.path = std::move(failed);
    return out;
  };
  int hops = 0;
  while (!stack.empty()) {
    std::string_view comp = stack.back();
    stack.pop_back();
    if (comp.empty()) continue;
    const Node& dir = tree.node(cur);
    if (!dir.is_dir()) return fail(ResolveError::kNotDir, tree.path_of(cur));
    if (comp == ".") continue;
    if (options.check_dir && !options.check_dir(cur)) {
      return fail(ResolveError::kAccess, tree.path_of(cur));
    }
    if (comp == "..") {
      cur = dir.parent;  // the root's parent is the root: ".." never leaves the image
      continue;
    }
    std::optional<NodeId> next = tree.child(cur, comp);
    if (!next) {
      out.missing_in = cur;
      return fail(ResolveError::kNoEnt, child_path(tree, cur, comp));
    }
    const Node& n = tree.node(*next);
    bool last = stack.empty();
    if (!n.is_symlink() || (last && !options.follow_last)) {
      cur = *next;
      continue;
    }
    if (++hops > kMaxSymlinkHops) return fail(ResolveError::kLoop, tree.path_of(*next));
    std::string_view target = n.inode->link;
    out.hops.push_back(Hop{*next, tree.path_of(*next), target});
    if (target.empty()) return fail(ResolveError::kNoEnt, tree.path_of(*next));
    if (target.front() == '/') cur = kRootNode;  // absolute: relative to the image root
    push_components(target, stack);
  }
  if (!tree.node(cur).present) return fail(ResolveError::kNoEnt, tree.path_of(cur));
  out.node = cur;
  out.path = tree.path_of(cur);
  return out;
}

std::string describe_hops(const ResolveResult& result) {
  std::string out;
  for (const Hop& h : result.hops) {
    if (out.empty()) {
      out = h.path;
    }
    out += " \u2192 ";
    out += h.target;
  }
  if (result.ok() && !result.hops.empty()) {
    out += " \u2192 ";
    out += result.path;
  }
  if (out.empty()) out = result.path;
  return out;
}

std::string_view error_text(ResolveError error) {
  switch (error) {
    case ResolveError::kOk:
      return "";
    case ResolveError::kNoEnt:
      return "no such file or directory";
    case ResolveError::kNotDir:
      return "not a directory";
    case ResolveError::kLoop:
      return "too many levels of symbolic links";
    case ResolveError::kAccess:
      return "permission denied";
  }
  return "";
}

}  // namespace coroner::fs
