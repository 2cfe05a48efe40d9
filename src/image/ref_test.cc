#include "image/ref.h"

#include <gtest/gtest.h>

#include <map>

#include "base/error.h"

namespace coroner::image {
namespace {

// A file system in a map: path -> kind; everything else is missing.
class FakeProber : public PathProber {
 public:
  explicit FakeProber(std::map<std::string, PathKind> kinds) : kinds_(std::move(kinds)) {}
  PathKind probe(const std::string& path) const override {
    auto it = kinds_.find(path);
    return it == kinds_.end() ? PathKind::kMissing : it->second;
  }

 private:
  std::map<std::string, PathKind> kinds_;
};

std::string error_of(std::string_view text, const PathProber& p) {
  try {
    parse_ref(text, p);
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

const FakeProber kEmpty({});

TEST(RefTest, DashIsStdin) {
  Ref r = parse_ref("-", kEmpty);
  EXPECT_EQ(r.transport, Transport::kStdin);
  EXPECT_EQ(r.text, "-");
}

TEST(RefTest, DockerDaemonWithPrefix) {
  Ref r = parse_ref("docker-daemon:busybox:1.36", kEmpty);
  EXPECT_EQ(r.transport, Transport::kDockerDaemon);
  EXPECT_EQ(r.name, "busybox:1.36");
  EXPECT_FALSE(r.sniffed);
}

TEST(RefTest, BareNameTagThatIsNoPathIsDockerDaemon) {
  Ref r = parse_ref("localhost:5000/team/app:v1", kEmpty);
  EXPECT_EQ(r.transport, Transport::kDockerDaemon);
  EXPECT_EQ(r.name, "localhost:5000/team/app:v1");
  EXPECT_TRUE(r.sniffed);
  EXPECT_EQ(parse_ref("alpine", kEmpty).transport, Transport::kDockerDaemon);
}

TEST(RefTest, ContainerId) {
  Ref r = parse_ref("container:3f2a9c", kEmpty);
  EXPECT_EQ(r.transport, Transport::kContainer);
  EXPECT_EQ(r.name, "3f2a9c");
  EXPECT_EQ(error_of("container:", kEmpty),
            "image reference: container:: the container id or name is empty");
}

TEST(RefTest, Registry) {
  Ref r = parse_ref(
      "docker://ghcr.io/org/app@sha256:"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      kEmpty);
  EXPECT_EQ(r.transport, Transport::kRegistry);
  EXPECT_EQ(r.name.substr(0, 16), "ghcr.io/org/app@");
  EXPECT_EQ(error_of("docker://Bad Name", kEmpty),
            "image reference: docker://Bad Name: not a valid HOST/NAME[:TAG|@DIGEST]");
}

TEST(RefTest, DockerArchiveWithAndWithoutSelector) {
  FakeProber p({{"/x/img.tar", PathKind::kDockerArchive}});
  Ref a = parse_ref("docker-archive:/x/img.tar", p);
  EXPECT_EQ(a.transport, Transport::kDockerArchive);
  EXPECT_EQ(a.path, "/x/img.tar");
  EXPECT_EQ(a.selector, "");
  Ref b = parse_ref("docker-archive:/x/img.tar:busybox:latest", p);
  EXPECT_EQ(b.path, "/x/img.tar");
  EXPECT_EQ(b.selector, "busybox:latest");
  Ref c = parse_ref("docker-archive:/x/img.tar:@1", p);
  EXPECT_EQ(c.selector, "@1");
  EXPECT_EQ(error_of("docker-archive:/x/missing.tar", p),
            "image reference: docker-archive:/x/missing.tar: no such file");
}

TEST(RefTest, OciDirMayContainColons) {
  FakeProber p({{"/d/a:b", PathKind::kOciDirectory}, {"/d/plain", PathKind::kOciDirectory}});
  Ref whole = parse_ref("oci:/d/a:b", p);
  EXPECT_EQ(whole.path, "/d/a:b");
  EXPECT_EQ(whole.selector, "");
  Ref split = parse_ref("oci:/d/a:b:v1.2", p);
  EXPECT_EQ(split.path, "/d/a:b");
  EXPECT_EQ(split.selector, "v1.2");
  Ref ref_with_colon = parse_ref("oci:/d/plain:example.com/app:1", p);
  EXPECT_EQ(ref_with_colon.path, "/d/plain");
  EXPECT_EQ(ref_with_colon.selector, "example.com/app:1");
  EXPECT_EQ(error_of("oci:/d/plain:bad ref", p),
            "image reference: oci:/d/plain:bad ref: no such folder");
}

TEST(RefTest, OciArchiveWithRef) {
  FakeProber p({{"img.oci.tar", PathKind::kOciArchive}});
  Ref r = parse_ref("oci-archive:img.oci.tar:latest", p);
  EXPECT_EQ(r.transport, Transport::kOciArchive);
  EXPECT_EQ(r.path, "img.oci.tar");
  EXPECT_EQ(r.selector, "latest");
}

TEST(RefTest, TarAndRootfsCheckTheKindOfPath) {
  FakeProber p({{"fs.tar", PathKind::kFlatTar}, {"rootdir", PathKind::kDirectory}});
  EXPECT_EQ(parse_ref("tar:fs.tar", p).path, "fs.tar");
  EXPECT_EQ(parse_ref("rootfs:rootdir", p).transport, Transport::kRootfs);
  EXPECT_EQ(error_of("tar:rootdir", p),
            "image reference: tar:rootdir: a folder, not a tar file (use rootfs:DIR)");
  EXPECT_EQ(error_of("rootfs:fs.tar", p), "image reference: rootfs:fs.tar: not a folder");
}

TEST(RefTest, BarePathsAreSniffed) {
  FakeProber p({{"a", PathKind::kOciDirectory},
                {"b", PathKind::kDirectory},
                {"c.tar", PathKind::kDockerArchive},
                {"d.tar", PathKind::kOciArchive},
                {"e.tar", PathKind::kFlatTar},
                {"f.bin", PathKind::kOtherFile}});
  EXPECT_EQ(parse_ref("a", p).transport, Transport::kOci);
  EXPECT_EQ(parse_ref("b", p).transport, Transport::kRootfs);
  EXPECT_EQ(parse_ref("c.tar", p).transport, Transport::kDockerArchive);
  EXPECT_EQ(parse_ref("d.tar", p).transport, Transport::kOciArchive);
  Ref e = parse_ref("e.tar", p);
  EXPECT_EQ(e.transport, Transport::kTar);
  EXPECT_EQ(e.path, "e.tar");
  EXPECT_TRUE(e.sniffed);
  EXPECT_EQ(error_of("f.bin", p),
            "image reference: f.bin: not a tar archive, an OCI layout or a folder");
  EXPECT_EQ(error_of("./missing.tar", p),
            "image reference: ./missing.tar: no such file or folder, and not an image name");
}

TEST(RefTest, EmptyAndMalformed) {
  EXPECT_EQ(error_of("", kEmpty), "image reference: : empty");
  EXPECT_EQ(error_of("docker:busybox", kEmpty),
            "image reference: docker:busybox: a registry reference is docker://HOST/NAME[:TAG]");
  EXPECT_EQ(error_of("oci:", kEmpty), "image reference: oci:: the path is empty");
}

TEST(RefTest, DockerReferenceGrammar) {
  EXPECT_TRUE(is_docker_reference("busybox"));
  EXPECT_TRUE(is_docker_reference("library/busybox:1.36.1"));
  EXPECT_TRUE(is_docker_reference("my-registry.local:5000/a__b/c-d:tag_1"));
  EXPECT_FALSE(is_docker_reference("Busybox"));
  EXPECT_FALSE(is_docker_reference("a//b"));
  EXPECT_FALSE(is_docker_reference("a:"));
  EXPECT_FALSE(is_docker_reference("a@sha256:xyz"));
}

TEST(RefTest, TransportNames) {
  EXPECT_EQ(transport_name(Transport::kOciArchive), "oci-archive");
  EXPECT_EQ(transport_name(Transport::kRegistry), "docker");
  EXPECT_EQ(transport_name(Transport::kStdin), "-");
}

}  // namespace
}  // namespace coroner::image
