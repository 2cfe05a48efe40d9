#include "image/archive_source.h"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>

#include <filesystem>
#include <thread>

#include "base/error.h"
#include "image/manifest.h"
#include "image/ref.h"
#include "image/source.h"
#include "testing/image_builder.h"

namespace coroner::image {
namespace {

using coroner::testing::docker_archive_legacy;
using coroner::testing::docker_archive_oci;
using coroner::testing::Files;
using coroner::testing::ImageBuilder;
using coroner::testing::make_tar;
using coroner::testing::OciLayout;
using nlohmann::json;

std::string read_all(ByteStream& s) {
  std::string out;
  std::byte buf[1000];  // small, to exercise many reads
  for (size_t n; (n = s.read(buf)) > 0;) out.append(reinterpret_cast<const char*>(buf), n);
  return out;
}

std::string layer_tar(std::string_view marker) {
  return make_tar({{"etc/hostname", std::string(marker)}, {"bin/sh", std::string(3000, 'x')}});
}

ImageBuilder two_layer_image(Compression c = Compression::kGzip) {
  ImageBuilder img;
  img.layer(layer_tar("one"), c).layer(layer_tar("two"), Compression::kZstd);
  img.config(json{{"config", {{"Entrypoint", {"/entry.sh"}}, {"User", "app"}}},
                  {"history", json::array({json{{"created_by", "ADD a"}},
                                           json{{"created_by", "ENV x"}, {"empty_layer", true}},
                                           json{{"created_by", "ADD b"}}})}});
  img.tag("app:1");
  return img;
}

class SourceTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = coroner::testing::make_temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_tar(const Files& files, Compression c = Compression::kNone) {
    std::string path = dir_ + "/image-" + std::to_string(counter_++);
    coroner::testing::write_file(path, make_tar(files, c));
    return path;
  }
  std::string write_dir(const Files& files) {
    std::string path = dir_ + "/layout-" + std::to_string(counter_++);
    coroner::testing::write_files(path, files);
    return path;
  }
  std::unique_ptr<ImageSource> open(const std::string& text, std::string platform = "") {
    return open_source(parse_ref(text), OpenOptions{platform, 0});
  }
  std::string error_of(const std::string& text, std::string platform = "") {
    try {
      open(text, platform);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }

  std::string dir_;
  int counter_ = 0;
};

void expect_layers_match(const ImageSource& src, const ImageBuilder& img) {
  const ImageInfo& info = src.info();
  ASSERT_EQ(info.layers.size(), img.layers().size());
  for (size_t i = 0; i < info.layers.size(); ++i) {
    EXPECT_EQ(info.layers[i].diff_id, img.layers()[i].diff_id);
    EXPECT_EQ(info.layers[i].size, img.layers()[i].blob.size());
    EXPECT_EQ(read_all(*src.open_layer(i)), img.layers()[i].blob) << "layer " << i;
  }
}

TEST_F(SourceTest, OciFolderIsSniffedAndOpened) {
  ImageBuilder img = two_layer_image();
  std::string path = write_dir(OciLayout().image(img, "v1").files());
  Ref ref = parse_ref(path);
  EXPECT_EQ(ref.transport, Transport::kOci);
  auto src = open_source(ref, {});
  const ImageInfo& info = src->info();
  EXPECT_EQ(info.ref, path);
  EXPECT_EQ(info.digest, img.descriptor()["digest"]);
  EXPECT_EQ(info.platform, "linux/amd64");
  EXPECT_TRUE(info.has_config);
  EXPECT_EQ(info.config.entrypoint, std::vector<std::string>{"/entry.sh"});
  EXPECT_EQ(info.config.user, "app");
  EXPECT_EQ(info.layers[0].digest, img.layers()[0].digest);
  EXPECT_EQ(info.layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  EXPECT_TRUE(info.notes.empty()) << info.notes[0];
  expect_layers_match(*src, img);
}

TEST_F(SourceTest, OciArchiveIsSniffedAndReadInParallel) {
  ImageBuilder img = two_layer_image();
  std::string path = write_tar(OciLayout().image(img).files());
  EXPECT_EQ(parse_ref(path).transport, Transport::kOciArchive);
  auto src = open(path);
  std::string got0, got1;
  std::thread t0([&] { got0 = read_all(*src->open_layer(0)); });
  std::thread t1([&] { got1 = read_all(*src->open_layer(1)); });
  t0.join();
  t1.join();
  EXPECT_EQ(got0, img.layers()[0].blob);
  EXPECT_EQ(got1, img.layers()[1].blob);
  expect_layers_match(*src, img);  // and once more
}

TEST_F(SourceTest, DockerArchiveLegacyLayout) {
  ImageBuilder img = two_layer_image(Compression::kNone);
  std::string path = write_tar(docker_archive_legacy({img}));
  Ref ref = parse_ref(path);
  EXPECT_EQ(ref.transport, Transport::kDockerArchive);
  auto src = open_source(ref, {});
  const ImageInfo& info = src->info();
  EXPECT_EQ(info.digest, "");            // the legacy layout names no manifest
  EXPECT_EQ(info.layers[0].digest, "");  // nor layer blob digests: diff_id verifies
  EXPECT_EQ(info.layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar");
  EXPECT_EQ(info.config.entrypoint, std::vector<std::string>{"/entry.sh"});
  EXPECT_TRUE(info.notes.empty());
  expect_layers_match(*src, img);
}

TEST_F(SourceTest, DockerArchiveDocker25Layout) {
  ImageBuilder img = two_layer_image(Compression::kNone);
  std::string path = write_tar(docker_archive_oci({img}));
  EXPECT_EQ(parse_ref(path).transport, Transport::kDockerArchive);
  auto src = open("docker-archive:" + path);
  EXPECT_EQ(src->info().digest, img.descriptor()["digest"]);
  EXPECT_EQ(src->info().layers[1].digest, img.layers()[1].digest);
  EXPECT_EQ(src->info().layers[1].media_type, "application/vnd.oci.image.layer.v1.tar+zstd");
  expect_layers_match(*src, img);
}

TEST_F(SourceTest, GzippedDockerArchiveIsSpooledOnceWithANote) {
  ImageBuilder img = two_layer_image(Compression::kNone);
  std::string path = write_tar(docker_archive_legacy({img}), Compression::kGzip);
  EXPECT_EQ(parse_ref(path).transport, Transport::kDockerArchive);
  auto src = open(path);
  ASSERT_EQ(src->info().notes.size(), 1u);
  EXPECT_NE(src->info().notes[0].find("compressed as a whole (gzip)"), std::string::npos);
  expect_layers_match(*src, img);
}

TEST_F(SourceTest, SymlinkedLayerInDockerArchiveIsFollowed) {
  ImageBuilder img;
  img.layer(layer_tar("same")).layer(layer_tar("same"));
  Files files = docker_archive_legacy({img});
  // docker save writes a layer shared with an earlier one as a symlink to it.
  std::string link_dir(64, 'a');
  files.insert(files.begin(), {link_dir + "/layer.tar",
                               "->../" + img.layers()[0].diff_id.substr(7) + "/layer.tar"});
  json m = json::parse(files.back().first == "repositories" ? files[files.size() - 2].second : "");
  m[0]["Layers"][1] = link_dir + "/layer.tar";
  files[files.size() - 2].second = m.dump();
  auto src = open(write_tar(files));
  EXPECT_EQ(read_all(*src->open_layer(1)), img.layers()[0].blob);
}

TEST_F(SourceTest, SeveralImagesInDockerArchiveNeedASelector) {
  ImageBuilder a = two_layer_image(Compression::kNone), b;
  b.layer(layer_tar("b")).tag("other:2");
  std::string path = write_tar(docker_archive_legacy({a, b}));
  EXPECT_EQ(error_of(path), "docker-archive: " + path +
                                ": manifest.json: holds 2 images; choose one with "
                                "docker-archive:PATH:NAME:TAG or :@N (@0 app:1, @1 other:2)");
  EXPECT_EQ(open("docker-archive:" + path + ":other:2")->info().layers.size(), 1u);
  EXPECT_EQ(open("docker-archive:" + path + ":docker.io/library/other:2")->info().layers.size(),
            1u);
  EXPECT_EQ(open("docker-archive:" + path + ":@0")->info().layers.size(), 2u);
  EXPECT_EQ(error_of("docker-archive:" + path + ":nope:1"),
            "docker-archive: " + path +
                ": manifest.json: no image tagged nope:1; images: "
                "@0 app:1, @1 other:2");
}

TEST_F(SourceTest, MultiPlatformIndexSelectsAndSkipsAttestations) {
  ImageBuilder amd, arm;
  amd.layer(layer_tar("amd")).platform("linux/amd64");
  arm.layer(layer_tar("arm")).platform("linux/arm/v7");
  OciLayout layout;
  json attestation = json{{"mediaType", kOciManifest},
                          {"digest", layout.add_blob("{}")},
                          {"size", 2},
                          {"platform", {{"os", "unknown"}, {"architecture", "unknown"}}},
                          {"annotations", {{"vnd.docker.reference.type", "attestation-manifest"}}}};
  json nested =
      layout.add_index({layout.add_image_blobs(amd), attestation, layout.add_image_blobs(arm)});
  nested["annotations"] = {{"org.opencontainers.image.ref.name", "latest"}};
  std::string path = write_dir(layout.entry(nested).files());
  auto src = open("oci:" + path + ":latest", "linux/arm/v7");
  EXPECT_EQ(src->info().platform, "linux/arm/v7");
  EXPECT_EQ(read_all(*src->open_layer(0)), arm.layers()[0].blob);
  EXPECT_EQ(open(path, "linux/amd64")->info().platform, "linux/amd64");
  EXPECT_EQ(error_of(path, "linux/s390x"),
            "oci: " + path +
                ": config JSON: index.json: no image for platform linux/s390x; available: "
                "linux/amd64, linux/arm/v7 (choose one with --platform)");
}

TEST_F(SourceTest, ArtifactIsNotARunnableImage) {
  OciLayout layout;
  std::string cfg = "{}";
  std::string cfg_digest = layout.add_blob(cfg);
  json manifest{{"schemaVersion", 2},
                {"mediaType", kOciManifest},
                {"config",
                 {{"mediaType", "application/vnd.cncf.helm.config.v1+json"},
                  {"digest", cfg_digest},
                  {"size", cfg.size()}}},
                {"layers", json::array()}};
  std::string mbytes = manifest.dump();
  std::string mdigest = layout.add_blob(mbytes);
  layout.entry({{"mediaType", kOciManifest}, {"digest", mdigest}, {"size", mbytes.size()}});
  std::string path = write_dir(layout.files());
  EXPECT_EQ(error_of(path), "oci: " + path + ": config JSON: blobs/sha256/" + mdigest.substr(7) +
                                ": an artifact (config media type "
                                "\"application/vnd.cncf.helm.config.v1+json\"), not a runnable "
                                "image");
}

TEST_F(SourceTest, SeveralRefsNeedOne) {
  ImageBuilder a, b;
  a.layer(layer_tar("a"));
  b.layer(layer_tar("b")).layer(layer_tar("c"));
  std::string path = write_dir(OciLayout().image(a, "v1").image(b, "v2").files());
  EXPECT_EQ(error_of(path),
            "oci: " + path + ": index.json: holds several images; choose one with :REF (v1, v2)");
  EXPECT_EQ(open("oci:" + path + ":v2")->info().layers.size(), 2u);
  EXPECT_EQ(error_of("oci:" + path + ":v3"),
            "oci: " + path + ": index.json: no image named \"v3\"; names: v1, v2");
}

TEST_F(SourceTest, MissingLayerBlobNamesTheLayer) {
  ImageBuilder img = two_layer_image();
  Files files = OciLayout().image(img).files();
  std::string hex = img.layers()[1].digest.substr(7);
  std::erase_if(files, [&](const auto& f) { return f.first == "blobs/sha256/" + hex; });
  std::string path = write_dir(files);
  EXPECT_EQ(error_of(path), "oci: " + path + ": blobs/sha256/" + hex +
                                ": missing (named by the manifest as layer 1)");
}

TEST_F(SourceTest, DigestTraversalIsRefused) {
  ImageBuilder img = two_layer_image();
  OciLayout layout;
  json d = layout.add_image_blobs(img);
  d["digest"] = "sha256:../../../etc/passwd";
  std::string path = write_dir(layout.entry(d).files());
  EXPECT_EQ(error_of(path), "oci: " + path +
                                ": config JSON: index.json: manifests[0].digest: not a sha256 "
                                "digest: \"sha256:../../../etc/passwd\"");
}

TEST_F(SourceTest, ConfigWithWrongTypeNamesTheKey) {
  ImageBuilder img;
  img.layer(layer_tar("a")).config(json{{"config", {{"Cmd", "echo hi"}}}});
  std::string path = write_tar(docker_archive_legacy({img}));
  EXPECT_EQ(error_of(path), "docker-archive: " + path +
                                ": config JSON: " + img.config_digest().substr(7) +
                                ".json: config.Cmd: expected an array of strings, got string");
}

TEST_F(SourceTest, TamperedConfigFailsItsDigest) {
  ImageBuilder img;
  img.layer(layer_tar("a"));
  Files files = OciLayout().image(img).files();
  std::string hex = img.config_digest().substr(7);
  for (auto& [name, content] : files) {
    if (name == "blobs/sha256/" + hex) content[content.size() - 2] ^= 1;
  }
  std::string path = write_dir(files);
  std::string e = error_of(path);
  EXPECT_EQ(e.rfind("oci: " + path + ": blobs/sha256/" + hex + ": digest mismatch: expected " +
                        img.config_digest() + ", got sha256:",
                    0),
            0u)
      << e;
}

TEST_F(SourceTest, LayerCountMismatchIsAnError) {
  ImageBuilder img;
  img.layer(layer_tar("a"))
      .config(json{{"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}});
  std::string path = write_dir(OciLayout().image(img).files());
  EXPECT_EQ(error_of(path),
            "oci: " + path + ": config: rootfs.diff_ids lists 0 layers, the manifest 1");
}

TEST_F(SourceTest, TruncatedArchiveIsAnError) {
  ImageBuilder img = two_layer_image(Compression::kNone);
  std::string tar = make_tar(docker_archive_legacy({img}));
  std::string path = dir_ + "/truncated.tar";
  coroner::testing::write_file(path, std::string_view(tar).substr(0, 5000));
  // Sniffing reads the members and notices first.
  std::string e = error_of("docker-archive:" + path);
  EXPECT_EQ(e.rfind(path + ": tar: ", 0), 0u) << e;
  EXPECT_NE(e.find("runcated"), std::string::npos) << e;
  // The source, given the reference directly, says the same with its prefix.
  Ref ref{Transport::kDockerArchive, path, path, "", "", false};
  try {
    open_source(ref, {});
    ADD_FAILURE() << "no error";
  } catch (const Error& err) {
    std::string what = err.what();
    EXPECT_EQ(what.rfind("docker-archive: " + path + ": tar: ", 0), 0u) << what;
    EXPECT_NE(what.find("runcated"), std::string::npos) << what;
  }
}

// Every cut of the archive, plain or gzip-compressed, gives an Error or (cut in the trailing
// zero blocks) an image whose layers are intact: never a crash or wrong bytes.
TEST_F(SourceTest, EveryTruncationIsAnErrorOrIntact) {
  ImageBuilder img = two_layer_image(Compression::kNone);
  for (Compression c : {Compression::kNone, Compression::kGzip}) {
    std::string tar = make_tar(docker_archive_oci({img}), c);
    size_t errors = 0;
    for (size_t cut = 0; cut < tar.size(); cut += 397) {
      std::string path = dir_ + "/cut.tar";
      coroner::testing::write_file(path, std::string_view(tar).substr(0, cut));
      Ref ref{Transport::kDockerArchive, path, path, "", "", false};
      try {
        auto src = open_source(ref, {});
        for (size_t i = 0; i < img.layers().size(); ++i) {
          EXPECT_EQ(read_all(*src->open_layer(i)), img.layers()[i].blob) << cut;
        }
      } catch (const Error& e) {
        ++errors;
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
      }
    }
    EXPECT_GT(errors, tar.size() / 397 / 2);
  }
}

TEST_F(SourceTest, OciArchiveWithoutLayoutFile) {
  ImageBuilder img = two_layer_image();
  Files files = OciLayout().image(img).files();
  std::erase_if(files, [](const auto& f) { return f.first == "oci-layout"; });
  std::string path = write_tar(files);
  EXPECT_EQ(error_of("oci-archive:" + path),
            "oci-archive: " + path + ": oci-layout: missing (not an OCI image layout)");
}

TEST_F(SourceTest, FlatTarIsOneLayerWithoutConfig) {
  std::string tar = layer_tar("flat");
  std::string path = dir_ + "/rootfs.tar";
  coroner::testing::write_file(path, tar);
  Ref ref = parse_ref(path);
  EXPECT_EQ(ref.transport, Transport::kTar);
  auto src = open_source(ref, {});
  EXPECT_FALSE(src->info().has_config);
  ASSERT_EQ(src->info().layers.size(), 1u);
  EXPECT_EQ(src->info().layers[0].digest, "");
  EXPECT_EQ(src->info().layers[0].size, tar.size());
  EXPECT_EQ(read_all(*src->open_layer(0)), tar);
  EXPECT_EQ(read_all(*src->open_layer(0)), tar);
}

TEST_F(SourceTest, CompressedFlatTarIsSniffedAsTar) {
  std::string path = dir_ + "/rootfs.tar.zst";
  coroner::testing::write_file(path, make_tar({{"usr/bin/env", "x"}}, Compression::kZstd));
  EXPECT_EQ(parse_ref(path).transport, Transport::kTar);
  std::string not_tar = dir_ + "/notes.txt";
  coroner::testing::write_file(not_tar, "hello, not a tar\n");
  EXPECT_EQ(error_of(not_tar),
            "image reference: " + not_tar + ": not a tar archive, an OCI layout or a folder");
}

TEST_F(SourceTest, StdinIsSpooledForLaterReads) {
  std::string tar = make_tar({{"a", std::string(20000, 'a')}});  // fits a pipe buffer
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ASSERT_EQ(::write(fds[1], tar.data(), tar.size()), static_cast<ssize_t>(tar.size()));
  ::close(fds[1]);
  auto src = open_source(parse_ref("-"), OpenOptions{"", fds[0]});
  auto first = src->open_layer(0);
  std::byte buf[100];
  ASSERT_EQ(first->read(buf), 100u);  // partly read, then a second open
  EXPECT_EQ(read_all(*src->open_layer(0)), tar);
  std::string rest = read_all(*first);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf), 100) + rest, tar);
  EXPECT_EQ(read_all(*src->open_layer(0)), tar);
  src.reset();
  ::close(fds[0]);
}

TEST_F(SourceTest, RootfsFolderHasNoStream) {
  std::string root = write_dir({{"etc/passwd", "root:x:0:0::/root:/bin/sh\n"}});
  Ref ref = parse_ref(root);
  EXPECT_EQ(ref.transport, Transport::kRootfs);
  auto src = open_source(ref, {});
  EXPECT_EQ(src->layer_dir(0), root);
  EXPECT_FALSE(src->info().has_config);
  try {
    src->open_layer(0);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "rootfs: a folder has no layer stream");
  }
}

// docker-daemon: and container: go to the Engine API (engine_test.cc, tests/integration/
// engine_test.sh), docker:// to a registry (registry_test.cc, tests/integration/registry_test.sh);
// here only that an unreachable daemon or registry is named.
TEST_F(SourceTest, UnreachableDaemonOrRegistryIsNamed) {
  const char* old = std::getenv("DOCKER_HOST");
  std::string saved = old ? old : "";
  ::setenv("DOCKER_HOST", "unix:///nonexistent/coroner-test.sock", 1);
  std::string daemon = error_of("docker-daemon:busybox");
  std::string container = error_of("container:abc");
  if (old) {
    ::setenv("DOCKER_HOST", saved.c_str(), 1);
  } else {
    ::unsetenv("DOCKER_HOST");
  }
  EXPECT_EQ(daemon.rfind("Docker daemon not reachable at unix:///nonexistent/coroner-test.sock", 0),
            0u)
      << daemon;
  EXPECT_EQ(
      container.rfind("Docker daemon not reachable at unix:///nonexistent/coroner-test.sock", 0),
      0u)
      << container;
  // Nothing listens on port 1; a loopback registry is tried with https, then http.
  std::string registry = error_of("docker://127.0.0.1:1/a:1");
  EXPECT_EQ(registry.rfind("docker://127.0.0.1:1/a:1: not reachable at "
                           "http://127.0.0.1:1/v2/: ",
                           0),
            0u)
      << registry;
  EXPECT_EQ(error_of("-", "linux"), "platform: \"linux\": expected OS/ARCH or OS/ARCH/VARIANT");
}

TEST_F(SourceTest, HistoryMismatchIsANote) {
  ImageBuilder img;
  img.layer(layer_tar("a"))
      .config(json{{"history", json::array({json{{"created_by", "x"}, {"empty_layer", true}}})}});
  auto src = open(write_dir(OciLayout().image(img).files()));
  ASSERT_EQ(src->info().notes.size(), 1u);
  EXPECT_EQ(src->info().notes[0],
            "config: history has 0 non-empty steps for 1 layers, so layers cannot be matched to "
            "build steps");
}

}  // namespace
}  // namespace coroner::image
