#include "image/ref.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "base/error.h"
#include "base/text.h"
#include "image/libarchive_util.h"

namespace coroner::image {
namespace detail {

ArchiveReader new_tar_reader() {
  ArchiveReader a(archive_read_new());
  if (!a) throw Error("libarchive: out of memory");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  return a;
}

std::string archive_error(archive* a) {
  const char* s = archive_error_string(a);
  // libarchive sets no text for some failures, e.g. data ending inside a pax header.
  return s != nullptr ? std::string(s) : std::string("truncated or corrupt archive");
}

std::string normalize_member_name(std::string_view name) {
  for (;;) {
    if (starts_with(name, "./")) {
      name.remove_prefix(2);
    } else if (starts_with(name, "/")) {
      name.remove_prefix(1);
    } else {
      break;
    }
  }
  while (!name.empty() && name.back() == '/') name.remove_suffix(1);
  return std::string(name);
}

bool is_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace detail

namespace {

// True for a member that can only be in a flat root filesystem tar: a path below a top-level
// folder other than the ones docker save and OCI layouts write (blobs/, <64 hex>/).
bool is_rootfs_member(std::string_view name) {
  auto slash = name.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view top = name.substr(0, slash);
  return top != "blobs" && !detail::is_hex64(top);
}

class FilesystemProber : public PathProber {
 public:
  PathKind probe(const std::string& path) const override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return PathKind::kMissing;
      throw Error(path + ": " + std::strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
      struct stat layout;
      bool has_layout = ::stat((path + "/oci-layout").c_str(), &layout) == 0;
      return has_layout ? PathKind::kOciDirectory : PathKind::kDirectory;
    }
    if (st.st_size == 0 && S_ISREG(st.st_mode)) return PathKind::kOtherFile;
    return sniff_tar_file(path);
  }
};

constexpr std::string_view kTransportNames[] = {"docker-daemon", "container",   "docker-archive",
                                                "oci",           "oci-archive", "docker",
                                                "tar",           "-",           "rootfs"};

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// OCI image-spec annotations.md, org.opencontainers.image.ref.name:
// ref = component ("/" component)*; component = alphanum+ (separator alphanum+)*;
// separator = [-._:@+] | "--".
bool is_oci_ref_name(std::string_view s) {
  if (s.empty()) return false;
  for (std::string_view comp : split(s, '/')) {
    if (comp.empty() || !is_alnum(comp.front()) || !is_alnum(comp.back())) return false;
    for (size_t i = 0; i < comp.size(); ++i) {
      char c = comp[i];
      if (is_alnum(c)) continue;
      if (std::string_view("-._:@+").find(c) == std::string_view::npos) return false;
      bool double_dash = c == '-' && i + 1 < comp.size() && comp[i + 1] == '-';
      if (double_dash) ++i;
      if (!is_alnum(comp[i + 1])) return false;
    }
  }
  return true;
}

// A path component of a Docker reference (distribution/reference):
// [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
bool is_name_component(std::string_view s) {
  if (s.empty() || !is_lower_alnum(s.front()) || !is_lower_alnum(s.back())) return false;
  for (size_t i = 0; i < s.size();) {
    if (is_lower_alnum(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && !is_lower_alnum(s[j])) ++j;
    std::string_view sep = s.substr(i, j - i);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
    i = j;
  }
  return true;
}

bool is_domain(std::string_view s) {
  if (s.empty()) return false;
  auto colon = s.find(':');
  std::string_view host = s.substr(0, colon);
  if (colon != std::string_view::npos) {
    std::string_view port = s.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string_view::npos) {
      return false;
    }
  }
  if (host.empty()) return false;
  for (char c : host) {
    if (!is_alnum(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool is_tag(std::string_view s) {
  if (s.empty() || s.size() > 128 || s.front() == '.' || s.front() == '-') return false;
  for (char c : s) {
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

bool is_digest_ref(std::string_view s) {
  auto colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= s.size()) return false;
  for (char c : s.substr(0, colon)) {
    if (!is_lower_alnum(c) && c != '+' && c != '.' && c != '_' && c != '-') return false;
  }
  std::string_view hex = s.substr(colon + 1);
  return hex.size() >= 32 && hex.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

// distribution/reference: [DOMAIN/]NAME[:TAG][@DIGEST]. A first component is a domain when it
// holds '.' or ':' or is "localhost", as the Docker CLI decides.
bool is_docker_reference(std::string_view s) {
  auto at = s.find('@');
  if (at != std::string_view::npos) {
    if (!is_digest_ref(s.substr(at + 1))) return false;
    s = s.substr(0, at);
  }
  auto slash = s.rfind('/');
  auto colon = s.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    if (!is_tag(s.substr(colon + 1))) return false;
    s = s.substr(0, colon);
  }
  if (s.empty() || s.size() > 255) return false;
  auto parts = split(s, '/');
  size_t first = 0;
  if (parts.size() > 1) {
    std::string_view p0 = parts[0];
    bool domain = p0.find_first_of(".:") != std::string_view::npos || p0 == "localhost";
    if (domain) {
      if (!is_domain(p0)) return false;
      first = 1;
    }
  }
  for (size_t i = first; i < parts.size(); ++i) {
    if (!is_name_component(parts[i])) return false;
  }
  return true;
}

namespace {

bool is_archive_selector(std::string_view s) {
  if (starts_with(s, "@")) {
    return s.size() > 1 && s.size() < 10 &&
           s.substr(1).find_first_not_of("0123456789") == std::string_view::npos;
  }
  return is_docker_reference(s);
}

[[noreturn]] void fail(std::string_view text, std::string_view why) {
  throw Error("image reference: " + escape(text) + ": " + std::string(why));
}

bool is_dir(PathKind k) { return k == PathKind::kDirectory || k == PathKind::kOciDirectory; }
bool is_file(PathKind k) { return k != PathKind::kMissing && !is_dir(k); }

// Splits "PATH[:SELECTOR]": the whole text when it exists, else the longest prefix ending
// before a colon that exists (with the right kind) and whose rest is a valid selector. Paths
// may contain colons; selectors (OCI ref names, NAME:TAG) may too.
void split_path_selector(Ref& ref, std::string_view rest, bool want_dir,
                         bool (*valid_selector)(std::string_view), const PathProber& prober) {
  auto kind_ok = [&](PathKind k) { return want_dir ? is_dir(k) : is_file(k); };
  if (rest.empty()) fail(ref.text, "the path is empty");
  if (kind_ok(prober.probe(std::string(rest)))) {
    ref.path = std::string(rest);
    return;
  }
  for (size_t i = rest.rfind(':'); i != std::string_view::npos && i > 0;
       i = rest.rfind(':', i - 1)) {
    std::string_view prefix = rest.substr(0, i), selector = rest.substr(i + 1);
    if (!valid_selector(selector) || !kind_ok(prober.probe(std::string(prefix)))) continue;
    ref.path = std::string(prefix);
    ref.selector = std::string(selector);
    return;
  }
  fail(ref.text, want_dir ? "no such folder" : "no such file");
}

void require_path(Ref& ref, std::string_view rest, bool want_dir, const PathProber& prober) {
  if (rest.empty()) fail(ref.text, "the path is empty");
  PathKind k = prober.probe(std::string(rest));
  if (k == PathKind::kMissing) fail(ref.text, want_dir ? "no such folder" : "no such file");
  if (want_dir && !is_dir(k)) fail(ref.text, "not a folder");
  if (!want_dir && !is_file(k)) fail(ref.text, "a folder, not a tar file (use rootfs:DIR)");
  ref.path = std::string(rest);
}

// A reference with no transport prefix: what is at the path decides.
void sniff_bare(Ref& ref, const PathProber& prober) {
  ref.sniffed = true;
  ref.path = ref.text;
  switch (prober.probe(ref.text)) {
    case PathKind::kOciDirectory:
      ref.transport = Transport::kOci;
      return;
    case PathKind::kDirectory:
      ref.transport = Transport::kRootfs;
      return;
    case PathKind::kDockerArchive:
      ref.transport = Transport::kDockerArchive;
      return;
    case PathKind::kOciArchive:
      ref.transport = Transport::kOciArchive;
      return;
    case PathKind::kFlatTar:
      ref.transport = Transport::kTar;
      return;
    case PathKind::kOtherFile:
      fail(ref.text, "not a tar archive, an OCI layout or a folder");
    case PathKind::kMissing:
      break;
  }
  ref.path.clear();
  bool path_like =
      starts_with(ref.text, "/") || starts_with(ref.text, ".") || starts_with(ref.text, "~");
  if (path_like || !is_docker_reference(ref.text)) {
    fail(ref.text, "no such file or folder, and not an image name");
  }
  ref.transport = Transport::kDockerDaemon;
  ref.name = ref.text;
}

}  // namespace

std::string_view transport_name(Transport t) { return kTransportNames[static_cast<size_t>(t)]; }

const PathProber& filesystem_prober() {
  static const FilesystemProber prober;
  return prober;
}

PathKind sniff_tar_file(const std::string& path) {
  detail::ArchiveReader a = detail::new_tar_reader();
  if (archive_read_open_filename(a.get(), path.c_str(), 64 * 1024) != ARCHIVE_OK) {
    // libarchive bids on the format at open: EILSEQ (its ARCHIVE_ERRNO_FILE_FORMAT) means
    // no reader recognised the bytes.
    if (archive_errno(a.get()) == EILSEQ) return PathKind::kOtherFile;
    throw Error(path + ": " + detail::archive_error(a.get()));
  }
  bool has_layout = false;
  size_t entries = 0;
  for (;;) {
    archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) {
      if (entries == 0) return PathKind::kOtherFile;
      throw Error(path + ": tar: " + detail::archive_error(a.get()));
    }
    ++entries;
    const char* raw = archive_entry_pathname(e);
    std::string name = detail::normalize_member_name(raw != nullptr ? raw : "");
    if (name == "manifest.json") return PathKind::kDockerArchive;
    if (name == "oci-layout") has_layout = true;
    // Stop early on a flat tar: no need to decompress a whole root file system.
    if (!has_layout && is_rootfs_member(name)) return PathKind::kFlatTar;
  }
  return has_layout ? PathKind::kOciArchive : PathKind::kFlatTar;
}

Ref parse_ref(std::string_view text, const PathProber& prober) {
  Ref ref;
  ref.text = std::string(text);
  if (text.empty()) fail(text, "empty");
  if (text == "-") {
    ref.transport = Transport::kStdin;
    return ref;
  }
  auto rest_after = [&](std::string_view prefix) -> std::optional<std::string_view> {
    if (!starts_with(text, prefix)) return std::nullopt;
    return text.substr(prefix.size());
  };
  if (auto rest = rest_after("docker://")) {
    ref.transport = Transport::kRegistry;
    if (!is_docker_reference(*rest)) fail(text, "not a valid HOST/NAME[:TAG|@DIGEST]");
    ref.name = std::string(*rest);
    return ref;
  }
  if (auto rest = rest_after("docker-daemon:")) {
    ref.transport = Transport::kDockerDaemon;
    if (!is_docker_reference(*rest)) fail(text, "not a valid NAME[:TAG]");
    ref.name = std::string(*rest);
    return ref;
  }
  if (auto rest = rest_after("container:")) {
    ref.transport = Transport::kContainer;
    if (rest->empty()) fail(text, "the container id or name is empty");
    ref.name = std::string(*rest);
    return ref;
  }
  if (auto rest = rest_after("docker-archive:")) {
    ref.transport = Transport::kDockerArchive;
    split_path_selector(ref, *rest, false, is_archive_selector, prober);
    return ref;
  }
  if (auto rest = rest_after("oci-archive:")) {
    ref.transport = Transport::kOciArchive;
    split_path_selector(ref, *rest, false, is_oci_ref_name, prober);
    return ref;
  }
  if (auto rest = rest_after("oci:")) {
    ref.transport = Transport::kOci;
    split_path_selector(ref, *rest, true, is_oci_ref_name, prober);
    return ref;
  }
  if (auto rest = rest_after("tar:")) {
    ref.transport = Transport::kTar;
    require_path(ref, *rest, false, prober);
    return ref;
  }
  if (auto rest = rest_after("rootfs:")) {
    ref.transport = Transport::kRootfs;
    require_path(ref, *rest, true, prober);
    return ref;
  }
  if (starts_with(text, "docker:")) fail(text, "a registry reference is docker://HOST/NAME[:TAG]");
  sniff_bare(ref, prober);
  return ref;
}

}  // namespace coroner::image
