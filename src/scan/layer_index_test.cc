#include "scan/layer_index.h"

#include <gtest/gtest.h>

#include <string>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "scan/test_source.h"
#include "testing/compile.h"
#include "testing/layer_builder.h"

namespace coroner::scan {
namespace {

using coroner::testing::LayerBuilder;

LayerIndex scan(const std::string& blob, const ScanOptions& options = {},
                const image::LayerDesc& desc = {}, uint32_t index = 3) {
  auto stream = open_memory_stream(as_bytes(blob), "blob");
  return scan_layer(*stream, desc, index, options);
}

const Entry* find(const LayerIndex& l, std::string_view path) {
  const Entry* found = nullptr;
  for (const Entry& e : l.entries) {
    if (e.path == path) found = &e;  // the last one, as fs/ would see it
  }
  return found;
}

std::string error_of(const std::string& blob, const ScanOptions& options = {},
                     const image::LayerDesc& desc = {}) {
  try {
    scan(blob, options, desc);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool has_note(const LayerIndex& l, std::string_view part) {
  for (const std::string& n : l.notes) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(ScanLayerTest, EveryEntryKindAndField) {
  std::string tar = LayerBuilder()
                        .dir("etc", 0755)
                        .file("etc/shadow", "root:*:1::::::\n", 0640, 0, 42)
                        .uname("root")
                        .gname("shadow")
                        .mtime(123456789)
                        .dir("tmp", 01777)
                        .file("usr/bin/passwd", "x", 04755)
                        .symlink("bin/sh", "/bin/busybox")
                        .hardlink("etc/shadow-", "./etc/shadow")
                        .char_device("dev/null", 1, 3)
                        .block_device("dev/sda", 8, 16)
                        .fifo("run/initctl", 0600)
                        .tar();
  LayerIndex l = scan(tar);
  ASSERT_EQ(l.entries.size(), 9u);
  EXPECT_EQ(l.index, 3u);
  EXPECT_EQ(l.compression, image::Compression::kNone);

  const Entry* e = find(l, "etc");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kDirectory);
  EXPECT_EQ(e->mode, 0755u);
  EXPECT_EQ(e->kind, ContentKind::kNone);

  e = find(l, "etc/shadow");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kRegular);
  EXPECT_EQ(e->size, 15u);
  EXPECT_EQ(e->mode, 0640u);
  EXPECT_EQ(e->uid, 0u);
  EXPECT_EQ(e->gid, 42u);
  EXPECT_EQ(e->uname, "root");
  EXPECT_EQ(e->gname, "shadow");
  EXPECT_EQ(e->mtime, 123456789);
  EXPECT_EQ(e->kind, ContentKind::kText);
  EXPECT_EQ(e->facts, Entry::kNoFacts);
  // data_offset points at the content in the uncompressed stream.
  EXPECT_EQ(tar.substr(e->data_offset, e->size), "root:*:1::::::\n");

  EXPECT_EQ(find(l, "tmp")->mode, 01777u);
  EXPECT_EQ(find(l, "usr/bin/passwd")->mode, 04755u);

  e = find(l, "bin/sh");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kSymlink);
  EXPECT_EQ(e->link, "/bin/busybox");  // symlink targets as written
  EXPECT_EQ(e->size, 0u);

  e = find(l, "etc/shadow-");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kHardlink);
  EXPECT_EQ(e->link, "etc/shadow");  // hardlink targets normalised

  e = find(l, "dev/null");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, FileType::kCharDevice);
  ASSERT_NE(e->facts, Entry::kNoFacts);
  EXPECT_EQ(l.facts[e->facts].dev_major, 1u);
  EXPECT_EQ(l.facts[e->facts].dev_minor, 3u);
  e = find(l, "dev/sda");
  EXPECT_EQ(e->type, FileType::kBlockDevice);
  EXPECT_EQ(l.facts[e->facts].dev_major, 8u);
  EXPECT_EQ(l.facts[e->facts].dev_minor, 16u);
  e = find(l, "run/initctl");
  EXPECT_EQ(e->type, FileType::kFifo);
  EXPECT_EQ(e->mode, 0600u);
  EXPECT_TRUE(l.notes.empty());
}

TEST(ScanLayerTest, XattrsAreKeptInFacts) {
  std::string cap("\x01\x00\x00\x02\x00\x04\x00\x00", 8);
  LayerIndex l = scan(LayerBuilder()
                          .file("usr/bin/ping", "bin", 0755)
                          .xattr("security.capability", cap)
                          .xattr("user.note", "hi")
                          .tar());
  const Entry* e = find(l, "usr/bin/ping");
  ASSERT_NE(e, nullptr);
  ASSERT_NE(e->facts, Entry::kNoFacts);
  const auto& x = l.facts[e->facts].xattrs;
  ASSERT_EQ(x.size(), 2u);
  EXPECT_EQ(x[0].first, "security.capability");
  EXPECT_EQ(x[0].second, cap);
  EXPECT_EQ(x[1].first, "user.note");
  EXPECT_EQ(x[1].second, "hi");
}

TEST(ScanLayerTest, LongNamesViaPax) {
  std::string name = std::string(120, 'd') + "/" + std::string(130, 'f');
  std::string target = std::string(200, 't');
  LayerIndex l = scan(LayerBuilder().file(name, "x").symlink("s", target).tar());
  ASSERT_NE(find(l, name), nullptr);
  EXPECT_EQ(find(l, "s")->link, target);
}

TEST(ScanLayerTest, PathsAreNormalised) {
  LayerIndex l = scan(LayerBuilder()
                          .raw("./", '5')
                          .raw("./etc/", '5')
                          .raw("/abs/file", '0', "a")
                          .raw("a//b/./c", '0', "b")
                          .raw("./d/", '5')
                          .tar());
  ASSERT_EQ(l.entries.size(), 5u);
  EXPECT_EQ(l.entries[0].path, ".");
  EXPECT_EQ(l.entries[0].type, FileType::kDirectory);
  EXPECT_EQ(l.entries[1].path, "etc");
  EXPECT_EQ(l.entries[2].path, "abs/file");
  EXPECT_EQ(l.entries[3].path, "a/b/c");
  EXPECT_EQ(l.entries[4].path, "d");
}

TEST(ScanLayerTest, InvalidUtf8NamesAreKeptAsBytes) {
  std::string name("bad\xff\xfe", 5);
  LayerIndex l = scan(LayerBuilder().raw(name, '0', "x").file("caf\xc3\xa9", "y").tar());
  EXPECT_NE(find(l, name), nullptr);
  EXPECT_NE(find(l, "caf\xc3\xa9"), nullptr);
}

TEST(ScanLayerTest, DotDotEntryIsAnErrorNamingLayerAndEntry) {
  std::string msg = error_of(LayerBuilder().file("ok", "1").raw("../etc/passwd", '0', "x").tar());
  EXPECT_NE(msg.find("layer 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("../etc/passwd"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'..'"), std::string::npos) << msg;
}

TEST(ScanLayerTest, DotDotHardlinkTargetIsAnError) {
  std::string msg = error_of(LayerBuilder().raw("h", '1', {}, "../../etc/shadow").tar());
  EXPECT_NE(msg.find("hardlink target"), std::string::npos) << msg;
}

TEST(ScanLayerTest, WhiteoutForms) {
  LayerIndex l = scan(LayerBuilder()
                          .whiteout("etc/old.conf")
                          .opaque("var/cache")
                          .opaque(".")
                          .raw("d/.wh..wh..opqX")
                          .raw("d/.wh.")
                          .file("d/.whatever", "not a whiteout")
                          .tar());
  ASSERT_EQ(l.entries.size(), 5u);
  EXPECT_EQ(l.entries[0].whiteout, Whiteout::kFile);
  EXPECT_EQ(l.entries[0].path, "etc/old.conf");
  EXPECT_EQ(l.entries[1].whiteout, Whiteout::kOpaque);
  EXPECT_EQ(l.entries[1].path, "var/cache");
  EXPECT_EQ(l.entries[2].whiteout, Whiteout::kOpaque);
  EXPECT_EQ(l.entries[2].path, ".");
  // Not opaque: a whiteout of the file ".wh..opqX" (containerd removes base[len(".wh."):]).
  EXPECT_EQ(l.entries[3].whiteout, Whiteout::kFile);
  EXPECT_EQ(l.entries[3].path, "d/.wh..opqX");
  // The bare ".wh." is dropped with a note.
  EXPECT_EQ(l.entries[4].whiteout, Whiteout::kNone);
  EXPECT_EQ(l.entries[4].path, "d/.whatever");
  EXPECT_TRUE(has_note(l, "d/.wh.: whiteout with an empty name ignored"));
}

TEST(ScanLayerTest, DuplicatesAreKeptInOrderWithANote) {
  LayerIndex l = scan(LayerBuilder().file("a", "first").file("b", "").file("./a", "second").tar());
  ASSERT_EQ(l.entries.size(), 3u);
  EXPECT_EQ(l.entries[0].path, "a");
  EXPECT_EQ(l.entries[2].path, "a");
  EXPECT_EQ(l.entries[2].size, 6u);
  EXPECT_TRUE(has_note(l, "a: written 2 times in this layer; the last one wins"));
}

TEST(ScanLayerTest, ContentKindsAndScriptFirstLine) {
  std::string big_text(100000, 'a');
  std::string big_binary = std::string(9000, 'b') + std::string(1, '\0');
  LayerIndex l = scan(LayerBuilder()
                          .file("empty")
                          .file("entry.sh", "#!/bin/sh\r\necho hi\r\n", 0755)
                          .file("text", "hello\n")
                          .file("bin", std::string("\x01\x02\x00\x03", 4))
                          .file("big.txt", big_text)
                          .file("late-nul", big_binary)
                          .tar());
  EXPECT_EQ(find(l, "empty")->kind, ContentKind::kEmpty);
  const Entry* s = find(l, "entry.sh");
  EXPECT_EQ(s->kind, ContentKind::kScript);
  ASSERT_NE(s->facts, Entry::kNoFacts);
  EXPECT_EQ(l.facts[s->facts].first_line, "#!/bin/sh\r");
  EXPECT_EQ(find(l, "text")->kind, ContentKind::kText);
  EXPECT_EQ(find(l, "text")->facts, Entry::kNoFacts);
  EXPECT_EQ(find(l, "bin")->kind, ContentKind::kBinary);
  EXPECT_EQ(find(l, "big.txt")->kind, ContentKind::kText);
  EXPECT_EQ(find(l, "late-nul")->kind, ContentKind::kText);  // the NUL is past 8 KiB
}

TEST(ScanLayerTest, ElfFilesAreClassified) {
  std::string elf = std::string(
                        "\x7f"
                        "ELF",
                        4) +
                    std::string(60, '\0');
  LayerIndex l = scan(LayerBuilder().file("usr/bin/app", elf, 0755).tar());
  const Entry* e = find(l, "usr/bin/app");
  EXPECT_EQ(e->kind, ContentKind::kElf);
  ASSERT_NE(e->facts, Entry::kNoFacts);
  // A header-only ELF is corrupt: elf::parse's Error becomes a fact, the scan goes on.
  EXPECT_FALSE(l.facts[e->facts].elf.has_value());
  EXPECT_NE(l.facts[e->facts].elf_error.find("ELF"), std::string::npos)
      << l.facts[e->facts].elf_error;
}

TEST(ScanLayerTest, ElfFactsOfARealBinary) {
  std::string dir = coroner::testing::make_test_dir("scan-elf");
  std::optional<std::string> err =
      coroner::testing::compile("gcc", "int main(void) { return 0; }\n", {"-O1"}, dir + "/hello");
  ASSERT_FALSE(err.has_value()) << *err;
  std::vector<std::byte> bin = coroner::testing::read_file(dir + "/hello");
  ASSERT_GT(bin.size(), 1000u);
  std::string content(as_chars(bin));
  for (const std::string& blob :
       {LayerBuilder().file("usr/bin/hello", content, 0755).tar(),
        coroner::testing::gzip(LayerBuilder().file("usr/bin/hello", content, 0755).tar())}) {
    LayerIndex l = scan(blob);
    const Entry* e = find(l, "usr/bin/hello");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->kind, ContentKind::kElf);
    ASSERT_NE(e->facts, Entry::kNoFacts);
    const Facts& f = l.facts[e->facts];
    ASSERT_TRUE(f.elf.has_value()) << f.elf_error;
    EXPECT_EQ(f.elf_error, "");
    EXPECT_EQ(f.elf->ei_class, 2);
    ASSERT_TRUE(f.elf->interp.has_value());
    EXPECT_NE(f.elf->interp->find("ld-linux"), std::string::npos);
    ASSERT_FALSE(f.elf->needed.empty());
    EXPECT_EQ(f.elf->needed[0], "libc.so.6");
  }
}

TEST(ScanLayerTest, LargeElfIsNotParsedAndNoted) {
  std::string elf = std::string(
                        "\x7f"
                        "ELF",
                        4) +
                    std::string(5000, '\0');
  ScanOptions o;
  o.max_elf = 1000;
  LayerIndex l = scan(LayerBuilder().file("big", elf).tar(), o);
  EXPECT_EQ(find(l, "big")->kind, ContentKind::kElf);
  EXPECT_TRUE(has_note(l, "big: ELF not parsed"));
}

TEST(ScanLayerTest, CapturedFiles) {
  std::string passwd = "root:x:0:0:root:/root:/bin/sh\n";
  std::string big(3 << 20, 'x');  // spans several 1 MiB chunks
  ScanOptions o;
  o.capture = [](std::string_view path, uint64_t) {
    return path == "etc/passwd" || path == "etc/big" || path == "etc/huge" || path == "etc/empty";
  };
  o.max_capture = 4 << 20;
  LayerIndex l = scan(LayerBuilder()
                          .file("etc/passwd", passwd)
                          .file("etc/big", big)
                          .file("etc/huge", std::string(5 << 20, 'y'))
                          .file("etc/empty")
                          .file("etc/other", "no")
                          .tar(),
                      o);
  ASSERT_EQ(l.captured.count("etc/passwd"), 1u);
  EXPECT_EQ(l.captured.at("etc/passwd"), passwd);
  EXPECT_EQ(l.captured.at("etc/big"), big);
  EXPECT_EQ(l.captured.count("etc/huge"), 0u);
  EXPECT_TRUE(has_note(l, "etc/huge: not captured"));
  ASSERT_EQ(l.captured.count("etc/empty"), 1u);
  EXPECT_EQ(l.captured.at("etc/empty"), "");
  EXPECT_EQ(l.captured.count("etc/other"), 0u);
}

TEST(ScanLayerTest, CaptureScriptsUpToKeepsSmallScriptsAndExecutableText) {
  ScanOptions o;
  o.capture_scripts_up_to = 100;
  LayerIndex l = scan(LayerBuilder()
                          .file("entry.sh", "#!/bin/sh\nexec \"$@\"\n", 0755)
                          .file("noshebang", "echo hi\n", 0755)
                          .file("readme", "text\n", 0644)
                          .file("big.sh", "#!/bin/sh\n" + std::string(200, '#'), 0755)
                          .tar(),
                      o);
  EXPECT_EQ(l.captured.at("entry.sh"), "#!/bin/sh\nexec \"$@\"\n");
  EXPECT_EQ(l.captured.at("noshebang"), "echo hi\n");
  EXPECT_EQ(l.captured.count("readme"), 0u);
  EXPECT_EQ(l.captured.count("big.sh"), 0u);
}

std::string sample_tar() {
  return LayerBuilder()
      .dir("app")
      .file("app/a.txt", "alpha\n")
      .file("app/big.bin", std::string(2500000, '\x07'))
      .file("app/run.sh", "#!/bin/sh\nexec app\n", 0755)
      .tar();
}

TEST(ScanLayerTest, GzipZstdAndPlainGiveTheSameEntries) {
  std::string tar = sample_tar();
  LayerIndex plain = scan(tar);
  LayerIndex gz = scan(coroner::testing::gzip(tar));
  LayerIndex zs = scan(coroner::testing::zstd(tar));
  EXPECT_EQ(plain.compression, image::Compression::kNone);
  EXPECT_EQ(gz.compression, image::Compression::kGzip);
  EXPECT_EQ(zs.compression, image::Compression::kZstd);
  for (const LayerIndex* l : {&gz, &zs}) {
    ASSERT_EQ(l->entries.size(), plain.entries.size());
    for (size_t i = 0; i < plain.entries.size(); ++i) {
      EXPECT_EQ(l->entries[i].path, plain.entries[i].path);
      EXPECT_EQ(l->entries[i].data_offset, plain.entries[i].data_offset);
      EXPECT_EQ(l->entries[i].kind, plain.entries[i].kind);
    }
    EXPECT_EQ(l->uncompressed_bytes, tar.size());
    EXPECT_EQ(l->diff_id, plain.diff_id);
  }
  EXPECT_EQ(plain.diff_id, sha256_digest(as_bytes(tar)));
  EXPECT_EQ(gz.compressed_bytes, coroner::testing::gzip(tar).size());
}

TEST(ScanLayerTest, MultiMemberGzipAndMultiFrameZstd) {
  std::string tar = sample_tar();
  size_t cut = 777777;  // not on a tar block boundary
  std::string gz = coroner::testing::gzip(tar.substr(0, cut)) +
                   coroner::testing::gzip(tar.substr(cut, 1000)) +
                   coroner::testing::gzip(tar.substr(cut + 1000));
  std::string zs =
      coroner::testing::zstd(tar.substr(0, cut)) + coroner::testing::zstd(tar.substr(cut));
  for (const std::string* blob : {&gz, &zs}) {
    LayerIndex l = scan(*blob);
    ASSERT_EQ(l.entries.size(), 4u);
    EXPECT_EQ(l.uncompressed_bytes, tar.size());
    EXPECT_EQ(l.diff_id, sha256_digest(as_bytes(tar)));
  }
}

TEST(ScanLayerTest, GzipHeaderWithExtraFieldAndNameIsRead) {
  std::string tar = sample_tar();
  std::string g = coroner::testing::gzip(tar);
  // RFC 1952: FLG = FEXTRA | FNAME, then XLEN, the extra field, and a NUL-terminated name, as
  // gzip(1) and some registries write them; ISA-L's 10-byte header is replaced.
  std::string header("\x1f\x8b\x08\x0c\0\0\0\0\0\x03", 10);
  header += std::string("\x04\0AB\0\0", 6) + "layer.tar" + std::string(1, '\0');
  LayerIndex l = scan(header + g.substr(10) + header + g.substr(10));  // two members
  EXPECT_EQ(l.uncompressed_bytes, 2 * tar.size());
  EXPECT_EQ(l.entries.size(), 4u);  // the tar ends at the first end-of-archive marker
}

TEST(ScanLayerTest, GzipTrailingZerosAreToleratedButGarbageIsNot) {
  std::string tar = sample_tar();
  EXPECT_EQ(scan(coroner::testing::gzip(tar) + std::string(100, '\0')).entries.size(), 4u);
  std::string msg = error_of(coroner::testing::gzip(tar) + "garbage");
  EXPECT_NE(msg.find("layer 3: gzip: unexpected data after member 1"), std::string::npos) << msg;
}

TEST(ScanLayerTest, GzipCrcMismatchIsAnError) {
  std::string gz = coroner::testing::gzip(sample_tar());
  gz[gz.size() - 6] ^= 1;  // CRC-32 in the trailer
  std::string msg = error_of(gz);
  EXPECT_NE(msg.find("layer 3: gzip: member 1: CRC-32"), std::string::npos) << msg;
}

TEST(ScanLayerTest, DigestVerificationPasses) {
  std::string tar = sample_tar();
  std::string gz = coroner::testing::gzip(tar);
  image::LayerDesc desc;
  desc.digest = sha256_digest(as_bytes(gz));
  desc.diff_id = sha256_digest(as_bytes(tar));
  LayerIndex l = scan(gz, {}, desc);
  EXPECT_EQ(l.diff_id, desc.diff_id);
  EXPECT_EQ(l.desc.digest, desc.digest);
}

TEST(ScanLayerTest, DigestMismatchIsAnError) {
  std::string tar = sample_tar();
  std::string gz = coroner::testing::gzip(tar);
  image::LayerDesc desc;
  desc.digest = "sha256:1a2b" + std::string(60, '0');
  std::string msg = error_of(gz, {}, desc);
  EXPECT_EQ(msg.find("layer 3 (sha256:1a2b00000000…): digest mismatch: manifest says sha256:1a2b"),
            0u)
      << msg;
  EXPECT_NE(msg.find("blob is " + sha256_digest(as_bytes(gz))), std::string::npos) << msg;
}

TEST(ScanLayerTest, DiffIdMismatchIsAnError) {
  std::string tar = sample_tar();
  image::LayerDesc desc;
  desc.diff_id = "sha256:" + std::string(64, 'f');
  std::string msg = error_of(coroner::testing::zstd(tar), {}, desc);
  EXPECT_NE(msg.find("diff_id mismatch: config says sha256:fff"), std::string::npos) << msg;
}

TEST(ScanLayerTest, NoVerificationSkipsDigests) {
  image::LayerDesc desc;
  desc.digest = "sha256:" + std::string(64, '0');
  ScanOptions o;
  o.verify = false;
  LayerIndex l = scan(sample_tar(), o, desc);
  EXPECT_EQ(l.entries.size(), 4u);
  EXPECT_EQ(l.diff_id, "");
}

TEST(ScanLayerTest, TruncatedStreamsAreErrorsNamingTheLayer) {
  std::string tar = sample_tar();
  std::string gz = coroner::testing::gzip(tar);
  std::string zs = coroner::testing::zstd(tar);
  std::string msg = error_of(gz.substr(0, gz.size() / 2));
  EXPECT_EQ(msg.find("layer 3: gzip: truncated"), 0u) << msg;
  msg = error_of(gz.substr(0, gz.size() - 4));  // inside the trailer
  EXPECT_EQ(msg.find("layer 3: gzip: truncated"), 0u) << msg;
  msg = error_of(zs.substr(0, zs.size() / 2));
  EXPECT_EQ(msg.find("layer 3: zstd: truncated"), 0u) << msg;
  msg = error_of(tar.substr(0, 1000000));
  EXPECT_EQ(msg.find("layer 3: tar: "), 0u) << msg;
}

TEST(ScanLayerTest, GarbageIsAnError) {
  std::string msg = error_of(std::string(4096, 'g'));
  EXPECT_EQ(msg.find("layer 3: tar: "), 0u) << msg;
  msg = error_of(std::string("\x1f\x8b garbage garbage garbage", 25));
  EXPECT_EQ(msg.find("layer 3: gzip: "), 0u) << msg;
  msg = error_of(std::string("\x28\xb5\x2f\xfd garbage garbage", 20));
  EXPECT_EQ(msg.find("layer 3: zstd: "), 0u) << msg;
  msg = error_of("BZh91AY&SY");
  EXPECT_EQ(msg.find("layer 3: unsupported compression bzip2"), 0u) << msg;
}

TEST(ScanLayerTest, CompressionBombIsBounded) {
  std::string tar = LayerBuilder().file("zeros", std::string(64 << 20, '\0')).tar();
  std::string gz = coroner::testing::gzip(tar);
  ASSERT_LT(gz.size(), 1u << 20);
  ScanOptions o;
  o.max_uncompressed = 8 << 20;
  std::string msg = error_of(gz, o);
  EXPECT_NE(msg.find("uncompressed size passes the limit of 8388608 bytes"), std::string::npos)
      << msg;
  msg = error_of(coroner::testing::zstd(tar), o);
  EXPECT_NE(msg.find("passes the limit"), std::string::npos) << msg;
}

TEST(ScanLayerTest, EmptyBlobIsAnEmptyLayer) {
  EXPECT_TRUE(scan("").entries.empty());
  EXPECT_TRUE(scan(coroner::testing::gzip("")).entries.empty());
  EXPECT_TRUE(scan(LayerBuilder().tar()).entries.empty());  // just the end-of-archive marker
  EXPECT_EQ(scan(coroner::testing::gzip(LayerBuilder().tar())).uncompressed_bytes, 1024u);
}

TEST(ReadEntryTest, RoundTripInEachCompression) {
  std::string tar = LayerBuilder()
                        .file("a", "alpha")
                        .file("b", std::string(3 << 20, 'b'))
                        .file("c", "gamma")
                        .hardlink("c2", "c")
                        .file("empty")
                        .tar();
  FakeSource src;
  src.add_blob(tar);
  src.add_blob(coroner::testing::gzip(tar));
  src.add_blob(coroner::testing::zstd(tar.substr(0, 1234567)) +
               coroner::testing::zstd(tar.substr(1234567)));
  std::vector<LayerIndex> layers = scan_image(src, {});
  ASSERT_EQ(layers.size(), 3u);
  for (const LayerIndex& l : layers) {
    auto content = [&](std::string_view path) {
      std::string out;
      read_entry(src, l, *find(l, path), [&](std::span<const std::byte> b) { out += as_chars(b); });
      return out;
    };
    EXPECT_EQ(content("a"), "alpha");
    EXPECT_EQ(content("b"), std::string(3 << 20, 'b'));
    EXPECT_EQ(content("c"), "gamma");
    EXPECT_EQ(content("c2"), "gamma");  // a hardlink reads its target
    EXPECT_EQ(content("empty"), "");
  }
}

TEST(ScanImageTest, ScansLayersInParallelAndReturnsThemBottomFirst) {
  FakeSource src;
  for (int i = 0; i < 7; ++i) {
    std::string tar =
        LayerBuilder().file("layer" + std::to_string(i), std::string(i * 1000, 'x')).tar();
    std::string blob = i % 3 == 0   ? tar
                       : i % 3 == 1 ? coroner::testing::gzip(tar)
                                    : coroner::testing::zstd(tar);
    image::LayerDesc desc;
    desc.digest = sha256_digest(as_bytes(blob));
    desc.diff_id = sha256_digest(as_bytes(tar));
    src.add_blob(blob, desc);
  }
  ScanOptions o;
  o.threads = 3;
  std::vector<LayerIndex> layers = scan_image(src, o);
  ASSERT_EQ(layers.size(), 7u);
  for (uint32_t i = 0; i < 7; ++i) {
    EXPECT_EQ(layers[i].index, i);
    ASSERT_EQ(layers[i].entries.size(), 1u);
    EXPECT_EQ(layers[i].entries[0].path, "layer" + std::to_string(i));
    EXPECT_EQ(layers[i].diff_id, src.info().layers[i].diff_id);
  }
}

TEST(ScanImageTest, AnErrorNamesItsLayer) {
  FakeSource src;
  src.add_blob(LayerBuilder().file("ok").tar());
  image::LayerDesc bad;
  bad.digest = "sha256:" + std::string(64, 'e');
  src.add_blob(LayerBuilder().file("x").tar(), bad);
  src.add_blob(LayerBuilder().file("ok2").tar());
  ScanOptions o;
  o.threads = 2;
  try {
    scan_image(src, o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).find("layer 1 (sha256:eeeeeeeeeeee…): digest mismatch"), 0u)
        << e.what();
  }
}

TEST(EntryTest, StaysSmall) {
  // Entry is the per-file cost of every index: keep it from growing unnoticed.
  EXPECT_LE(sizeof(Entry), 112u);
}

}  // namespace
}  // namespace coroner::scan
