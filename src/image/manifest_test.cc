#include "image/manifest.h"

#include <gtest/gtest.h>

#include <map>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "testing/error_of.h"

namespace coroner::image {
namespace {

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');
const std::string kD3 = "sha256:" + std::string(64, '3');

using coroner::testing::error_of;

TEST(ManifestTest, ConfigFieldsAreDecoded) {
  ImageConfig c = parse_image_config(R"({
    "os": "linux", "architecture": "arm", "variant": "v7",
    "config": {"User": "app:app", "Entrypoint": ["/entry.sh"], "Cmd": null,
               "Env": ["PATH=/usr/bin", "A=b"], "WorkingDir": "/srv",
               "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
               "Healthcheck": {"Test": ["CMD", "curl", "-f", "http://x/"]},
               "StopSignal": "SIGTERM", "Labels": {"k": "v"}},
    "rootfs": {"type": "layers", "diff_ids": [")" +
                                     kD1 + R"("]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "ADD x /"},
                {"created_by": "CMD", "empty_layer": true, "comment": "c"}]})");
  EXPECT_EQ(config_platform(c), "linux/arm/v7");
  EXPECT_EQ(c.user, "app:app");
  EXPECT_EQ(c.entrypoint, std::vector<std::string>{"/entry.sh"});
  EXPECT_TRUE(c.entrypoint_set);
  EXPECT_FALSE(c.cmd_set);
  EXPECT_EQ(c.env.size(), 2u);
  EXPECT_EQ(c.workdir, "/srv");
  EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
  EXPECT_EQ(c.healthcheck.size(), 4u);
  EXPECT_EQ(c.stop_signal, "SIGTERM");
  EXPECT_EQ(c.labels.at("k"), "v");
  EXPECT_EQ(c.diff_ids, std::vector<std::string>{kD1});
  ASSERT_EQ(c.history.size(), 2u);
  EXPECT_EQ(c.history[0].created, "2024-01-01T00:00:00Z");
  EXPECT_TRUE(c.history[1].empty_layer);
  EXPECT_EQ(c.history[1].comment, "c");
}

TEST(ManifestTest, EmptyArrayDiffersFromNullAndAbsent) {
  ImageConfig empty = parse_image_config(R"({"config": {"Entrypoint": [], "Cmd": []}})");
  EXPECT_TRUE(empty.entrypoint_set);
  EXPECT_TRUE(empty.cmd_set);
  ImageConfig absent = parse_image_config(R"({"config": {}})");
  EXPECT_FALSE(absent.entrypoint_set);
  EXPECT_FALSE(absent.cmd_set);
}

TEST(ManifestTest, WrongTypesNameTheKey) {
  EXPECT_EQ(error_of([] { parse_image_config(R"({"config": {"Cmd": "echo hi"}})", "config"); }),
            "config JSON: config: config.Cmd: expected an array of strings, got string");
  EXPECT_EQ(error_of([] { parse_image_config(R"({"config": {"Env": ["A", 1]}})", "c.json"); }),
            "config JSON: c.json: config.Env[1]: expected a string, got number");
  EXPECT_EQ(error_of([] { parse_image_config("[1]", "c.json"); }),
            "config JSON: c.json: expected an object, got array");
  EXPECT_EQ(error_of([] { parse_image_config(R"({"rootfs": {"diff_ids": ["x"]}})", "c"); }),
            "config JSON: c: rootfs.diff_ids[0]: not a sha256 digest: \"x\"");
}

TEST(ManifestTest, SyntaxErrorIsOneLineError) {
  std::string e = error_of([] { parse_image_config("{\"os\": ", "cfg"); });
  EXPECT_EQ(e.rfind("config JSON: cfg: ", 0), 0u) << e;
  EXPECT_EQ(e.find('\n'), std::string::npos);
}

TEST(ManifestTest, DeepNestingIsRefused) {
  std::string deep(100, '[');
  EXPECT_EQ(error_of([&] { parse_index(deep, "index.json"); }),
            "config JSON: index.json: nested more than 64 levels deep");
}

TEST(ManifestTest, DockerSaveManifest) {
  auto images = parse_docker_save_manifest(R"([{"Config": "abc.json", "RepoTags": ["a:1"],
      "Layers": ["x/layer.tar", "blobs/sha256/)" +
                                           std::string(64, 'a') + R"("],
      "LayerSources": {")" + kD1 + R"(": {"mediaType": "m", "digest": ")" +
                                           kD2 + R"(", "size": 3}}}])");
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].config, "abc.json");
  EXPECT_EQ(images[0].repo_tags, std::vector<std::string>{"a:1"});
  EXPECT_EQ(images[0].layers.size(), 2u);
  EXPECT_EQ(images[0].layer_sources.at(kD1).digest, kD2);
}

TEST(ManifestTest, DockerSaveManifestRefusesTraversal) {
  EXPECT_EQ(error_of([] {
              parse_docker_save_manifest(R"([{"Config": "a.json", "Layers": ["../../etc/x"]}])");
            }),
            "config JSON: manifest.json: [0].Layers[0]: unsafe member name \"../../etc/x\"");
  EXPECT_EQ(error_of([] { parse_docker_save_manifest(R"([{"Config": "/abs", "Layers": []}])"); }),
            "config JSON: manifest.json: [0].Config: unsafe member name \"/abs\"");
  EXPECT_EQ(error_of([] { parse_docker_save_manifest(R"([{"Config": "a", "Layers": "x"}])"); }),
            "config JSON: manifest.json: [0].Layers: expected an array, got string");
}

TEST(ManifestTest, NullArraysOfGoWritersAreEmpty) {
  // buildkit's export of an image without layers (containers/common's libimage test data): Go's
  // encoding/json writes nil slices as null.
  auto images = parse_docker_save_manifest(
      R"([{"Config":"blobs/sha256/71de","RepoTags":null,"Layers":null}])");
  ASSERT_EQ(images.size(), 1u);
  EXPECT_TRUE(images[0].layers.empty());
  EXPECT_TRUE(images[0].repo_tags.empty());
  ImageManifest m = parse_image_manifest(R"({"schemaVersion": 2, "config": {"mediaType": "c",
      "digest": ")" + kD1 + R"(", "size": 229}, "layers": null})");
  EXPECT_TRUE(m.layers.empty());
  ImageConfig c = parse_image_config(
      R"({"architecture":"amd64","config":{"Env":["PATH=/bin"],"OnBuild":null},"created":null,
          "history":null,"os":"linux","rootfs":{"type":"layers","diff_ids":null}})");
  EXPECT_TRUE(c.diff_ids.empty());
  EXPECT_TRUE(c.history.empty());
  EXPECT_TRUE(parse_index(R"({"schemaVersion": 2, "manifests": null})").manifests.empty());
  // Absent is still an error.
  EXPECT_EQ(error_of([] { parse_docker_save_manifest(R"([{"Config": "a"}])"); }),
            "config JSON: manifest.json: [0].Layers: missing");
}

TEST(ManifestTest, ImageManifestBothMediaTypes) {
  for (std::string_view mt : {kOciManifest, kDockerManifest}) {
    std::string text = R"({"schemaVersion": 2, "mediaType": ")" + std::string(mt) +
                       R"(", "config": {"mediaType": "c", "digest": ")" + kD1 +
                       R"(", "size": 10}, "layers": [{"mediaType": "l", "digest": ")" + kD2 +
                       R"(", "size": 20}]})";
    ImageManifest m = parse_image_manifest(text);
    EXPECT_EQ(m.media_type, mt);
    EXPECT_EQ(m.config.digest, kD1);
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.layers[0].size, 20u);
  }
}

TEST(ManifestTest, DigestTraversalIsRefused) {
  std::string text = R"({"config": {"mediaType": "c", "digest": "sha256:../../x", "size": 1},
                         "layers": []})";
  EXPECT_EQ(error_of([&] { parse_image_manifest(text, "blobs/sha256/ab"); }),
            "config JSON: blobs/sha256/ab: config.digest: not a sha256 digest: \"sha256:../../x\"");
  std::string neg = R"({"config": {"digest": ")" + kD1 + R"(", "size": -1}, "layers": []})";
  EXPECT_EQ(error_of([&] { parse_image_manifest(neg, "m"); }),
            "config JSON: m: config.size: expected a non-negative integer");
}

TEST(ManifestTest, IndexRefusesManifestMediaType) {
  std::string text = R"({"mediaType": ")" + std::string(kOciManifest) + R"(", "manifests": []})";
  EXPECT_EQ(
      error_of([&] { parse_index(text, "index.json"); }),
      "config JSON: index.json: mediaType: \"" + std::string(kOciManifest) + "\" is not an index");
}

std::string desc(const std::string& digest, std::string_view mt, std::string platform_json,
                 std::string extra = {}) {
  std::string s =
      R"({"mediaType": ")" + std::string(mt) + R"(", "digest": ")" + digest + R"(", "size": 1)";
  if (!platform_json.empty()) s += R"(, "platform": )" + platform_json;
  return s + extra + "}";
}

TEST(ManifestTest, SelectsPlatformSkippingAttestations) {
  std::string idx =
      R"({"manifests": [)" +
      desc(kD1, kOciManifest, R"({"os": "linux", "architecture": "amd64"})") + "," +
      desc(kD2, kOciManifest, R"({"os": "linux", "architecture": "arm64", "variant": "v8"})") +
      "," + desc(kD3, kOciManifest, R"({"os": "unknown", "architecture": "unknown"})") + "]}";
  ImageIndex index = parse_index(idx);
  BlobFetcher none = [](const Descriptor&) -> std::string { throw Error("unexpected fetch"); };
  EXPECT_EQ(select_platform(index, "linux/amd64", none, "index.json").digest, kD1);
  EXPECT_EQ(select_platform(index, "linux/arm64", none, "index.json").digest, kD2);
  EXPECT_EQ(select_platform(index, "linux/arm64/v8", none, "index.json").digest, kD2);
  EXPECT_EQ(error_of([&] { select_platform(index, "linux/s390x", none, "index.json"); }),
            "config JSON: index.json: no image for platform linux/s390x; available: linux/amd64, "
            "linux/arm64/v8 (choose one with --platform)");
}

TEST(ManifestTest, SingleImageOfAnotherPlatformIsTakenUnlessOneWasAsked) {
  std::string idx = R"({"manifests": [)" +
                    desc(kD1, kOciManifest, R"({"os": "linux", "architecture": "riscv64"})") + "]}";
  BlobFetcher none = [](const Descriptor&) -> std::string { throw Error("unexpected fetch"); };
  EXPECT_EQ(select_platform(parse_index(idx), "", none, "i").digest, kD1);
  EXPECT_EQ(error_of([&] { select_platform(parse_index(idx), "linux/amd64", none, "i"); }),
            "config JSON: i: no image for platform linux/amd64; available: linux/riscv64 (choose "
            "one with --platform)");
}

TEST(ManifestTest, AttestationByAnnotationIsSkipped) {
  std::string idx =
      R"({"manifests": [)" +
      desc(kD1, kOciManifest, "",
           R"(, "annotations": {"vnd.docker.reference.type": "attestation-manifest"})") +
      "," + desc(kD2, kOciManifest, "") + "]}";
  BlobFetcher none = [](const Descriptor&) -> std::string { throw Error("unexpected fetch"); };
  EXPECT_EQ(select_platform(parse_index(idx), "linux/amd64", none, "i").digest, kD2);
}

TEST(ManifestTest, NestedIndexIsFetched) {
  std::string inner =
      R"({"manifests": [)" +
      desc(kD3, kDockerManifest, R"({"os": "linux", "architecture": "arm", "variant": "v7"})") +
      "]}";
  std::string outer = R"({"manifests": [)" + desc(kD2, kOciIndex, "") + "]}";
  std::map<std::string, std::string> blobs{{kD2, inner}};
  BlobFetcher fetch = [&](const Descriptor& d) { return blobs.at(d.digest); };
  EXPECT_EQ(select_platform(parse_index(outer), "linux/arm", fetch, "index.json").digest, kD3);
}

TEST(ManifestTest, OnlyArtifactsIsAnError) {
  std::string idx = R"({"manifests": [)" +
                    desc(kD1, kOciManifest, "",
                         R"(, "artifactType": "application/vnd.cncf.helm.config.v1+json")") +
                    "]}";
  BlobFetcher none = [](const Descriptor&) -> std::string { throw Error("unexpected fetch"); };
  EXPECT_EQ(error_of([&] { select_platform(parse_index(idx), "", none, "index.json"); }),
            "config JSON: index.json: holds only artifacts, not a runnable image: " + kD1 +
                " (application/vnd.cncf.helm.config.v1+json)");
}

TEST(ManifestTest, ArtifactConfigIsNotRunnable) {
  std::string text = R"({"config": {"mediaType": "application/vnd.cncf.helm.config.v1+json",
      "digest": ")" + kD1 +
                     R"(", "size": 1}, "layers": []})";
  ImageManifest m = parse_image_manifest(text);
  EXPECT_EQ(error_of([&] { require_runnable(m, "manifest " + kD2); }),
            "config JSON: manifest " + kD2 +
                ": an artifact (config media type \"application/vnd.cncf.helm.config.v1+json\"), "
                "not a runnable image");
}

TEST(ManifestTest, PlatformNormalisation) {
  EXPECT_TRUE(platform_matches(parse_platform("linux/arm64"), {"linux", "aarch64", ""}));
  EXPECT_TRUE(platform_matches(parse_platform("linux/amd64"), {"linux", "x86_64", ""}));
  EXPECT_TRUE(platform_matches(parse_platform("linux/arm"), {"linux", "arm", "v7"}));
  EXPECT_FALSE(platform_matches(parse_platform("linux/arm"), {"linux", "arm", "v6"}));
  EXPECT_TRUE(platform_matches(parse_platform("linux/arm/v6"), {"linux", "arm", "6"}));
  EXPECT_FALSE(platform_matches(parse_platform("windows/amd64"), {"linux", "amd64", ""}));
  EXPECT_EQ(error_of([] { parse_platform("linux"); }),
            "platform: \"linux\": expected OS/ARCH or OS/ARCH/VARIANT");
  EXPECT_EQ(host_platform().rfind("linux/", 0), 0u);
}

TEST(ManifestTest, VerifyDigest) {
  std::string d = sha256_digest(as_bytes("abc"));
  EXPECT_NO_THROW(verify_digest("abc", d, "config"));
  EXPECT_EQ(error_of([&] {
              verify_digest("abd", d, "config");
            }).rfind("config: digest mismatch: expected " + d + ", got sha256:", 0),
            0u);
}

}  // namespace
}  // namespace coroner::image
