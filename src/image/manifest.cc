#include "image/manifest.h"

#include <sys/utsname.h>

#include <nlohmann/json.hpp>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "base/text.h"

namespace coroner::image {
namespace {

using nlohmann::json;

constexpr int kMaxIndexDepth = 4;  // index -> index -> ... -> manifest

// Where we are inside a document, for messages: "manifests[2].platform.os".
class Where {
 public:
  explicit Where(std::string_view doc) : doc_(doc) {}
  Where key(std::string_view k) const {
    return Where(doc_, path_.empty() ? std::string(k) : path_ + "." + std::string(k));
  }
  Where index(size_t i) const { return Where(doc_, path_ + "[" + std::to_string(i) + "]"); }
  [[noreturn]] void fail(std::string_view detail) const {
    std::string at =
        path_.empty() ? std::string(doc_) : std::string(doc_) + ": " + escape(path_, 80);
    throw Error("config JSON: " + at + ": " + std::string(detail));
  }

 private:
  Where(std::string_view doc, std::string path) : doc_(doc), path_(std::move(path)) {}
  std::string_view doc_;
  std::string path_;
};

json parse_json(std::string_view text, std::string_view what) {
  Where w(what);
  if (text.size() > kMaxJsonSize) {
    w.fail(std::to_string(text.size()) + " bytes, more than the " + std::to_string(kMaxJsonSize) +
           " accepted");
  }
  try {
    // Depth of nested arrays/objects is bounded by nlohmann's recursive parser only by the
    // input size; 512 KiB of '[' would overflow the stack, so refuse deep nesting first.
    int depth = 0;
    bool in_string = false, escaped = false;
    for (char c : text) {
      if (in_string) {
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          in_string = false;
        }
        continue;
      }
      if (c == '"') in_string = true;
      if (c == '[' || c == '{') {
        if (++depth > 64) w.fail("nested more than 64 levels deep");
      }
      if (c == ']' || c == '}') --depth;
    }
    return json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    w.fail(escape(e.what(), 160));
  }
}

const json& require_object(const json& j, const Where& w) {
  if (!j.is_object()) w.fail(std::string("expected an object, got ") + j.type_name());
  return j;
}

const json* find(const json& obj, std::string_view key) {
  auto it = obj.find(std::string(key));
  return it == obj.end() ? nullptr : &*it;
}

// Absent or null -> "", a string -> itself, anything else -> Error naming the key.
std::string opt_string(const json& obj, std::string_view key, const Where& w) {
  const json* v = find(obj, key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) w.key(key).fail(std::string("expected a string, got ") + v->type_name());
  return v->get<std::string>();
}

std::string req_string(const json& obj, std::string_view key, const Where& w) {
  const json* v = find(obj, key);
  if (v == nullptr) w.key(key).fail("missing");
  return opt_string(obj, key, w);
}

// Absent or null -> nullopt; an array of strings -> it; anything else -> Error.
std::optional<std::vector<std::string>> opt_strings(const json& obj, std::string_view key,
                                                    const Where& w) {
  const json* v = find(obj, key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  Where wk = w.key(key);
  if (!v->is_array()) wk.fail(std::string("expected an array of strings, got ") + v->type_name());
  std::vector<std::string> out;
  for (size_t i = 0; i < v->size(); ++i) {
    const json& s = (*v)[i];
    if (!s.is_string()) wk.index(i).fail(std::string("expected a string, got ") + s.type_name());
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::map<std::string, std::string> opt_string_map(const json& obj, std::string_view key,
                                                  const Where& w) {
  std::map<std::string, std::string> out;
  const json* v = find(obj, key);
  if (v == nullptr || v->is_null()) return out;
  Where wk = w.key(key);
  if (!v->is_object()) wk.fail(std::string("expected an object, got ") + v->type_name());
  for (const auto& [k, val] : v->items()) {
    if (!val.is_string()) wk.key(k).fail(std::string("expected a string, got ") + val.type_name());
    out.emplace(k, val.get<std::string>());
  }
  return out;
}

bool opt_bool(const json& obj, std::string_view key, const Where& w) {
  const json* v = find(obj, key);
  if (v == nullptr || v->is_null()) return false;
  if (!v->is_boolean()) w.key(key).fail(std::string("expected a boolean, got ") + v->type_name());
  return v->get<bool>();
}

std::string digest_value(const json& v, const Where& w) {
  if (!v.is_string()) w.fail(std::string("expected a string, got ") + v.type_name());
  std::string d = v.get<std::string>();
  if (!is_valid_sha256_digest(d)) w.fail("not a sha256 digest: \"" + escape(d, 80) + "\"");
  return d;
}

std::string req_digest(const json& obj, std::string_view key, const Where& w) {
  const json* v = find(obj, key);
  if (v == nullptr) w.key(key).fail("missing");
  return digest_value(*v, w.key(key));
}

// A required array; null counts as an empty one: Go's encoding/json writes a nil slice as null,
// and buildkit, ko and go-containerregistry write `"layers": null`, `"Layers": null` and
// `"diff_ids": null` for an image without layers.
const json& req_array(const json& obj, std::string_view key, const Where& w) {
  static const json kEmpty = json::array();
  const json* v = find(obj, key);
  if (v == nullptr) w.key(key).fail("missing");
  if (v->is_null()) return kEmpty;
  if (!v->is_array()) w.key(key).fail(std::string("expected an array, got ") + v->type_name());
  return *v;
}

Platform parse_platform_json(const json& j, const Where& w) {
  require_object(j, w);
  Platform p;
  p.os = req_string(j, "os", w);
  p.architecture = req_string(j, "architecture", w);
  p.variant = opt_string(j, "variant", w);
  return p;
}

Descriptor parse_descriptor(const json& j, const Where& w) {
  require_object(j, w);
  Descriptor d;
  d.media_type = opt_string(j, "mediaType", w);
  d.digest = req_digest(j, "digest", w);
  const json* size = find(j, "size");
  if (size == nullptr) w.key("size").fail("missing");
  if (!size->is_number_unsigned()) w.key("size").fail("expected a non-negative integer");
  d.size = size->get<uint64_t>();
  d.artifact_type = opt_string(j, "artifactType", w);
  d.annotations = opt_string_map(j, "annotations", w);
  if (const json* p = find(j, "platform"); p != nullptr && !p->is_null()) {
    d.platform = parse_platform_json(*p, w.key("platform"));
  }
  return d;
}

// A member name of an archive, as manifest.json writes it: relative, no "..".
std::string member_value(const json& v, const Where& w) {
  if (!v.is_string()) w.fail(std::string("expected a string, got ") + v.type_name());
  std::string s = v.get<std::string>();
  bool bad = s.empty() || starts_with(s, "/") || s.find('\0') != std::string::npos;
  for (std::string_view part : split(s, '/')) bad = bad || part == "..";
  if (bad) w.fail("unsafe member name \"" + escape(s, 80) + "\"");
  return s;
}

std::string req_member(const json& obj, std::string_view key, const Where& w) {
  const json* v = find(obj, key);
  if (v == nullptr) w.key(key).fail("missing");
  return member_value(*v, w.key(key));
}

std::string normalize_arch(std::string_view a) {
  if (a == "x86_64" || a == "x86-64") return "amd64";
  if (a == "aarch64") return "arm64";
  if (a == "i386" || a == "i486" || a == "i586" || a == "i686") return "386";
  if (a == "armhf" || a == "armel") return "arm";
  return std::string(a);
}

Platform normalize(const Platform& p) {
  Platform n{p.os, normalize_arch(p.architecture), p.variant};
  if (p.architecture == "armhf") n.variant = "v7";
  if (p.architecture == "armel") n.variant = "v6";
  if (!n.variant.empty() && n.variant[0] >= '0' && n.variant[0] <= '9') n.variant = "v" + n.variant;
  if (n.architecture == "arm64" && n.variant == "v8") n.variant.clear();
  if (n.architecture == "amd64" && n.variant == "v1") n.variant.clear();
  if (n.architecture == "arm" && n.variant.empty()) n.variant = "v7";
  return n;
}

struct Candidates {
  std::vector<Descriptor> images;      // image manifests, attestations skipped
  std::vector<std::string> artifacts;  // "sha256:… (artifactType or mediaType)"
};

void collect(const ImageIndex& index, const BlobFetcher& fetch, std::string_view what, int depth,
             Candidates& out) {
  if (depth > kMaxIndexDepth) {
    throw Error("config JSON: " + std::string(what) + ": indexes nested more than " +
                std::to_string(kMaxIndexDepth) + " levels deep");
  }
  for (const Descriptor& d : index.manifests) {
    if (is_attestation(d)) continue;
    if (!d.artifact_type.empty()) {
      out.artifacts.push_back(d.digest + " (" + escape(d.artifact_type, 80) + ")");
      continue;
    }
    switch (document_kind(d.media_type)) {
      case DocumentKind::kIndex: {
        std::string nested_what = "index " + d.digest;
        ImageIndex nested = parse_index(fetch(d), nested_what);
        collect(nested, fetch, nested_what, depth + 1, out);
        break;
      }
      case DocumentKind::kImageManifest:
        out.images.push_back(d);
        break;
      case DocumentKind::kOther:
        // OCI makes mediaType required in descriptors; an empty one is taken for a manifest.
        if (d.media_type.empty()) {
          out.images.push_back(d);
        } else {
          out.artifacts.push_back(d.digest + " (" + escape(d.media_type, 80) + ")");
        }
        break;
    }
  }
}

}  // namespace

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform parse_platform(std::string_view text) {
  auto parts = split(text, '/');
  bool ok = (parts.size() == 2 || parts.size() == 3);
  for (std::string_view p : parts) ok = ok && !p.empty();
  if (!ok) {
    throw Error("platform: \"" + escape(text, 80) + "\": expected OS/ARCH or OS/ARCH/VARIANT");
  }
  Platform p{std::string(parts[0]), std::string(parts[1]), ""};
  if (parts.size() == 3) p.variant = std::string(parts[2]);
  return p;
}

std::string host_platform() {
  struct utsname u;
  if (::uname(&u) != 0) return "linux/amd64";
  std::string_view m = u.machine;
  Platform p{"linux", normalize_arch(m), ""};
  if (starts_with(m, "armv") && m.size() >= 5) p.variant = "v" + std::string(1, m[4]);
  if (m == "ppc64le" || m == "s390x" || m == "riscv64" || m == "mips64le") p.architecture = m;
  return p.str();
}

bool platform_matches(const Platform& wanted, const Platform& have) {
  Platform w = normalize(wanted), h = normalize(have);
  if (w.os != h.os || w.architecture != h.architecture) return false;
  return wanted.variant.empty() && w.architecture != "arm" ? true : w.variant == h.variant;
}

DocumentKind document_kind(std::string_view media_type) {
  if (media_type == kOciIndex || media_type == kDockerManifestList) return DocumentKind::kIndex;
  if (media_type == kOciManifest || media_type == kDockerManifest) {
    return DocumentKind::kImageManifest;
  }
  return DocumentKind::kOther;
}

std::vector<DockerSaveImage> parse_docker_save_manifest(std::string_view text,
                                                        std::string_view what) {
  json j = parse_json(text, what);
  Where w(what);
  if (!j.is_array()) w.fail(std::string("expected an array, got ") + j.type_name());
  std::vector<DockerSaveImage> out;
  for (size_t i = 0; i < j.size(); ++i) {
    Where wi = w.index(i);
    const json& e = require_object(j[i], wi);
    DockerSaveImage img;
    img.config = req_member(e, "Config", wi);
    img.repo_tags = opt_strings(e, "RepoTags", wi).value_or(std::vector<std::string>{});
    const json& layers = req_array(e, "Layers", wi);
    for (size_t k = 0; k < layers.size(); ++k) {
      img.layers.push_back(member_value(layers[k], wi.key("Layers").index(k)));
    }
    if (const json* src = find(e, "LayerSources"); src != nullptr && !src->is_null()) {
      Where ws = wi.key("LayerSources");
      require_object(*src, ws);
      for (const auto& [diff_id, desc] : src->items()) {
        if (!is_valid_sha256_digest(diff_id))
          ws.fail("not a sha256 digest: \"" + escape(diff_id, 80) + "\"");
        img.layer_sources.emplace(diff_id, parse_descriptor(desc, ws.key(diff_id)));
      }
    }
    out.push_back(std::move(img));
  }
  return out;
}

ImageIndex parse_index(std::string_view text, std::string_view what) {
  json j = parse_json(text, what);
  Where w(what);
  require_object(j, w);
  ImageIndex idx;
  idx.media_type = opt_string(j, "mediaType", w);
  if (!idx.media_type.empty() && document_kind(idx.media_type) != DocumentKind::kIndex) {
    w.key("mediaType").fail("\"" + escape(idx.media_type, 80) + "\" is not an index");
  }
  const json& ms = req_array(j, "manifests", w);
  for (size_t i = 0; i < ms.size(); ++i) {
    idx.manifests.push_back(parse_descriptor(ms[i], w.key("manifests").index(i)));
  }
  return idx;
}

ImageManifest parse_image_manifest(std::string_view text, std::string_view what) {
  json j = parse_json(text, what);
  Where w(what);
  require_object(j, w);
  ImageManifest m;
  m.media_type = opt_string(j, "mediaType", w);
  if (!m.media_type.empty() && document_kind(m.media_type) != DocumentKind::kImageManifest) {
    w.key("mediaType").fail("\"" + escape(m.media_type, 80) + "\" is not an image manifest");
  }
  const json* cfg = find(j, "config");
  if (cfg == nullptr) w.key("config").fail("missing");
  m.config = parse_descriptor(*cfg, w.key("config"));
  const json& layers = req_array(j, "layers", w);
  for (size_t i = 0; i < layers.size(); ++i) {
    m.layers.push_back(parse_descriptor(layers[i], w.key("layers").index(i)));
  }
  return m;
}

std::string parse_oci_layout(std::string_view text, std::string_view what) {
  json j = parse_json(text, what);
  Where w(what);
  require_object(j, w);
  return req_string(j, "imageLayoutVersion", w);
}

std::string peek_media_type(std::string_view text, std::string_view what) {
  json j = parse_json(text, what);
  Where w(what);
  require_object(j, w);
  return opt_string(j, "mediaType", w);
}

ImageConfig parse_image_config(std::string_view text, std::string_view what) {
  json j = parse_json(text, what);
  Where w(what);
  require_object(j, w);
  ImageConfig c;
  c.os = opt_string(j, "os", w);
  c.architecture = opt_string(j, "architecture", w);
  c.variant = opt_string(j, "variant", w);
  if (const json* cj = find(j, "config"); cj != nullptr && !cj->is_null()) {
    Where wc = w.key("config");
    require_object(*cj, wc);
    c.user = opt_string(*cj, "User", wc);
    if (auto ep = opt_strings(*cj, "Entrypoint", wc)) {
      c.entrypoint = std::move(*ep);
      c.entrypoint_set = true;
    }
    if (auto cmd = opt_strings(*cj, "Cmd", wc)) {
      c.cmd = std::move(*cmd);
      c.cmd_set = true;
    }
    c.env = opt_strings(*cj, "Env", wc).value_or(std::vector<std::string>{});
    c.workdir = opt_string(*cj, "WorkingDir", wc);
    if (const json* ports = find(*cj, "ExposedPorts"); ports != nullptr && !ports->is_null()) {
      require_object(*ports, wc.key("ExposedPorts"));
      for (const auto& item : ports->items()) c.exposed_ports.push_back(item.key());
    }
    if (const json* hc = find(*cj, "Healthcheck"); hc != nullptr && !hc->is_null()) {
      require_object(*hc, wc.key("Healthcheck"));
      c.healthcheck =
          opt_strings(*hc, "Test", wc.key("Healthcheck")).value_or(std::vector<std::string>{});
    }
    c.stop_signal = opt_string(*cj, "StopSignal", wc);
    c.labels = opt_string_map(*cj, "Labels", wc);
  }
  if (const json* rootfs = find(j, "rootfs"); rootfs != nullptr && !rootfs->is_null()) {
    Where wr = w.key("rootfs");
    require_object(*rootfs, wr);
    const json& ids = req_array(*rootfs, "diff_ids", wr);
    for (size_t i = 0; i < ids.size(); ++i) {
      c.diff_ids.push_back(digest_value(ids[i], wr.key("diff_ids").index(i)));
    }
  }
  if (const json* hist = find(j, "history"); hist != nullptr && !hist->is_null()) {
    Where wh = w.key("history");
    if (!hist->is_array()) wh.fail(std::string("expected an array, got ") + hist->type_name());
    for (size_t i = 0; i < hist->size(); ++i) {
      Where wi = wh.index(i);
      const json& h = require_object((*hist)[i], wi);
      c.history.push_back(
          HistoryEntry{opt_string(h, "created", wi), opt_string(h, "created_by", wi),
                       opt_string(h, "comment", wi), opt_bool(h, "empty_layer", wi)});
    }
  }
  return c;
}

bool is_attestation(const Descriptor& d) {
  auto it = d.annotations.find("vnd.docker.reference.type");
  if (it != d.annotations.end() && it->second == "attestation-manifest") return true;
  return d.platform && d.platform->os == "unknown" && d.platform->architecture == "unknown";
}

Descriptor select_platform(const ImageIndex& index, std::string_view platform,
                           const BlobFetcher& fetch, std::string_view what) {
  std::string wanted_text = platform.empty() ? host_platform() : std::string(platform);
  Platform wanted = parse_platform(wanted_text);
  Candidates c;
  collect(index, fetch, what, 0, c);
  for (const Descriptor& d : c.images) {
    if (d.platform && platform_matches(wanted, *d.platform)) return d;
  }
  // A single image is taken whatever its platform unless one was asked for: examining an
  // arm64-only image on an amd64 host is what elf-arch-mismatch is for.
  if (c.images.size() == 1 && (platform.empty() || !c.images[0].platform)) return c.images[0];
  std::string where = "config JSON: " + std::string(what) + ": ";
  if (c.images.empty() && !c.artifacts.empty()) {
    throw Error(where + "holds only artifacts, not a runnable image: " + c.artifacts[0]);
  }
  if (c.images.empty()) throw Error(where + "lists no image manifest");
  std::string available;
  for (const Descriptor& d : c.images) {
    if (!available.empty()) available += ", ";
    available += d.platform ? escape(d.platform->str(), 64) : "(no platform) " + d.digest;
  }
  throw Error(where + "no image for platform " + escape(wanted_text, 64) +
              "; available: " + available + " (choose one with --platform)");
}

void require_runnable(const ImageManifest& m, std::string_view what) {
  const std::string& t = m.config.media_type;
  if (t == kOciConfig || t == kDockerConfig) return;
  throw Error("config JSON: " + std::string(what) + ": an artifact (config media type \"" +
              escape(t, 80) + "\"), not a runnable image");
}

void verify_digest(std::string_view bytes, std::string_view digest, std::string_view what) {
  std::string got = sha256_digest(as_bytes(bytes));
  if (got != digest) {
    throw Error(std::string(what) + ": digest mismatch: expected " + escape(digest, 80) + ", got " +
                got);
  }
}

std::string config_platform(const ImageConfig& c) {
  if (c.os.empty()) return {};
  return Platform{c.os, c.architecture, c.variant}.str();
}

void verify_blob(std::string_view bytes, const Descriptor& d, std::string_view what,
                 std::string_view named_by) {
  if (bytes.size() != d.size) {
    throw Error(std::string(what) + ": " + std::to_string(bytes.size()) + " bytes, but " +
                std::string(named_by) + " says " + std::to_string(d.size));
  }
  verify_digest(bytes, d.digest, what);
}

void check_layer_count(const ImageConfig& c, size_t layers, std::vector<std::string>& notes) {
  if (c.diff_ids.size() != layers) {
    throw Error("config: rootfs.diff_ids lists " + std::to_string(c.diff_ids.size()) +
                " layers, the manifest " + std::to_string(layers));
  }
  // Docker tolerates a history that disagrees with the layers (some builders omit
  // empty_layer); it only affects which step we name for a layer, so it is a note.
  if (c.history.empty()) return;
  size_t non_empty = 0;
  for (const HistoryEntry& h : c.history) non_empty += h.empty_layer ? 0 : 1;
  if (non_empty != layers) {
    notes.push_back("config: history has " + std::to_string(non_empty) + " non-empty steps for " +
                    std::to_string(layers) + " layers, so layers cannot be matched to build steps");
  }
}

}  // namespace coroner::image
