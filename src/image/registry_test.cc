#include "image/registry.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/error.h"
#include "image/manifest.h"
#include "testing/error_of.h"
#include "testing/image_builder.h"

namespace coroner::image::registry {
namespace {

using coroner::testing::error_of;

TEST(RegistryNameTest, NormalisesAsDockerDoes) {
  Name n = parse_name("busybox");
  EXPECT_EQ(n.domain, "docker.io");
  EXPECT_EQ(n.repository, "library/busybox");
  EXPECT_EQ(n.tag, "latest");
  EXPECT_EQ(n.api_host(), "registry-1.docker.io");
  EXPECT_EQ(n.str(), "docker.io/library/busybox:latest");

  n = parse_name("index.docker.io/bitnami/redis:7.2");
  EXPECT_EQ(n.domain, "docker.io");
  EXPECT_EQ(n.repository, "bitnami/redis");
  EXPECT_EQ(n.reference(), "7.2");

  n = parse_name("localhost:5000/team/app");
  EXPECT_EQ(n.domain, "localhost:5000");
  EXPECT_EQ(n.repository, "team/app");
  EXPECT_EQ(n.api_host(), "localhost:5000");
  EXPECT_EQ(n.tag, "latest");

  std::string digest = "sha256:" + std::string(64, 'a');
  n = parse_name("ghcr.io/org/app:v1@" + digest);
  EXPECT_EQ(n.domain, "ghcr.io");
  EXPECT_EQ(n.tag, "v1");
  EXPECT_EQ(n.reference(), digest);  // the digest wins over the tag, as in docker pull
  EXPECT_EQ(n.str(), "ghcr.io/org/app@" + digest);

  // "org/app": the first component has no dot, colon or "localhost", so it is a Hub path.
  n = parse_name("org/app:1");
  EXPECT_EQ(n.domain, "docker.io");
  EXPECT_EQ(n.repository, "org/app");

  EXPECT_EQ(error_of([] { parse_name("Bad Name"); }),
            "docker://Bad Name: not a valid HOST/NAME[:TAG|@DIGEST]");
  EXPECT_EQ(error_of([] { parse_name("UPPER/case"); }),
            "docker://UPPER/case: not a valid HOST/NAME[:TAG|@DIGEST]");
}

TEST(RegistryNameTest, LoopbackRegistriesAreInsecureAsInDocker) {
  for (const char* d : {"localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000",
                        "127.1.2.3:80", "[::1]:5000"}) {
    EXPECT_TRUE(is_loopback(d)) << d;
  }
  for (const char* d : {"ghcr.io", "127.0.0.1.example.com", "10.0.0.1:5000", "128.0.0.1",
                        "localhost.example.com:5000", "[::2]:5000", "127.0.0"}) {
    EXPECT_FALSE(is_loopback(d)) << d;
  }
}

TEST(RegistryNameTest, CertsDirsAsDockerReadsThem) {
  std::string root = testing::make_temp_dir();
  std::string other = root + "/containers";
  auto touch = [](const std::string& path) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << "x";
  };
  touch(root + "/docker/reg.example:5000/ca.crt");
  touch(root + "/docker/reg.example:5000/extra.crt");
  touch(root + "/docker/reg.example:5000/client.cert");
  touch(root + "/docker/reg.example:5000/client.key");
  touch(root + "/docker/lonely.example/client.cert");
  touch(other + "/podman.example/ca.crt");
  std::vector<std::string> roots = {root + "/docker", other};
  auto c = find_certs_dir("reg.example:5000", roots);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ca_files, (std::vector<std::string>{root + "/docker/reg.example:5000/ca.crt",
                                                   root + "/docker/reg.example:5000/extra.crt"}));
  EXPECT_EQ(c->cert_file, root + "/docker/reg.example:5000/client.cert");
  EXPECT_EQ(c->key_file, root + "/docker/reg.example:5000/client.key");
  c = find_certs_dir("podman.example", roots);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->ca_files.size(), 1u);
  EXPECT_TRUE(c->cert_file.empty());
  EXPECT_FALSE(find_certs_dir("reg.example", roots));  // the port is part of the name
  EXPECT_EQ(error_of([&] { find_certs_dir("lonely.example", roots); }),
            root +
                "/docker/lonely.example/client.cert: a client certificate without its key "
                "client.key");
  std::filesystem::remove_all(root);
}

TEST(RegistryAuthTest, ParsesChallenges) {
  auto c = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",)"
      R"(scope="repository:library/busybox:pull")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull");

  c = parse_challenges(
      R"(Basic realm="Registry \"Realm\", one", BEARER Realm=http://t/x ,error=x)");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry \"Realm\", one");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "http://t/x");
  EXPECT_EQ(c[1].params["error"], "x");

  EXPECT_TRUE(parse_challenges("").empty());
  // Garbage is no challenge or a challenge without parameters, never a crash.
  EXPECT_EQ(parse_challenges("=,=\"").size(), 0u);
  c = parse_challenges(R"(Bearer realm="unterminated)");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].params["realm"], "unterminated");
}

HelperRunner no_helper() {
  return [](const std::string& helper, const std::string&) -> std::optional<std::string> {
    throw Error("unexpected helper " + helper);
  };
}

TEST(RegistryAuthTest, FindsCredentialsInAuths) {
  // "dXNlcjpwYTpzcw==" is base64("user:pa:ss"): the password may hold a colon.
  std::string config = R"({"auths": {
      "https://index.docker.io/v1/": {"auth": "aHViOnNlY3JldA=="},
      "http://127.0.0.1:5000": {"auth": "dXNlcjpwYTpzcw=="},
      "ghcr.io": {"username": "u2", "password": "p2"},
      "quay.io": {"identitytoken": "refresh-me"},
      "empty.example": {}
  }})";
  auto c = find_credentials(config, "docker.io", no_helper(), "cfg.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "hub");
  EXPECT_EQ(c->password, "secret");
  EXPECT_EQ(c->origin, "cfg.json auths");
  c = find_credentials(config, "127.0.0.1:5000", no_helper(), "cfg.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "user");
  EXPECT_EQ(c->password, "pa:ss");
  c = find_credentials(config, "ghcr.io", no_helper(), "cfg.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "u2");
  c = find_credentials(config, "quay.io", no_helper(), "cfg.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->identity_token, "refresh-me");
  EXPECT_FALSE(find_credentials(config, "empty.example", no_helper(), "cfg.json"));
  EXPECT_FALSE(find_credentials(config, "127.0.0.1:5001", no_helper(), "cfg.json"));
  EXPECT_FALSE(find_credentials("{}", "ghcr.io", no_helper(), "cfg.json"));

  EXPECT_EQ(error_of([] { find_credentials("[", "x.io", no_helper(), "/h/.docker/config.json"); }),
            "/h/.docker/config.json: not a JSON object");
  EXPECT_EQ(error_of([] {
              find_credentials(R"({"auths": {"x.io": {"auth": "bm9jb2xvbg=="}}})", "x.io",
                               no_helper(), "c.json");
            }),
            "c.json: auths.x.io.auth: not base64 of USER:PASSWORD");
  EXPECT_EQ(error_of([] {
              find_credentials(R"({"auths": {"x.io": {"auth": "%%%"}}})", "x.io", no_helper(),
                               "c.json");
            }),
            "c.json: auths.x.io.auth: not base64 of USER:PASSWORD");
  EXPECT_EQ(error_of([] {
              find_credentials(R"({"auths": {"x.io": 5}})", "x.io", no_helper(), "c.json");
            }),
            "c.json: auths.x.io: not an object");
}

TEST(RegistryAuthTest, CredentialHelpersComeFirst) {
  std::vector<std::pair<std::string, std::string>> calls;
  HelperRunner run = [&](const std::string& helper,
                         const std::string& server) -> std::optional<std::string> {
    calls.emplace_back(helper, server);
    if (helper == "none") return std::nullopt;
    if (helper == "ecr-login") return R"({"Username": "AWS", "Secret": "tok"})";
    return R"({"Username": "<token>", "Secret": "idt"})";
  };
  std::string config = R"({"credHelpers": {"1234.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"},
      "credsStore": "desktop", "auths": {"ghcr.io": {"auth": "dTpw"}}})";
  auto c = find_credentials(config, "1234.dkr.ecr.us-east-1.amazonaws.com", run, "c.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "AWS");
  EXPECT_EQ(c->password, "tok");
  EXPECT_EQ(c->origin, "credential helper docker-credential-ecr-login");
  // credsStore covers every other registry, even one listed in auths (as in the docker CLI).
  c = find_credentials(config, "ghcr.io", run, "c.json");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->identity_token, "idt");
  EXPECT_TRUE(c->username.empty());
  c = find_credentials(config, "docker.io", run, "c.json");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[2],
            (std::pair<std::string, std::string>{"desktop", "https://index.docker.io/v1/"}));
  EXPECT_FALSE(find_credentials(R"({"credsStore": "none"})", "x.io", run, "c.json"));
  EXPECT_EQ(
      error_of([&] {
        find_credentials(R"({"credsStore": "bad"})", "x.io",
                         [](const std::string&, const std::string&) {
                           return std::optional<std::string>("not json");
                         },
                         "c.json");
      }),
      "credential helper docker-credential-bad: its output is not {\"Username\", \"Secret\"}");
}

// The real runner: a helper script on PATH, run as the docker CLI runs it.
TEST(RegistryAuthTest, RunsHelperPrograms) {
  std::string dir = testing::make_temp_dir();
  auto write_helper = [&](const std::string& name, const std::string& body) {
    std::string path = dir + "/docker-credential-" + name;
    std::ofstream(path) << "#!/bin/sh\n" << body;
    ::chmod(path.c_str(), 0755);
  };
  write_helper("good", R"(read server; [ "$1" = get ] || exit 3
echo "{\"ServerURL\":\"$server\",\"Username\":\"u-$server\",\"Secret\":\"s\"}"
)");
  write_helper("none", "echo 'credentials not found in native keychain'; exit 1\n");
  write_helper("broken", "echo 'keychain locked' >&2; exit 1\n");
  const char* old = std::getenv("PATH");
  std::string saved = old ? old : "";
  ::setenv("PATH", (dir + ":" + saved).c_str(), 1);
  HelperRunner run = exec_helper_runner();
  auto good = run("good", "reg.example:5000");
  auto none = run("none", "x");
  std::string broken = error_of([&] { run("broken", "x"); });
  std::string missing = error_of([&] { run("missing-helper", "x"); });
  ::setenv("PATH", saved.c_str(), 1);
  std::filesystem::remove_all(dir);

  ASSERT_TRUE(good);
  EXPECT_EQ(*good,
            "{\"ServerURL\":\"reg.example:5000\",\"Username\":\"u-reg.example:5000\","
            "\"Secret\":\"s\"}\n");
  EXPECT_FALSE(none);
  EXPECT_EQ(broken, "credential helper docker-credential-broken get: keychain locked");
  EXPECT_EQ(missing.rfind("credential helper docker-credential-missing-helper: cannot run it (", 0),
            0u)
      << missing;
}

TEST(RegistryReplyTest, ErrorMessagesAndTokens) {
  EXPECT_EQ(error_message(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest )"
                               R"(unknown","detail":{"Tag":"nope"}}]})"),
            "MANIFEST_UNKNOWN: manifest unknown (HTTP 404)");
  EXPECT_EQ(error_message(401, R"({"errors":[{"code":"UNAUTHORIZED"},{"message":"m"}]})"),
            "UNAUTHORIZED; m (HTTP 401)");
  EXPECT_EQ(error_message(502, "<html>Bad gateway\n</html>"),
            "<html>Bad gateway\\n</html> (HTTP 502)");
  EXPECT_EQ(error_message(500, ""), "HTTP 500");

  EXPECT_EQ(parse_token_reply(R"({"token": "abc", "expires_in": 300})"), "abc");
  EXPECT_EQ(parse_token_reply(R"({"access_token": "def"})"), "def");
  EXPECT_EQ(error_of([] { parse_token_reply("{}"); }), "the token server's reply has no token");
  EXPECT_EQ(error_of([] { parse_token_reply(R"({"token": "a\r\nX-Evil: 1"})"); }),
            "the token server's token has a control character or space");
}

TEST(RegistryReplyTest, ManifestKindFromFieldHeaderOrShape) {
  const std::string oci_manifest(kOciManifest), oci_index(kOciIndex);
  const std::string docker_manifest(kDockerManifest);
  // The field wins over the header.
  EXPECT_EQ(
      media_type_of(R"({"mediaType": ")" + docker_manifest + R"("})", "application/json", "m"),
      docker_manifest);
  // No field: the header, when it names a kind.
  EXPECT_EQ(media_type_of(R"({"schemaVersion": 2})", oci_index, "m"), oci_index);
  // Neither: the shape.
  EXPECT_EQ(media_type_of(R"({"schemaVersion": 2, "manifests": []})", "application/json", "m"),
            oci_index);
  EXPECT_EQ(media_type_of(R"({"schemaVersion": 2, "config": {}, "layers": []})", "", "m"),
            oci_manifest);
  EXPECT_EQ(media_type_of(R"({"schemaVersion": 1, "fsLayers": []})", "application/json", "m"),
            std::string(kSchema1) + "+json");
  EXPECT_EQ(media_type_of(R"({"schemaVersion": 2})", "text/plain", "m"), "text/plain");
  EXPECT_EQ(
      error_of([] { media_type_of("[1]", "", "manifest x"); }).rfind("config JSON: manifest x", 0),
      0u);
}

}  // namespace
}  // namespace coroner::image::registry
