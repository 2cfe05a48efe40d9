#include "report/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>
#include <sstream>

namespace coroner::report {
namespace {

Report crlf_report() {
  Report r;
  r.image.ref = "docker-archive:demo.tar";
  r.image.platform = "linux/amd64";
  r.image.layers = 3;
  r.image.user = "app";
  r.image.entrypoint = {"/app/entry.sh"};
  r.image.cmd = {"serve"};
  r.image.workdir = "/app";
  r.verdict.starts = false;
  r.verdict.reason = "shebang-crlf";
  r.verdict.predicted_error = "exec /app/entry.sh: no such file or directory";
  r.verdict.predicted_exit = 1;
  r.verdict.exec_chain = {"/app/entry.sh", "/bin/sh\r"};
  rules::Finding f;
  f.rule = "shebang-crlf";
  f.path = "/app/entry.sh";
  f.layer_index = 1;
  f.layer_digest = "sha256:ab";
  f.created_by = "COPY app/ /app/";
  f.message = "\"/bin/sh\\r\" does not exist: the script has Windows (CRLF) line endings";
  f.fix = "convert it to LF";
  r.findings.push_back(f);
  r.stats = {12, 3456, 0.5};
  return r;
}

TEST(ReportJsonTest, SchemaV1) {
  nlohmann::json j = nlohmann::json::parse(to_json(crlf_report()));
  EXPECT_EQ(j["schema"], "coroner/diagnosis/v1");
  EXPECT_EQ(j["image"]["layers"], 3);
  EXPECT_EQ(j["image"]["entrypoint"][0], "/app/entry.sh");
  EXPECT_EQ(j["verdict"]["starts"], false);
  EXPECT_EQ(j["verdict"]["reason"], "shebang-crlf");
  EXPECT_EQ(j["verdict"]["exec_chain"][1], "/bin/sh\r");
  EXPECT_EQ(j["findings"][0]["layer_index"], 1);
  EXPECT_EQ(j["findings"][0]["severity"], "error");
  EXPECT_EQ(j["findings"][0]["created_by"], "COPY app/ /app/");
  EXPECT_EQ(j["stats"]["files"], 12);
  std::set<std::string> keys;
  for (auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"schema", "image", "verdict", "findings", "stats"}));
}

TEST(ReportJsonTest, StartsHasNullReason) {
  Report r;
  nlohmann::json j = nlohmann::json::parse(to_json(r));
  EXPECT_TRUE(j["verdict"]["reason"].is_null());
  EXPECT_TRUE(j["findings"].is_array());
}

TEST(ReportTextTest, VerdictFirstThenChain) {
  std::ostringstream out;
  render(crlf_report(), Format::kText, out);
  std::string s = out.str();
  EXPECT_EQ(s.rfind("The container will not start: Docker prints \"exec /app/entry.sh: no such "
                    "file or directory\" (exit code 1) [shebang-crlf].\n",
                    0),
            0u)
      << s;
  EXPECT_NE(s.find("  /app/entry.sh → /bin/sh\\r → \"/bin/sh\\r\" does not exist"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("— added in layer 1 (COPY app/ /app/) — fix: convert it to LF"),
            std::string::npos)
      << s;
}

}  // namespace
}  // namespace coroner::report
