#include "report/report.h"

#include "report/filesystem.h"
#include "rules/rules.h"
#include "testing/tree_builder.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
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
  EXPECT_EQ(j["verdict"]["predicted_exit"], 1);
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
  EXPECT_TRUE(j["verdict"]["predicted_exit"].is_null());
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

TEST(ReportTextTest, QuietPrintsTheVerdictLineAlone) {
  std::ostringstream out;
  TextOptions o;
  o.quiet = true;
  render(crlf_report(), Format::kText, out, o);
  EXPECT_EQ(out.str(),
            "The container will not start: Docker prints \"exec /app/entry.sh: no such file or "
            "directory\" (exit code 1) [shebang-crlf].\n");
}

TEST(ReportTextTest, GroupsBySeverityThenRule) {
  Report r = crlf_report();
  rules::Finding w;
  w.rule = "stale-pid-file";
  w.severity = rules::Severity::kWarning;
  w.path = "/run/a.pid";
  w.message = "baked in";
  r.findings.push_back(w);
  w.path = "/run/b.pid";
  r.findings.push_back(w);
  std::ostringstream out;
  render(r, Format::kText, out);
  std::string s = out.str();
  size_t errors = s.find("\nerrors (1):\n  shebang-crlf: ");
  size_t warnings = s.find("\nwarnings (2):\n  stale-pid-file: ");
  ASSERT_NE(errors, std::string::npos) << s;
  ASSERT_NE(warnings, std::string::npos) << s;
  EXPECT_LT(errors, warnings);
  // One heading for the rule, one block per finding.
  EXPECT_EQ(s.find("stale-pid-file:", warnings + 20), std::string::npos) << s;
  EXPECT_NE(s.find("    /run/a.pid\n      baked in\n    /run/b.pid\n"), std::string::npos) << s;
  EXPECT_EQ(s.find("\x1b["), std::string::npos);
}

TEST(ReportTextTest, WrapsToTheWidthAndColoursOnlyWhenAsked) {
  Report r = crlf_report();
  r.findings[0].fix =
      std::string(30, 'a') + " " + std::string(30, 'b') + " " + std::string(30, 'c');
  std::ostringstream out;
  TextOptions o;
  o.width = 60;
  o.color = true;
  render(r, Format::kText, out, o);
  std::string s = out.str();
  EXPECT_NE(s.find("      fix: " + std::string(30, 'a') + "\n        " + std::string(30, 'b') +
                   "\n        " + std::string(30, 'c') + "\n"),
            std::string::npos)
      << s;
  EXPECT_NE(s.find("\x1b[1;31mThe container will not start\x1b[0m"), std::string::npos);
}

TEST(ReportSarifTest, RulesFromTheTableAndResultsWithLocations) {
  Report r = crlf_report();
  rules::Finding cfg;
  cfg.rule = "user-unknown";
  cfg.message = "no user app";
  r.findings.push_back(cfg);
  rules::Finding odd;
  odd.rule = "stale-pid-file";
  odd.severity = rules::Severity::kInfo;
  odd.path = "/run/my app#1%.pid";
  r.findings.push_back(odd);
  nlohmann::json j = nlohmann::json::parse(to_sarif(r));
  EXPECT_EQ(j["version"], "2.1.0");
  const nlohmann::json& run = j["runs"][0];
  const nlohmann::json& rules_json = run["tool"]["driver"]["rules"];
  ASSERT_EQ(rules_json.size(), rules::all_rules().size());
  EXPECT_EQ(rules_json[0]["id"], rules::all_rules()[0].id);
  EXPECT_EQ(rules_json[0]["helpUri"], std::string(repo_url()) + "/blob/main/docs/rules.md#" +
                                          std::string(rules::all_rules()[0].id));
  EXPECT_TRUE(rules_json[0]["help"].contains("markdown"));
  const nlohmann::json& res = run["results"];
  ASSERT_EQ(res.size(), 3u);
  EXPECT_EQ(res[0]["ruleId"], "shebang-crlf");
  EXPECT_EQ(res[0]["level"], "error");
  EXPECT_EQ(rules_json[res[0]["ruleIndex"].get<size_t>()]["id"], "shebang-crlf");
  const nlohmann::json& loc = res[0]["locations"][0]["physicalLocation"]["artifactLocation"];
  EXPECT_EQ(loc["uri"], "app/entry.sh");
  EXPECT_EQ(loc["uriBaseId"], "IMAGEROOT");
  EXPECT_EQ(res[0]["locations"][1]["logicalLocations"][0]["name"], "COPY app/ /app/");
  EXPECT_EQ(res[0]["properties"]["layer_index"], 1);
  EXPECT_EQ(res[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "Dockerfile");
  EXPECT_EQ(res[1]["locations"].size(), 1u);
  EXPECT_EQ(res[2]["level"], "note");
  EXPECT_EQ(res[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "run/my%20app%231%25.pid");
  EXPECT_TRUE(run["originalUriBaseIds"].contains("IMAGEROOT"));
  EXPECT_EQ(run["properties"]["verdict"]["reason"], "shebang-crlf");
  EXPECT_EQ(run["properties"]["verdict"]["predicted_exit"], 1);  // as in the JSON report
}

TEST(ReportHtmlTest, SelfContainedAndEscaped) {
  Report r = crlf_report();
  r.findings[0].path = "/app/</script><img src=x onerror=alert(1)>";
  r.image.ref = "<b>ref</b>";
  testing::TreeBuilder b;
  b.file("app/</script><script>alert(1)</script>", 10);
  fs::Tree t = b.build();
  r.filesystem = summarize_filesystem(t);
  r.layers.push_back({0, "sha256:ab", "COPY <x> /", 100, 50, 1, 0, 0, 40});
  std::string h = to_html(r);
  EXPECT_NE(h.find("content=\"default-src 'none'; style-src 'unsafe-inline'; script-src "
                   "'unsafe-inline'\""),
            std::string::npos);
  EXPECT_EQ(h.find("<img"), std::string::npos);
  EXPECT_EQ(h.find("<b>ref"), std::string::npos);
  EXPECT_NE(h.find("&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  // "app/</script><script>alert(1)</script>" is the names "<", "script><script>alert(1)<"...
  EXPECT_NE(h.find("\"script>\\u003cscript>alert(1)\\u003c\""), std::string::npos);
  EXPECT_EQ(h.find("<script>alert"), std::string::npos);
  EXPECT_NE(h.find("COPY &lt;x&gt; /"), std::string::npos);
  EXPECT_NE(h.find("The container will not start"), std::string::npos);
  // Nothing the browser could fetch: no src or href attribute, no <link>, no url( anywhere.
  EXPECT_EQ(h.find("src=\""), std::string::npos);
  EXPECT_EQ(h.find("href="), std::string::npos);
  EXPECT_EQ(h.find("<link"), std::string::npos);
  EXPECT_EQ(h.find("url("), std::string::npos);
}

TEST(ReportFilesystemTest, SumsAndFolds) {
  testing::TreeBuilder b;
  b.file("usr/lib/big", 1000).file("usr/lib/small", 1).file("etc/passwd", 20);
  b.hardlink("usr/lib/big2", "usr/lib/big");
  for (int i = 0; i < 5; ++i) b.file("var/f" + std::to_string(i), 2);
  fs::Tree t = b.build();
  FilesystemLimits lim;
  lim.max_children = 3;
  lim.min_fraction = 0.02;  // 20.6 bytes of 1031: etc (20) stays, var (10) folds
  Filesystem f = summarize_filesystem(t, lim);
  EXPECT_EQ(f.root.bytes, 1031u);
  EXPECT_EQ(f.root.files, 9u);
  ASSERT_EQ(f.root.children.size(), 3u);
  EXPECT_EQ(f.root.children[0].name, "usr");
  EXPECT_EQ(f.root.children[0].bytes, 1001u);
  EXPECT_EQ(f.root.children[1].name, "etc");
  EXPECT_EQ(f.root.children[2].name, "1 other entry");  // var: 10 bytes < 1%
  EXPECT_TRUE(f.root.children[2].folded);
  EXPECT_EQ(f.root.children[2].files, 5u);
  const DirSize& lib = f.root.children[0].children.at(0);
  EXPECT_EQ(lib.name, "lib");
  ASSERT_EQ(lib.children.size(), 2u);  // big, then "2 other entries" (small; big2 is 0 bytes)
  EXPECT_EQ(lib.children[0].name, "big");
  EXPECT_EQ(lib.children[1].name, "2 other entries");
}

// docs/rules.md has one "### <id>" section per rule of all_rules() and no other, in the same
// order, each with its status as the table says and the four parts.
TEST(ReportDocsTest, RulesMdHasEveryRuleAndNoOther) {
  std::ifstream in(std::string(CORONER_SOURCE_DIR) + "/docs/rules.md");
  ASSERT_TRUE(in) << "docs/rules.md missing";
  std::vector<std::string> ids;
  std::map<std::string, std::string> body;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("### ", 0) == 0) {
      ids.push_back(line.substr(4));
      continue;
    }
    if (!ids.empty()) body[ids.back()] += line + "\n";
  }
  std::vector<std::string> want;
  for (const rules::RuleInfo& r : rules::all_rules()) want.emplace_back(r.id);
  EXPECT_EQ(ids, want);
  for (const rules::RuleInfo& r : rules::all_rules()) {
    const std::string& b = body[std::string(r.id)];
    std::string status = r.implemented ? "**Status:** checked." : "**Status:** not checked yet.";
    EXPECT_NE(b.find(status), std::string::npos) << r.id << ": docs/rules.md should say " << status;
    for (const char* part : {"```dockerfile\n", "**Error it prevents:**", "**Fix:**"}) {
      EXPECT_NE(b.find(part), std::string::npos) << r.id << " has no " << part;
    }
  }
}

}  // namespace
}  // namespace coroner::report
