#include "testing/image_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>

#include "base/bytes.h"
#include "base/digest.h"
#include "image/manifest.h"

namespace coroner::testing {
namespace {

using nlohmann::json;

struct WriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
using Writer = std::unique_ptr<archive, WriteFree>;

void check(archive* a, int r, const char* what) {
  if (r < ARCHIVE_OK) {
    const char* e = archive_error_string(a);
    throw std::runtime_error(std::string(what) + ": " + (e ? e : "?"));
  }
}

la_ssize_t append(archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

void add_filter(archive* a, image::Compression c) {
  switch (c) {
    case image::Compression::kNone:
      break;
    case image::Compression::kGzip:
      check(a, archive_write_add_filter_gzip(a), "gzip");
      break;
    case image::Compression::kZstd:
      check(a, archive_write_add_filter_zstd(a), "zstd");
      break;
  }
}

std::string hex_of(std::string_view digest) { return std::string(digest.substr(7)); }

std::string layer_media_type(image::Compression c, bool docker) {
  if (docker) {
    return c == image::Compression::kNone ? "application/vnd.docker.image.rootfs.diff.tar"
                                          : "application/vnd.docker.image.rootfs.diff.tar.gzip";
  }
  switch (c) {
    case image::Compression::kNone:
      return "application/vnd.oci.image.layer.v1.tar";
    case image::Compression::kGzip:
      return "application/vnd.oci.image.layer.v1.tar+gzip";
    case image::Compression::kZstd:
      return "application/vnd.oci.image.layer.v1.tar+zstd";
  }
  return {};
}

json blob_descriptor(std::string_view media_type, std::string_view bytes) {
  return json{{"mediaType", media_type}, {"digest", sha256_of(bytes)}, {"size", bytes.size()}};
}

void add_unique(Files& files, std::string name, std::string content) {
  for (const auto& f : files) {
    if (f.first == name) return;
  }
  files.emplace_back(std::move(name), std::move(content));
}

}  // namespace

std::string sha256_of(std::string_view bytes) { return sha256_digest(as_bytes(bytes)); }

std::string make_tar(const Files& files, image::Compression c) {
  std::string out;
  Writer a(archive_write_new());
  check(a.get(), archive_write_set_format_pax_restricted(a.get()), "format");
  // Names are bytes: no conversion from the C locale (which would refuse non-ASCII names).
  check(a.get(), archive_write_set_format_option(a.get(), "pax", "hdrcharset", "BINARY"),
        "hdrcharset");
  add_filter(a.get(), c);
  check(a.get(), archive_write_set_bytes_in_last_block(a.get(), 1), "block");
  check(a.get(), archive_write_open(a.get(), &out, nullptr, append, nullptr), "open");
  for (const auto& [name, content] : files) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                               archive_entry_free);
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    bool link = content.rfind("->", 0) == 0;
    if (link) {
      archive_entry_set_filetype(e.get(), AE_IFLNK);
      archive_entry_set_perm(e.get(), 0777);
      archive_entry_set_symlink(e.get(), content.substr(2).c_str());
    } else {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_perm(e.get(), 0644);
      archive_entry_set_size(e.get(), static_cast<la_int64_t>(content.size()));
    }
    check(a.get(), archive_write_header(a.get(), e.get()), "header");
    if (!link && !content.empty()) {
      la_ssize_t n = archive_write_data(a.get(), content.data(), content.size());
      if (n != static_cast<la_ssize_t>(content.size())) check(a.get(), ARCHIVE_FATAL, "data");
    }
  }
  check(a.get(), archive_write_close(a.get()), "close");
  return out;
}

std::string compress(std::string_view bytes, image::Compression c) {
  if (c == image::Compression::kNone) return std::string(bytes);
  std::string out;
  Writer a(archive_write_new());
  check(a.get(), archive_write_set_format_raw(a.get()), "format");
  add_filter(a.get(), c);
  check(a.get(), archive_write_set_bytes_in_last_block(a.get(), 1), "block");
  check(a.get(), archive_write_open(a.get(), &out, nullptr, append, nullptr), "open");
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                             archive_entry_free);
  archive_entry_set_pathname(e.get(), "data");
  archive_entry_set_filetype(e.get(), AE_IFREG);
  archive_entry_set_size(e.get(), static_cast<la_int64_t>(bytes.size()));
  check(a.get(), archive_write_header(a.get(), e.get()), "header");
  if (!bytes.empty()) archive_write_data(a.get(), bytes.data(), bytes.size());
  check(a.get(), archive_write_close(a.get()), "close");
  return out;
}

void write_file(const std::string& path, std::string_view bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

void write_files(const std::string& dir, const Files& files) {
  namespace fs = std::filesystem;
  for (const auto& [name, content] : files) {
    fs::path p = fs::path(dir) / name;
    fs::create_directories(p.parent_path());
    if (content.rfind("->", 0) == 0) {
      fs::create_symlink(content.substr(2), p);
    } else {
      write_file(p.string(), content);
    }
  }
}

std::string make_temp_dir() {
  const char* base = std::getenv("CORONER_TEST_TMP");
  if (base == nullptr || *base == '\0') base = std::getenv("TMPDIR");
  std::string root = base != nullptr && *base != '\0' ? base : "/tmp";
  std::filesystem::create_directories(root);
  std::string tmpl = root + "/image-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp in " + root);
  return tmpl;
}

ImageBuilder& ImageBuilder::layer(std::string tar, image::Compression c) {
  BuiltLayer l;
  l.diff_id = sha256_of(tar);
  l.blob = compress(tar, c);
  l.digest = sha256_of(l.blob);
  l.media_type = layer_media_type(c, false);
  layers_.push_back(std::move(l));
  return *this;
}

ImageBuilder& ImageBuilder::config(json config) {
  config_ = std::move(config);
  return *this;
}

ImageBuilder& ImageBuilder::platform(std::string_view platform) {
  image::Platform p = image::parse_platform(platform);
  config_["os"] = p.os;
  config_["architecture"] = p.architecture;
  if (!p.variant.empty()) config_["variant"] = p.variant;
  return *this;
}

ImageBuilder& ImageBuilder::tag(std::string repo_tag) {
  tags_.push_back(std::move(repo_tag));
  return *this;
}

ImageBuilder& ImageBuilder::docker_media_types() {
  docker_types_ = true;
  return *this;
}

json ImageBuilder::config_json() const {
  json c = config_;
  if (!c.contains("os")) c["os"] = "linux";
  if (!c.contains("architecture")) c["architecture"] = "amd64";
  if (!c.contains("rootfs")) {
    json ids = json::array();
    for (const BuiltLayer& l : layers_) ids.push_back(l.diff_id);
    c["rootfs"] = json{{"type", "layers"}, {"diff_ids", ids}};
  }
  return c;
}

std::string ImageBuilder::config_bytes() const { return config_json().dump(); }
std::string ImageBuilder::config_digest() const { return sha256_of(config_bytes()); }

std::string ImageBuilder::manifest_bytes() const {
  std::string_view config_type = docker_types_ ? image::kDockerConfig : image::kOciConfig;
  json layers = json::array();
  for (const BuiltLayer& l : layers_) {
    std::string mt = l.media_type;
    if (docker_types_) {
      mt = mt == "application/vnd.oci.image.layer.v1.tar"
               ? "application/vnd.docker.image.rootfs.diff.tar"
               : "application/vnd.docker.image.rootfs.diff.tar.gzip";
    }
    layers.push_back(json{{"mediaType", mt}, {"digest", l.digest}, {"size", l.blob.size()}});
  }
  json m{{"schemaVersion", 2},
         {"mediaType", docker_types_ ? image::kDockerManifest : image::kOciManifest},
         {"config", blob_descriptor(config_type, config_bytes())},
         {"layers", layers}};
  return m.dump();
}

json ImageBuilder::descriptor() const {
  json d = blob_descriptor(docker_types_ ? image::kDockerManifest : image::kOciManifest,
                           manifest_bytes());
  json c = config_json();
  json p{{"os", c["os"]}, {"architecture", c["architecture"]}};
  if (c.contains("variant")) p["variant"] = c["variant"];
  d["platform"] = p;
  return d;
}

Files docker_archive_legacy(const std::vector<ImageBuilder>& images) {
  Files files;
  json manifest = json::array();
  json repositories = json::object();
  for (const ImageBuilder& img : images) {
    json layers = json::array();
    for (const BuiltLayer& l : img.layers()) {
      std::string id = hex_of(l.diff_id);
      add_unique(files, id + "/VERSION", "1.0");
      add_unique(files, id + "/json", json{{"id", id}}.dump());
      add_unique(files, id + "/layer.tar", l.blob);
      layers.push_back(id + "/layer.tar");
    }
    std::string config_name = hex_of(img.config_digest()) + ".json";
    add_unique(files, config_name, img.config_bytes());
    manifest.push_back(json{{"Config", config_name}, {"RepoTags", img.tags()}, {"Layers", layers}});
  }
  files.emplace_back("manifest.json", manifest.dump());
  files.emplace_back("repositories", repositories.dump());
  return files;
}

Files docker_archive_oci(const std::vector<ImageBuilder>& images) {
  OciLayout layout;
  json manifest = json::array();
  for (const ImageBuilder& img : images) {
    json d = layout.add_image_blobs(img);
    d.erase("platform");
    std::string name = img.tags().empty() ? "" : img.tags()[0];
    if (!name.empty()) {
      d["annotations"] =
          json{{"io.containerd.image.name", "docker.io/library/" + name},
               {"org.opencontainers.image.ref.name", name.substr(name.rfind(':') + 1)}};
    }
    layout.entry(d);
    json layers = json::array();
    for (const BuiltLayer& l : img.layers()) layers.push_back("blobs/sha256/" + hex_of(l.digest));
    manifest.push_back(json{{"Config", "blobs/sha256/" + hex_of(img.config_digest())},
                            {"RepoTags", img.tags()},
                            {"Layers", layers}});
  }
  Files files = layout.files();
  files.emplace_back("manifest.json", manifest.dump());
  files.emplace_back("repositories", "{}");
  return files;
}

OciLayout& OciLayout::image(const ImageBuilder& img, std::string ref_name) {
  json d = add_image_blobs(img);
  if (!ref_name.empty()) d["annotations"] = json{{"org.opencontainers.image.ref.name", ref_name}};
  return entry(d);
}

json OciLayout::add_image_blobs(const ImageBuilder& img) {
  for (const BuiltLayer& l : img.layers()) add_blob(l.blob);
  add_blob(img.config_bytes());
  add_blob(img.manifest_bytes());
  return img.descriptor();
}

std::string OciLayout::add_blob(std::string bytes) {
  std::string digest = sha256_of(bytes);
  add_unique(blobs_, "blobs/sha256/" + hex_of(digest), std::move(bytes));
  return digest;
}

json OciLayout::add_index(const std::vector<json>& descriptors) {
  json idx{{"schemaVersion", 2}, {"mediaType", image::kOciIndex}, {"manifests", descriptors}};
  std::string bytes = idx.dump();
  add_blob(bytes);
  return blob_descriptor(image::kOciIndex, bytes);
}

OciLayout& OciLayout::entry(json descriptor) {
  entries_.push_back(std::move(descriptor));
  return *this;
}

Files OciLayout::files() const {
  Files files = blobs_;
  json idx{{"schemaVersion", 2}, {"mediaType", image::kOciIndex}, {"manifests", entries_}};
  files.emplace_back("index.json", idx.dump());
  files.emplace_back("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  return files;
}

}  // namespace coroner::testing
