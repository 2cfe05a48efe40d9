#include "rules/secrets.h"

#include <gtest/gtest.h>

#include <string>

#include "base/bytes.h"
#include "base/error.h"
#include "base/stream.h"
#include "testing/layer_builder.h"

namespace coroner::rules {
namespace {

// AWS's documented example key pair (docs.aws.amazon.com, "Managing access keys"): not live.
constexpr std::string_view kAwsKeyId = "AKIAIOSFODNN7EXAMPLE";
constexpr std::string_view kAwsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

size_t rule_index(std::string_view id) {
  const auto& rules = secret_rules();
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].id == id) return i;
  }
  ADD_FAILURE() << "no rule " << id;
  return SIZE_MAX;
}

// Feeds `text` in blocks of `block` bytes.
std::vector<scan::ContentMatch> scan_blocks(std::string_view text, size_t block) {
  auto s = make_secret_scanner();
  std::vector<scan::ContentMatch> out;
  EXPECT_TRUE(s->begin("app/config.txt", text.size(), scan::ContentKind::kText));
  for (size_t i = 0; i < text.size(); i += block) {
    std::string_view b = text.substr(i, block);
    s->feed(std::as_bytes(std::span<const char>(b.data(), b.size())));
  }
  s->end(out);
  return out;
}

TEST(SecretsTest, EmbeddedRulesParseAndCompile) {
  EXPECT_GE(secret_rules().size(), 10u);
  EXPECT_NO_THROW(make_secret_scanner());
}

TEST(SecretsTest, FindsAwsKeyIdWithLineAndRedaction) {
  std::string text =
      "# config\nregion = eu-west-1\naws_access_key_id = " + std::string(kAwsKeyId) + "\n";
  auto m = scan_blocks(text, 4096);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule, rule_index("aws-access-key-id"));
  EXPECT_EQ(m[0].line, 3u);
  EXPECT_EQ(m[0].redacted, "AKIA\u2026(20)");
}

// Line numbers count every newline before the match: runs of blank lines longer than the
// counter's 255-block stretch (4080 bytes), long lines, and odd block sizes.
TEST(SecretsTest, LineNumbersAfterManyAndLongLines) {
  std::string text(10000, '\n');                       // lines 1..10000
  text += std::string(70000, 'x') + "\n";              // line 10001
  for (int i = 0; i < 999; ++i) text += "ab\ncd\r\n";  // lines 10002..11999
  text += "key: " + std::string(kAwsKeyId) + "\n";     // line 12000
  for (size_t block : {size_t{1} << 16, size_t{4097}, size_t{15}}) {
    auto m = scan_blocks(text, block);
    ASSERT_EQ(m.size(), 1u) << block;
    EXPECT_EQ(m[0].line, 12000u) << block;
  }
}

TEST(SecretsTest, FindsAwsSecretAssignment) {
  auto m = scan_blocks("aws_secret_access_key = " + std::string(kAwsSecret) + "\n", 4096);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule, rule_index("aws-secret-access-key"));
}

TEST(SecretsTest, TokenCutByABlockBoundaryKeepsLineAndHead) {
  std::string text = "a\nb\nkey: " + std::string(kAwsKeyId) + "\n";
  for (size_t block : {1u, 3u, 7u, 11u, 13u}) {
    auto m = scan_blocks(text, block);
    ASSERT_EQ(m.size(), 1u) << block;
    EXPECT_EQ(m[0].line, 3u) << block;
    EXPECT_EQ(m[0].redacted, "AKIA\u2026(20)") << block;
  }
}

TEST(SecretsTest, VariableLengthTokenIsOneMatchWithItsFullLength) {
  std::string token = "xoxb-" + std::string(40, '7');
  auto m = scan_blocks("SLACK=" + token + "\n", 8);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule, rule_index("slack-token"));
  EXPECT_EQ(m[0].redacted, "xoxb\u2026(" + std::to_string(token.size()) + ")");
}

TEST(SecretsTest, FindsPrivateKeyHeaders) {
  for (std::string_view h : {"-----BEGIN RSA PRIVATE KEY-----", "-----BEGIN PRIVATE KEY-----",
                             "-----BEGIN OPENSSH PRIVATE KEY-----"}) {
    auto m = scan_blocks(std::string(h) + "\nMIIEow...\n", 4096);
    ASSERT_EQ(m.size(), 1u) << h;
    EXPECT_EQ(m[0].rule, rule_index("private-key"));
  }
}

TEST(SecretsTest, PublicKeysAndPlainTextDoNotMatch) {
  std::string text =
      "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----\n"
      "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
      "The AKIA prefix alone, AKIAshort, ghp_tooShort and sk_test_123 are no tokens.\n";
  EXPECT_TRUE(scan_blocks(text, 4096).empty());
}

TEST(SecretsTest, GithubGitlabStripeTokens) {
  std::string gh = "ghp_" + std::string(36, 'a');
  std::string gl = "glpat-" + std::string(20, 'b');
  std::string st = "sk_live_" + std::string(24, 'c');
  auto m = scan_blocks(gh + "\n" + gl + "\n" + st + "\n", 4096);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].rule, rule_index("github-token"));
  EXPECT_EQ(m[1].rule, rule_index("gitlab-token"));
  EXPECT_EQ(m[2].rule, rule_index("stripe-key"));
  EXPECT_EQ(m[2].line, 3u);
}

TEST(SecretsTest, RedactedFormNeverContainsTheSecret) {
  std::string text = std::string(kAwsKeyId) + " " + std::string(kAwsSecret) +
                     "\naws_secret_access_key=" + std::string(kAwsSecret) + "\n";
  for (const scan::ContentMatch& m : scan_blocks(text, 5)) {
    EXPECT_EQ(m.redacted.find(kAwsKeyId), std::string::npos);
    EXPECT_EQ(m.redacted.find(kAwsSecret), std::string::npos);
    EXPECT_EQ(m.redacted.find(kAwsSecret.substr(0, 8)), std::string::npos);
  }
  EXPECT_EQ(redact("abcdefgh", 8), "abcd\u2026(8)");
  EXPECT_EQ(redact("ab", 2), "a\u2026(2)");  // never the whole of a short value
  EXPECT_EQ(redact("\x01\x02xy", 30), "??xy\u2026(30)");
}

TEST(SecretsTest, StopsAfterTheCapPerFile) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += std::string(kAwsKeyId) + "\n";
  EXPECT_EQ(scan_blocks(text, 64).size(), kMaxSecretMatchesPerFile);
}

TEST(SecretsTest, ScannerIsReusedAcrossFiles) {
  auto s = make_secret_scanner();
  std::vector<scan::ContentMatch> out;
  std::string a = "x " + std::string(kAwsKeyId) + "\n", b = "nothing here\n";
  ASSERT_TRUE(s->begin("a", a.size(), scan::ContentKind::kText));
  s->feed(as_bytes(a));
  s->end(out);
  ASSERT_TRUE(s->begin("b", b.size(), scan::ContentKind::kText));
  s->feed(as_bytes(b));
  s->end(out);
  EXPECT_EQ(out.size(), 1u);
}

TEST(SecretsTest, BinaryElfAndHugeFilesAreNotScanned) {
  EXPECT_TRUE(wants_secret_scan("etc/app.conf", 100, scan::ContentKind::kText));
  EXPECT_TRUE(wants_secret_scan("entry.sh", 100, scan::ContentKind::kScript));
  EXPECT_FALSE(wants_secret_scan("bin/ls", 100, scan::ContentKind::kElf));
  EXPECT_FALSE(wants_secret_scan("x.gz", 100, scan::ContentKind::kBinary));
  EXPECT_FALSE(wants_secret_scan("big.log", kMaxSecretScanBytes + 1, scan::ContentKind::kText));
}

TEST(SecretsTest, ParseRejectsBadLines) {
  EXPECT_THROW(parse_secret_rules("a\tsecret-token\tdesc\n"), Error);
  EXPECT_THROW(parse_secret_rules("a\tnope\tdesc\tx+\n"), Error);
  auto r = parse_secret_rules("# comment\n\nid\tsecret-token\td\tabc\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].regex, "abc");
}

TEST(SecretsTest, BadRegexNamesTheRule) {
  try {
    make_secret_scanner({{"broken", "secret-token", "", "(unclosed"}}, true);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken"), std::string::npos);
  }
}

TEST(SecretsTest, ScanSecretsOfAString) {
  auto m = scan_secrets("curl -H 'Authorization: token ghp_" + std::string(36, 'Z') + "'");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].rule, rule_index("github-token"));
}

// The hook in scan/: matches land in LayerIndex::content_matches with the entry index, in the
// single pass, and only text files are read.
TEST(SecretsTest, ScanLayerCollectsMatchesInTheSamePass) {
  std::string big(100000, 'x');
  big += "\n" + std::string(kAwsKeyId) + "\n";
  std::string elf =
      "\x7f"
      "ELF" +
      std::string(kAwsKeyId);
  std::string tar = testing::LayerBuilder()
                        .file("etc/app.conf", "key=" + std::string(kAwsKeyId) + "\n")
                        .file("var/big.txt", big)
                        .file("bin/tool", elf, 0755)
                        .file("etc/clean.conf", "nothing\n")
                        .tar();
  scan::ScanOptions options;
  options.verify = false;
  options.content_scanner = [] { return make_secret_scanner(); };
  auto stream = open_memory_stream(as_bytes(tar), "blob");
  scan::LayerIndex l = scan::scan_layer(*stream, {}, 0, options);
  ASSERT_EQ(l.content_matches.size(), 2u);
  EXPECT_EQ(l.entries[l.content_matches[0].entry].path, "etc/app.conf");
  EXPECT_EQ(l.content_matches[0].line, 1u);
  EXPECT_EQ(l.entries[l.content_matches[1].entry].path, "var/big.txt");
  EXPECT_EQ(l.content_matches[1].line, 2u);
  // Without a scanner, nothing.
  auto again = open_memory_stream(as_bytes(tar), "blob");
  EXPECT_TRUE(scan::scan_layer(*again, {}, 0, {.verify = false}).content_matches.empty());
}

}  // namespace
}  // namespace coroner::rules
