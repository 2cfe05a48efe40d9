#include "pkg/digest_pass.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "base/digest.h"
#include "base/md5_many.h"
#include "testing/compile.h"

namespace coroner::pkg {
namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Records what it was shown, to check digest_pass forwards every file and block to it.
class Recorder : public scan::ContentScanner {
 public:
  explicit Recorder(std::string* log) : log_(log) {}
  bool begin(std::string_view path, uint64_t, scan::ContentKind) override {
    *log_ += "begin " + std::string(path) + ";";
    return path.ends_with(".env");
  }
  void feed(std::span<const std::byte> b) override {
    *log_ += "feed " + std::string(reinterpret_cast<const char*>(b.data()), b.size()) + ";";
  }
  void end(std::vector<scan::ContentMatch>& out) override { out.push_back({0, 1, 7, "x…"}); }

 private:
  std::string* log_;
};

TEST(MayBePackageFileTest, SystemTreesYesLocalUserAndRuntimeTreesNo) {
  for (std::string_view p : {"usr/bin/ls", "usr/lib/x86_64-linux-gnu/libc.so.6", "bin/sh",
                             "sbin/init", "etc/passwd", "lib/systemd/x", "lib64/ld.so",
                             "boot/vmlinuz", "var/lib/ucf/x", "var/www/index.html", "usr"}) {
    EXPECT_TRUE(may_be_package_file(p)) << p;
  }
  for (std::string_view p :
       {"usr/local/bin/app", "opt/app/main.py", "home/u/.bashrc", "root/.profile", "srv/x", "tmp/x",
        "var/tmp/x", "var/log/syslog", "var/cache/apt/x", "var/run/x.pid", "run/x", "app/server",
        "mnt/x", "etcetera/x", "usrx/bin"}) {
    EXPECT_FALSE(may_be_package_file(p)) << p;
  }
}

TEST(DigestPassTest, HashesPackageFilesAcrossBlocksAndHandsTheDigestOver) {
  auto pass = digest_pass(nullptr);
  ASSERT_TRUE(pass->begin("usr/bin/hello", 11, scan::ContentKind::kText));
  pass->feed(bytes("hello "));
  pass->feed(bytes("world"));
  std::vector<scan::ContentMatch> out;
  pass->end(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, kPassDigestRule);
  pass.reset();  // the digests are filled in when the scanner goes (the scan destroys it)
  EXPECT_EQ(out[0].redacted, "5eb63bbbe01eeed093cb22bb8f5acdc3");  // md5sum of "hello world"
}

// Many files, big and small, through the hashing thread: each digest lands in its own match.
TEST(DigestPassTest, ManyFilesKeepTheirOwnDigests) {
  auto pass = digest_pass(nullptr);
  std::vector<scan::ContentMatch> out;
  std::string big(5 << 20, 'z');  // more than a chunk, split in odd blocks
  for (int i = 0; i < 50; ++i) {
    std::string content = i % 10 == 0 ? big : "file " + std::to_string(i);
    ASSERT_TRUE(
        pass->begin("usr/share/f" + std::to_string(i), content.size(), scan::ContentKind::kText));
    for (size_t at = 0; at < content.size(); at += 300001) {
      pass->feed(bytes(std::string_view(content).substr(at, 300001)));
    }
    pass->end(out);
  }
  pass.reset();
  ASSERT_EQ(out.size(), 50u);
  // python3 -c "import hashlib; print(hashlib.md5(b'z' * (5 << 20)).hexdigest())"
  EXPECT_EQ(out[0].redacted, "f5c72844814e523517b0bcbc17eb638b");
  EXPECT_EQ(out[10].redacted, out[0].redacted);
  EXPECT_EQ(out[1].redacted, "ff1e0283123d14cf8bd52ac449770017");  // md5 of "file 1"
  EXPECT_NE(out[1].redacted, out[2].redacted);
  for (const scan::ContentMatch& m : out) EXPECT_EQ(m.redacted.size(), 32u);
}

// Sizes on both sides of the hasher's thresholds (a file of up to 1 MiB is batched into SIMD
// lanes, a larger one streams through OpenSSL; a batch is hashed at 8 MiB), 20 MiB in all, so
// that several batches fill while big files stream between them.
TEST(DigestPassTest, BatchedAndStreamedFilesGetTheSameDigestsAsAloneHashing) {
  auto pass = digest_pass(nullptr);
  std::vector<scan::ContentMatch> out;
  std::vector<std::string> contents;
  std::mt19937_64 rng(5);
  const size_t special[] = {1, 63, 64, 65, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 << 20};
  for (size_t total = 0, i = 0; total < (20 << 20); ++i) {
    size_t n = i < std::size(special) ? special[i]
               : rng() % 3 == 0       ? rng() % (2 << 20)
                                      : rng() % 9000 + 1;
    std::string content(n, '\0');
    for (char& c : content) c = static_cast<char>(rng());
    ASSERT_TRUE(pass->begin("usr/lib/f" + std::to_string(i), n, scan::ContentKind::kBinary));
    for (size_t at = 0; at < n; at += 65537)
      pass->feed(bytes(std::string_view(content).substr(at, 65537)));
    pass->end(out);
    total += n;
    contents.push_back(std::move(content));
  }
  pass.reset();
  ASSERT_EQ(out.size(), contents.size());
  for (size_t i = 0; i < contents.size(); ++i)
    ASSERT_EQ(out[i].redacted, hex_lower(md5_scalar(bytes(contents[i]))))
        << "file " << i << ", " << contents[i].size() << " bytes";
}

TEST(DigestPassTest, DeclinesFilesOutsidePackageTreesAndEmptyFiles) {
  auto pass = digest_pass(nullptr);
  EXPECT_FALSE(pass->begin("opt/app/x", 10, scan::ContentKind::kText));
  EXPECT_FALSE(pass->begin("usr/bin/empty", 0, scan::ContentKind::kEmpty));
}

TEST(DigestPassTest, InnerScannerSeesEveryFileAndBlockAsIfAlone) {
  std::string log;
  auto pass = digest_pass(std::make_unique<Recorder>(&log));
  // The inner scanner wants it, the md5 does not (opt/): still scanned.
  ASSERT_TRUE(pass->begin("opt/app/.env", 3, scan::ContentKind::kText));
  pass->feed(bytes("A=1"));
  std::vector<scan::ContentMatch> out;
  pass->end(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rule, 7);
  // Only the md5 wants it: the inner scanner is asked, then left out.
  ASSERT_TRUE(pass->begin("etc/motd", 2, scan::ContentKind::kText));
  pass->feed(bytes("hi"));
  std::vector<scan::ContentMatch> out2;
  pass->end(out2);
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_EQ(out2[0].rule, kPassDigestRule);
  EXPECT_EQ(log, "begin opt/app/.env;feed A=1;begin etc/motd;");
  pass.reset();
  EXPECT_EQ(out2[0].redacted, "49f68a5c8493ec2c0bf489821c21fc3b");  // md5sum of "hi"
}

scan::LayerIndex layer_with(uint32_t index,
                            std::vector<std::pair<std::string_view, scan::Whiteout>> paths) {
  scan::LayerIndex l;
  l.index = index;
  for (auto [p, w] : paths) {
    scan::Entry e;
    e.path = l.arena.add(p);
    e.whiteout = w;
    l.entries.push_back(e);
  }
  return l;
}

TEST(ShadowBoardTest, UpperLayersHideReplacedDeletedAndOpaqueBelow) {
  ShadowBoard b;
  EXPECT_FALSE(b.hidden_above(0, "usr/bin/x"));
  b.publish(layer_with(2, {{"usr/lib/libLLVM.so", scan::Whiteout::kNone},
                           {"usr/share/doc", scan::Whiteout::kFile},
                           {"etc/app", scan::Whiteout::kOpaque},
                           {"etc/app", scan::Whiteout::kNone}}));
  EXPECT_TRUE(b.hidden_above(0, "usr/lib/libLLVM.so"));         // replaced
  EXPECT_TRUE(b.hidden_above(1, "usr/share/doc"));              // deleted
  EXPECT_TRUE(b.hidden_above(0, "usr/share/doc/bash/README"));  // under a deleted dir
  EXPECT_TRUE(b.hidden_above(0, "etc/app/conf"));               // under an opaque dir
  EXPECT_FALSE(b.hidden_above(0, "usr/lib/libLLVM.so.1"));      // another name
  EXPECT_FALSE(b.hidden_above(0, "usr/share/documents"));       // not under usr/share/doc
  EXPECT_FALSE(b.hidden_above(2, "usr/lib/libLLVM.so"));        // the layer itself
  EXPECT_FALSE(b.hidden_above(3, "usr/lib/libLLVM.so"));        // a layer above it
}

// An upper layer's pass writes its files on the board as they begin: a lower layer still
// streaming skips them before the upper layer is finished.
TEST(DigestPassTest, SkipsWhatAnUpperLayerStillStreamingHasWritten) {
  auto board = std::make_shared<ShadowBoard>();
  auto upper = digest_pass(nullptr, board);
  auto lower = digest_pass(nullptr, board);
  upper->set_layer(2);
  lower->set_layer(0);
  std::vector<scan::ContentMatch> out;
  ASSERT_TRUE(upper->begin("usr/lib/libLLVM.so.1", 4, scan::ContentKind::kBinary));
  upper->feed(bytes("ELF!"));
  upper->end(out);
  EXPECT_FALSE(board->hidden_above(2, "usr/lib/libLLVM.so.1"));
  EXPECT_TRUE(board->hidden_above(1, "usr/lib/libLLVM.so.1"));
  EXPECT_FALSE(lower->begin("usr/lib/libLLVM.so.1", 4, scan::ContentKind::kBinary));
  EXPECT_TRUE(lower->begin("usr/lib/libclang.so.1", 4, scan::ContentKind::kBinary));
  lower->end(out);
  // Files outside the package trees are neither hashed nor written.
  EXPECT_FALSE(upper->begin("opt/app/big.bin", 4, scan::ContentKind::kBinary));
  EXPECT_FALSE(board->hidden_above(0, "opt/app/big.bin"));
  upper.reset();
  lower.reset();
}

TEST(DigestPassTest, SkipsWhatAFinishedUpperLayerHidesOnlyWhenTheLayerIsKnown) {
  auto board = std::make_shared<ShadowBoard>();
  board->publish(layer_with(1, {{"usr/bin/tool", scan::Whiteout::kNone}}));
  auto pass = digest_pass(nullptr, board);
  // Streamed scans never say the layer: nothing is skipped.
  EXPECT_TRUE(pass->begin("usr/bin/tool", 4, scan::ContentKind::kBinary));
  std::vector<scan::ContentMatch> out;
  pass->end(out);
  pass->set_layer(0);
  EXPECT_FALSE(pass->begin("usr/bin/tool", 4, scan::ContentKind::kBinary));
  EXPECT_TRUE(pass->begin("usr/bin/other", 4, scan::ContentKind::kBinary));
  pass->end(out);
  pass->set_layer(1);
  EXPECT_TRUE(pass->begin("usr/bin/tool", 4, scan::ContentKind::kBinary));
  pass.reset();  // before `out`: it fills the matches it appended there
}

TEST(PassDigestsTest, KnowsHashedEntriesAndEmptyFilesForTheirOwnDigestOnly) {
  std::vector<scan::LayerIndex> layers(1);
  scan::LayerIndex& l = layers[0];
  l.entries.resize(3);
  l.entries[0].size = 11;
  l.entries[1].size = 0;
  l.entries[2].size = 5;  // not hashed (e.g. under opt/)
  l.content_matches.push_back({0, 0, kPassDigestRule, "5eb63bbbe01eeed093cb22bb8f5acdc3"});
  l.content_matches.push_back({2, 3, 1, "AKIA…(20)"});  // a secret match: not a digest
  l.content_matches.push_back({9, 0, kPassDigestRule, "bad index"});
  PassDigests d(layers);
  EXPECT_EQ(d.size(), 1u);
  KnownDigest known = d.known();
  EXPECT_EQ(known(l.entries[0], 32), "5eb63bbbe01eeed093cb22bb8f5acdc3");
  EXPECT_EQ(known(l.entries[1], 32), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(known(l.entries[2], 32), std::nullopt);
  EXPECT_EQ(known(l.entries[0], 64), std::nullopt);  // asked for sha256, hashed with md5
  EXPECT_EQ(known(l.entries[1], 64),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");  // empty
  EXPECT_EQ(known(l.entries[1], 40), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

TEST(DigestHintTest, DpkgEvidenceWinsRpmAndApkSwitchTheDigest) {
  DigestHint h;
  EXPECT_EQ(h.digest(), DigestHint::kMd5);  // nothing seen yet: dpkg's md5
  h.note("usr/bin/ls");
  EXPECT_EQ(h.digest(), DigestHint::kMd5);
  h.note("etc/yum.repos.d/fedora.repo");
  EXPECT_EQ(h.digest(), DigestHint::kSha256);
  h.note("etc/apk/world");
  EXPECT_EQ(h.digest(), DigestHint::kSha1);
  h.note("var/lib/dpkg/status");
  EXPECT_EQ(h.digest(), DigestHint::kMd5);
  h.note("usr/lib/sysimage/rpm/rpmdb.sqlite");  // rpm's tools on a Debian image
  EXPECT_EQ(h.digest(), DigestHint::kMd5);
  DigestHint fedora;
  fedora.note("etc/dnf/dnf.conf");
  EXPECT_EQ(fedora.digest(), DigestHint::kSha256);
  DigestHint alpine;
  alpine.note("lib/apk/db/installed");
  EXPECT_EQ(alpine.digest(), DigestHint::kSha1);
}

// An rpm system: once etc/dnf/dnf.conf has gone by, package files get sha256 (what rpm
// records), small and big ones alike, and digests already taken stay md5.
// Files whose content the scan hands over as views of a mapped layer (ContentScanner::kept): the
// hasher keeps the views, no copies, and hashes them in md5 lanes, long ones included (past the
// lanes' release step), and gives the pages back as it goes. The views here are of a mapped
// file, as the scan's are: madvise(MADV_DONTNEED) on heap memory would zero it.
TEST(DigestPassTest, KeptViewsGetTheSameDigestsAsAloneHashing) {
  std::mt19937_64 rng(11);
  std::vector<size_t> sizes = {1, 63, 64, 65, 9 << 20, 3 << 20};
  for (int i = 0; i < 300; ++i)
    sizes.push_back(rng() % 5 == 0 ? rng() % (1 << 20) : rng() % 9000 + 1);
  std::string all;
  std::vector<std::pair<size_t, size_t>> at;  // offset, size in `all`
  for (size_t n : sizes) {
    at.emplace_back(all.size(), n);
    for (size_t k = 0; k < n; ++k) all += static_cast<char>(rng());
    all.append(rng() % 700, 'p');  // tar-like padding between contents
  }
  std::string path = coroner::testing::make_test_dir("digest-pass-kept") + "/layer";
  std::ofstream(path, std::ios::binary) << all;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  void* map = ::mmap(nullptr, all.size(), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(map, MAP_FAILED);
  std::span<const std::byte> mapped(static_cast<const std::byte*>(map), all.size());
  for (bool rpm : {false, true}) {
    SCOPED_TRACE(rpm ? "rpm: sha256" : "md5");
    auto hint = std::make_shared<DigestHint>();
    if (rpm) hint->note("var/lib/rpm/rpmdb.sqlite");
    auto pass = digest_pass(nullptr, nullptr, hint);
    std::vector<scan::ContentMatch> out;
    for (size_t i = 0; i < at.size(); ++i) {
      auto [offset, n] = at[i];
      std::span<const std::byte> content = mapped.subspan(offset, n);
      ASSERT_TRUE(pass->begin("usr/lib/f" + std::to_string(i), n, scan::ContentKind::kBinary));
      pass->kept(content);
      for (size_t k = 0; k < n; k += 65536)
        pass->feed(content.subspan(k, std::min<size_t>(65536, n - k)));
      pass->end(out);
    }
    pass.reset();
    ASSERT_EQ(out.size(), at.size());
    for (size_t i = 0; i < at.size(); ++i) {
      std::span<const std::byte> content =
          bytes(std::string_view(all).substr(at[i].first, at[i].second));
      ASSERT_EQ(out[i].redacted,
                rpm ? sha256_digest(content).substr(7) : hex_lower(md5_scalar(content)))
          << "file " << i << ", " << at[i].second << " bytes";
    }
  }
  ::munmap(map, all.size());
}

TEST(DigestPassTest, FilesAfterRpmEvidenceGetSha256) {
  auto hint = std::make_shared<DigestHint>();
  auto pass = digest_pass(nullptr, nullptr, hint);
  std::vector<scan::ContentMatch> out;
  std::string big(3 << 20, 'q');
  const std::pair<std::string, std::string> files[] = {{"etc/crypttab", "x"},
                                                       {"etc/dnf/dnf.conf", "[main]\n"},
                                                       {"usr/bin/hello", "hello world"},
                                                       {"usr/lib64/libbig.so", big}};
  for (const auto& [path, content] : files) {
    ASSERT_TRUE(pass->begin(path, content.size(), scan::ContentKind::kText)) << path;
    for (size_t at = 0; at < content.size(); at += 1 << 20)
      pass->feed(bytes(std::string_view(content).substr(at, 1 << 20)));
    pass->end(out);
  }
  pass.reset();
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].redacted, "9dd4e461268c8034f5c8564e155c67a6");  // md5 of "x"
  // sha256 of dnf.conf itself (the evidence counts from its own begin()), "hello world", big
  EXPECT_EQ(out[1].redacted, sha256_digest(bytes("[main]\n")).substr(7));
  EXPECT_EQ(out[2].redacted, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  EXPECT_EQ(out[3].redacted, sha256_digest(bytes(big)).substr(7));
}

}  // namespace
}  // namespace coroner::pkg
