#include "image/engine.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "image/engine_source.h"

namespace coroner::image::engine {
namespace {

std::string frame(uint8_t stream, std::string_view data) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  uint32_t n = static_cast<uint32_t>(data.size());
  out[4] = static_cast<char>(n >> 24);
  out[5] = static_cast<char>(n >> 16);
  out[6] = static_cast<char>(n >> 8);
  out[7] = static_cast<char>(n);
  return out + std::string(data);
}

TEST(LogDecoderTest, DemultiplexesStdoutAndStderrInOrder) {
  std::string body = frame(1, "starting\n") + frame(2, "error: no config\n");
  auto frames = decode_multiplexed(as_bytes(body));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].stream, 1);
  EXPECT_EQ(frames[0].data, "starting\n");
  EXPECT_EQ(frames[1].stream, 2);
  EXPECT_EQ(frames[1].data, "error: no config\n");
}

TEST(LogDecoderTest, JoinsALineSplitOverFrames) {
  std::string body = frame(2, "err") + frame(2, "or\n") + frame(1, "x");
  auto lines = log_lines(body, false);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "error");
  EXPECT_EQ(lines[1], "x");
}

TEST(LogDecoderTest, TruncatedPayloadIsAnError) {
  std::string body = frame(1, "hello");
  body.pop_back();
  EXPECT_THROW(decode_multiplexed(as_bytes(body)), Error);
  EXPECT_THROW(decode_multiplexed(as_bytes(std::string("\x01\0\0", 3))), Error);
}

TEST(LogDecoderTest, TtyTextIsReadAsLinesWithCrStripped) {
  auto lines = log_lines("a\r\nb\nc", true);
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c"}));
  // TTY bytes are not frames: a TTY log read as multiplexed names the problem.
  EXPECT_THROW(log_lines("hello world\n", false), Error);
}

TEST(DockerHostTest, ParsesUnixTcpAndBareHostPort) {
  Endpoint u = parse_docker_host("unix:///run/user/1000/docker.sock");
  EXPECT_EQ(u.kind, Endpoint::Kind::kUnix);
  EXPECT_EQ(u.address, "/run/user/1000/docker.sock");
  Endpoint t = parse_docker_host("tcp://10.0.0.1");
  EXPECT_EQ(t.kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(t.address, "10.0.0.1:2375");
  EXPECT_EQ(parse_docker_host("tcp://h", /*tls=*/true).address, "h:2376");
  EXPECT_EQ(parse_docker_host("h:1234").address, "h:1234");
  EXPECT_EQ(parse_docker_host("tcp://[::1]").address, "[::1]:2375");
  EXPECT_EQ(parse_docker_host("tcp://[::1]:99/").address, "[::1]:99");
}

TEST(DockerHostTest, RejectsSshNpipeAndRelativeSockets) {
  EXPECT_THROW(parse_docker_host("ssh://me@host"), Error);
  EXPECT_THROW(parse_docker_host("npipe:////./pipe/docker_engine"), Error);
  EXPECT_THROW(parse_docker_host("unix://relative.sock"), Error);
  EXPECT_THROW(parse_docker_host("tcp://host/path"), Error);
  EXPECT_THROW(parse_docker_host("gopher://x"), Error);
}

class ContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("CORONER_TEST_TMP");
    dir_ =
        std::filesystem::path(base ? base : "/tmp") / ("engine-ctx-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::filesystem::path& rel, std::string_view text) {
    std::filesystem::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel) << text;
  }
  std::string hex(std::string_view name) { return sha256_digest(as_bytes(name)).substr(7); }
  EndpointInputs inputs() {
    EndpointInputs in;
    in.config_dir = dir_.string();
    return in;
  }
  std::filesystem::path dir_;
};

TEST_F(ContextTest, DefaultSocketWithoutConfig) {
  Endpoint e = resolve_endpoint(inputs());
  EXPECT_EQ(e.url(), "unix:///var/run/docker.sock");
  EXPECT_EQ(e.origin, "default");
}

TEST_F(ContextTest, CurrentContextFromConfigJsonWithTls) {
  write("config.json", R"({"currentContext": "remote"})");
  write(
      "contexts/meta/" + hex("remote") + "/meta.json",
      R"({"Name":"remote","Endpoints":{"docker":{"Host":"tcp://build:2376","SkipTLSVerify":false}}})");
  write("contexts/tls/" + hex("remote") + "/docker/ca.pem", "x");
  Endpoint e = resolve_endpoint(inputs());
  EXPECT_EQ(e.kind, Endpoint::Kind::kTcp);
  EXPECT_EQ(e.address, "build:2376");
  EXPECT_TRUE(e.tls);
  EXPECT_TRUE(e.tls_verify);
  EXPECT_EQ(e.ca_file, (dir_ / "contexts/tls" / hex("remote") / "docker/ca.pem").string());
  EXPECT_EQ(e.origin, "context remote");
}

TEST_F(ContextTest, DockerHostWinsOverContextAndDockerContextOverConfig) {
  write("config.json", R"({"currentContext": "missing"})");
  write(
      "contexts/meta/" + hex("rootless") + "/meta.json",
      R"({"Name":"rootless","Endpoints":{"docker":{"Host":"unix:///run/user/1000/docker.sock"}}})");
  EndpointInputs in = inputs();
  in.docker_host = "unix:///tmp/d.sock";
  EXPECT_EQ(resolve_endpoint(in).address, "/tmp/d.sock");
  in.docker_host.clear();
  in.docker_context = "rootless";
  EXPECT_EQ(resolve_endpoint(in).address, "/run/user/1000/docker.sock");
  in.docker_context.clear();
  EXPECT_THROW(resolve_endpoint(in), Error);  // config.json names a context that is not there
}

TEST_F(ContextTest, DockerTlsVerifyUsesCertPath) {
  EndpointInputs in = inputs();
  in.docker_host = "tcp://h";
  in.docker_tls_verify = "1";
  in.docker_cert_path = "/certs";
  Endpoint e = resolve_endpoint(in);
  EXPECT_EQ(e.address, "h:2376");
  EXPECT_TRUE(e.tls);
  EXPECT_EQ(e.cert_file, "/certs/cert.pem");
  EXPECT_EQ(e.key_file, "/certs/key.pem");
}

TEST(ApiVersionTest, TakesTheLowerAndRefusesTooOld) {
  EXPECT_EQ(negotiate_api_version("1.43"), "1.41");
  EXPECT_EQ(negotiate_api_version("1.40"), "1.40");
  EXPECT_EQ(negotiate_api_version("1.41"), "1.41");
  EXPECT_THROW(negotiate_api_version("1.12"), Error);
  EXPECT_THROW(negotiate_api_version("v1"), Error);
}

TEST(IdPrefixTest, MatchesHexPrefixesOnly) {
  std::vector<std::string> ids = {"sha256:abc111", "sha256:abc222", "sha256:def333"};
  EXPECT_EQ(ids_with_prefix(ids, "abc").size(), 2u);
  EXPECT_EQ(ids_with_prefix(ids, "abc1"), (std::vector<std::string>{"sha256:abc111"}));
  EXPECT_TRUE(ids_with_prefix(ids, "busybox").empty());
  EXPECT_TRUE(ids_with_prefix(ids, "").empty());
}

TEST(ResolveIdTest, AmbiguousShortIdListsEveryCandidate) {
  Response not_found{404, R"({"message":"No such image: abc"})"};
  std::vector<std::string> ids = {"sha256:abc1110000000000", "sha256:abc2220000000000",
                                  "sha256:def3330000000000"};
  try {
    resolve_id("image", "abc", not_found, ids);
    FAIL() << "no error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("matches 2 images"), std::string::npos) << m;
    EXPECT_NE(m.find("abc111000000"), std::string::npos) << m;
    EXPECT_NE(m.find("abc222000000"), std::string::npos) << m;
  }
  EXPECT_THROW(resolve_id("image", "fff", not_found, ids), Error);
  Response ok{200, R"({"Id":"sha256:def3330000000000"})"};
  EXPECT_EQ(resolve_id("image", "def", ok, ids), "sha256:def3330000000000");
}

TEST(ConfigFromInspectTest, HistoryIsOldestFirstWithMetadataStepsEmpty) {
  std::string inspect = R"({"Id":"sha256:x","Os":"linux","Architecture":"amd64",
    "Config":{"Cmd":["/app/x"],"WorkingDir":"/app","Env":["A=1"],"Entrypoint":null},
    "RootFS":{"Type":"layers","Layers":["sha256:)" +
                        std::string(64, 'a') + R"(","sha256:)" + std::string(64, 'b') + R"("]}})";
  std::string history = R"([
    {"Created":1700000003,"CreatedBy":"/bin/sh -c #(nop)  CMD [\"/app/x\"]","Size":0},
    {"Created":1700000002,"CreatedBy":"/bin/sh -c #(nop) COPY file:1 in /app/x ","Size":64},
    {"Created":1700000001,"CreatedBy":"/bin/sh -c #(nop)  ENV A=1","Size":0},
    {"Created":1700000000,"CreatedBy":"","Size":1982296,"Comment":"Imported from -"}])";
  std::vector<std::string> notes;
  ImageConfig c = config_from_inspect(inspect, history, notes);
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"/app/x"}));
  EXPECT_EQ(c.workdir, "/app");
  EXPECT_EQ(c.diff_ids.size(), 2u);
  ASSERT_EQ(c.history.size(), 4u);
  EXPECT_EQ(c.history[0].comment, "Imported from -");
  EXPECT_FALSE(c.history[0].empty_layer);
  EXPECT_TRUE(c.history[1].empty_layer);
  EXPECT_FALSE(c.history[2].empty_layer);  // COPY under #(nop) still makes a layer
  EXPECT_TRUE(c.history[3].empty_layer);
  EXPECT_EQ(c.history[0].created, "2023-11-14T22:13:20Z");
}

TEST(SuspectedCauseTest, ExitCodesAndLogs) {
  ContainerState c;
  c.status = "exited";
  c.exit_code = 137;
  c.oom_killed = true;
  EXPECT_EQ(image::suspected_cause(c), "out of memory (OOMKilled)");
  c.oom_killed = false;
  EXPECT_NE(image::suspected_cause(c).find("killed"), std::string::npos);
  c.exit_code = 127;
  EXPECT_EQ(image::suspected_cause(c), "command not found");
  c.exit_code = 139;
  EXPECT_NE(image::suspected_cause(c).find("segmentation fault"), std::string::npos);
  c.exit_code = 1;
  c.log_tail = {"listening", "Error: cannot open /etc/app.conf", "bye"};
  EXPECT_EQ(image::suspected_cause(c), "Error: cannot open /etc/app.conf");
}

}  // namespace
}  // namespace coroner::image::engine

namespace coroner::image::engine {
namespace {

ContainerState exited(int code) {
  ContainerState c;
  c.status = "exited";
  c.exit_code = code;
  return c;
}

TEST(ExplainExitTest, SignalsAreNamedWithTheArithmetic) {
  ExitExplanation x = image::explain_exit(exited(139));
  EXPECT_EQ(x.signal, 11);
  EXPECT_NE(x.summary.find("killed by SIGSEGV (exit code 139 = 128 + 11)"), std::string::npos);
  EXPECT_NE(x.summary.find("segmentation fault"), std::string::npos);
  x = image::explain_exit(exited(143));
  EXPECT_EQ(x.signal, 15);
  EXPECT_NE(x.detail.find("docker stop"), std::string::npos);
  x = image::explain_exit(exited(137));
  EXPECT_EQ(x.signal, 9);
  EXPECT_NE(x.detail.find("OOMKilled is false"), std::string::npos);
}

TEST(ExplainExitTest, OomKilledBeatsThePlainSigkill) {
  ContainerState c = exited(137);
  c.oom_killed = true;
  c.log_tail = {"allocating", "still allocating"};
  ExitExplanation x = image::explain_exit(c);
  EXPECT_EQ(x.summary.rfind("out of memory", 0), 0u);
  EXPECT_NE(x.summary.find("OOMKilled"), std::string::npos);
  // No error line: the last lines say what it was doing.
  EXPECT_EQ(x.log_errors, (std::vector<std::string>{"allocating", "still allocating"}));
}

TEST(ExplainExitTest, StateErrorOfAFailedStartIsQuoted) {
  ContainerState c = exited(127);
  c.error = "exec: \"nope\": executable file not found in $PATH";
  ExitExplanation x = image::explain_exit(c);
  EXPECT_NE(x.summary.find("not found (exit code 127)"), std::string::npos);
  EXPECT_NE(x.summary.find("executable file not found in $PATH"), std::string::npos);
  c.exit_code = 128;
  c.error = "unable to find user nobody2: no matching entries in passwd file";
  x = image::explain_exit(c);
  EXPECT_NE(x.summary.find("`docker run` exits 125"), std::string::npos);
}

TEST(ExplainExitTest, ExitOneQuotesTheLastErrorLinesOldestFirst) {
  ContainerState c = exited(1);
  c.log_tail = {"starting", "ERROR: cannot bind :80", "retrying", "FATAL: giving up", "bye"};
  ExitExplanation x = image::explain_exit(c);
  EXPECT_NE(x.summary.find("status 1"), std::string::npos);
  EXPECT_EQ(x.log_errors, (std::vector<std::string>{"ERROR: cannot bind :80", "FATAL: giving up"}));
  EXPECT_FALSE(x.signal);
}

TEST(ExplainExitTest, ShellNotFoundIs127WithItsLine) {
  ContainerState c = exited(127);
  c.log_tail = {"/entry.sh: line 3: gunicorn: not found"};
  ExitExplanation x = image::explain_exit(c);
  EXPECT_NE(x.summary.find("not found (exit code 127)"), std::string::npos);
  EXPECT_EQ(x.log_errors, c.log_tail);
}

TEST(ExplainExitTest, SignalNames) {
  EXPECT_EQ(image::signal_name(9), "SIGKILL");
  EXPECT_EQ(image::signal_name(6), "SIGABRT");
  EXPECT_EQ(image::signal_name(40), "signal 40");
}

}  // namespace
}  // namespace coroner::image::engine
