#include "scan/layer_index.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "base/bytes.h"
#include "base/digest.h"
#include "base/error.h"
#include "scan/layer_stream.h"
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

// Records the views ContentScanner::kept hands over, by path (copied: they are checked after the
// scan).
class KeptViews : public ContentScanner {
 public:
  explicit KeptViews(std::map<std::string, std::string>& kept) : kept_(kept) {}
  bool begin(std::string_view path, uint64_t, ContentKind) override {
    path_ = path;
    return true;
  }
  void kept(std::span<const std::byte> content) override { kept_[path_] = as_chars(content); }
  void feed(std::span<const std::byte>) override {}
  void end(std::vector<ContentMatch>&) override {}

 private:
  std::map<std::string, std::string>& kept_;
  std::string path_;
};

// Files bigger than a block go through elf::ElfStream's windows (uncompressed blobs too, which
// used to be read whole straight from the blob), or, in a mapped plain blob, elf::parse over the
// file in place: the facts are elf::parse's over the whole file, also for a file cut short (the
// same Error).
TEST(ScanLayerTest, ElfFactsOfBigFilesAreThoseOfTheWholeFile) {
  std::string dir = coroner::testing::make_test_dir("scan-elf-mapped");
  auto scan_mapped = [&](const std::string& blob) {
    std::ofstream(dir + "/blob", std::ios::binary | std::ios::trunc) << blob;
    std::unique_ptr<ByteStream> s = open_file_stream(dir + "/blob");
    // A scanner that records the views shows the file was in place (KeptViews, below).
    std::map<std::string, std::string> kept;
    ScanOptions o;
    o.content_scanner = [&] { return std::make_unique<KeptViews>(kept); };
    LayerIndex l = scan_layer(*s, {}, 0, o);
    EXPECT_EQ(kept.count("lib/x.so"), 1u);
    return l;
  };
  auto same = [](const elf::ElfInfo& a, const elf::ElfInfo& b) {
    EXPECT_EQ(a.e_type, b.e_type);
    EXPECT_EQ(a.interp, b.interp);
    EXPECT_EQ(a.needed, b.needed);
    EXPECT_EQ(a.soname, b.soname);
    EXPECT_EQ(a.runpath, b.runpath);
    EXPECT_EQ(a.dt_flags_1, b.dt_flags_1);
    ASSERT_EQ(a.verneed.size(), b.verneed.size());
    for (size_t i = 0; i < a.verneed.size(); ++i) {
      EXPECT_EQ(a.verneed[i].file, b.verneed[i].file);
      EXPECT_EQ(a.verneed[i].versions, b.verneed[i].versions);
    }
    EXPECT_EQ(a.verdef, b.verdef);
    EXPECT_EQ(a.abi_tag, b.abi_tag);
    EXPECT_EQ(a.x86_isa_needed, b.x86_isa_needed);
    EXPECT_EQ(a.glibc_kernel_check, b.glibc_kernel_check);
  };
  for (const char* path :
       {"/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"}) {
    SCOPED_TRACE(path);
    std::vector<std::byte> bin = coroner::testing::read_file(path);
    ASSERT_GT(bin.size(), 1u << 20);
    const elf::ElfInfo want = elf::parse(bin);
    ASSERT_FALSE(want.verdef.empty());
    // The padding makes the blob big enough to be mapped (FdStream maps 4 MiB or more).
    const std::string pad(4 << 20, 'p');
    std::string tar =
        LayerBuilder().file("pad", pad).file("lib/x.so", std::string(as_chars(bin)), 0755).tar();
    for (int mode = 0; mode < 4; ++mode) {
      SCOPED_TRACE(mode);
      LayerIndex l = mode == 3 ? scan_mapped(tar)
                               : scan(mode == 0   ? tar
                                      : mode == 1 ? coroner::testing::gzip(tar)
                                                  : coroner::testing::zstd(tar));
      const Entry* e = find(l, "lib/x.so");
      ASSERT_NE(e, nullptr);
      ASSERT_NE(e->facts, Entry::kNoFacts);
      const Facts& f = l.facts[e->facts];
      ASSERT_TRUE(f.elf.has_value()) << f.elf_error;
      same(*f.elf, want);
    }
    // Cut before its dynamic section: the Error elf::parse gives.
    std::vector<std::byte> cut(bin.begin(), bin.begin() + static_cast<ptrdiff_t>(bin.size() / 2));
    std::string want_error;
    try {
      elf::parse(cut);
    } catch (const Error& err) {
      want_error = err.what();
    }
    ASSERT_FALSE(want_error.empty());
    std::string cut_tar =
        LayerBuilder().file("pad", pad).file("lib/x.so", std::string(as_chars(cut)), 0755).tar();
    for (const LayerIndex& l : {scan(cut_tar), scan_mapped(cut_tar)}) {
      const Entry* e = find(l, "lib/x.so");
      ASSERT_NE(e->facts, Entry::kNoFacts);
      EXPECT_EQ(l.facts[e->facts].elf_error, want_error);
    }
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

// Reads of uneven sizes, so that chunk boundaries fall anywhere in headers and contents. A read
// after the end is a failure: some streams (a daemon's, a registry's) must not be read past it.
class ShortReads : public ByteStream {
 public:
  explicit ShortReads(const std::string& data) : data_(data) {}
  size_t read(std::span<std::byte> dst) override {
    static constexpr size_t kSizes[] = {(1 << 20) - 1, 4097, 1 << 20, 333333, 1};
    if (ended_) ADD_FAILURE() << "read after the end of the stream";
    size_t n = std::min({dst.size(), data_.size() - at_, kSizes[calls_++ % std::size(kSizes)]});
    std::memcpy(dst.data(), data_.data() + at_, n);
    at_ += n;
    ended_ = n == 0 && !dst.empty();
    return n;
  }
  std::string name() const override { return "short reads"; }

 private:
  const std::string& data_;
  size_t at_ = 0, calls_ = 0;
  bool ended_ = false;
};

// Many chunks through the reader's buffer ring (reading runs ahead of the hasher): every byte
// a file holds reaches the scanner, and the digests cover the whole stream.
TEST(ScanLayerTest, ChunksRotatingThroughTheBufferRingKeepEveryByte) {
  LayerBuilder b;
  std::map<std::string, std::string> files;
  for (int i = 0; i < 60; ++i) {
    std::string content(static_cast<size_t>(i * 37111 % 300000 + (i % 7 == 0 ? 1 << 20 : 0)), '\0');
    for (size_t j = 0; j < content.size(); ++j) content[j] = static_cast<char>('a' + (i + j) % 26);
    std::string name = "f" + std::to_string(i);
    b.file(name, content);
    files[name] = content;
  }
  std::string tar = b.tar();
  ASSERT_GT(tar.size(), 8u << 20);
  ScanOptions o;
  o.capture = [](std::string_view, uint64_t) { return true; };
  for (const std::string& blob : {tar, coroner::testing::gzip(tar), coroner::testing::zstd(tar)}) {
    ShortReads stream(blob);
    LayerIndex l = scan_layer(stream, {}, 3, o);
    EXPECT_EQ(l.diff_id, sha256_digest(as_bytes(tar)));
    for (const auto& [name, content] : files) {
      ASSERT_EQ(l.captured.count(name), 1u) << name;
      EXPECT_TRUE(l.captured.at(name) == content) << name;
    }
  }
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

// gzip and zstd decode on a thread of their own, ahead of the reader: a reader that stops early
// must not wait for the rest of the blob, and a decoding error reaches every later read.
TEST(LayerStreamTest, DecodingAheadStopsWithTheReaderAndReportsErrorsToEveryRead) {
  std::string content(24 << 20, '\0');
  for (size_t j = 0; j < content.size(); ++j) content[j] = static_cast<char>('a' + j * 7 % 23);
  std::string tar = LayerBuilder().file("big", content).tar();
  for (const std::string& blob : {coroner::testing::gzip(tar), coroner::testing::zstd(tar)}) {
    {
      auto stream = open_memory_stream(as_bytes(blob), "blob");
      LayerStream s(*stream, true, UINT64_MAX);
      EXPECT_FALSE(s.next().empty());
      EXPECT_LE(s.uncompressed_bytes(), LayerStream::kOutChunk);
    }  // destroyed mid-stream: the decoding thread stops
    auto stream = open_memory_stream(as_bytes(blob).first(blob.size() / 2), "blob");
    LayerStream s(*stream, false, UINT64_MAX);
    std::string first;
    try {
      while (!s.next().empty()) {
      }
    } catch (const Error& e) {
      first = e.what();
    }
    EXPECT_NE(first.find("truncated"), std::string::npos) << first;
    std::string again;
    try {
      s.next();
    } catch (const Error& e) {
      again = e.what();
    }
    EXPECT_EQ(again, first);
  }
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

TEST(ScanImageTest, CapturesShareOneBudgetOverAllLayers) {
  // Each of 6 layers rewrites a 40 KB "database"; the scan keeps at most 100 KB of captures:
  // two copies fit, the others are refused with a note, whichever layers come first.
  FakeSource src;
  for (int i = 0; i < 6; ++i) {
    src.add_blob(LayerBuilder().file("var/lib/rpm/Packages", std::string(40000, 'a' + i)).tar());
  }
  ScanOptions o;
  o.threads = 3;
  o.capture = [](std::string_view path, uint64_t) { return path == "var/lib/rpm/Packages"; };
  o.max_captured_total = 100000;
  std::vector<LayerIndex> layers = scan_image(src, o);
  int captured = 0, refused = 0;
  for (const LayerIndex& l : layers) {
    if (l.captured.count("var/lib/rpm/Packages")) {
      ++captured;
      EXPECT_EQ(l.captured.at("var/lib/rpm/Packages"), std::string(40000, 'a' + l.index));
    }
    if (has_note(l, "var/lib/rpm/Packages: not captured: the scan keeps at most")) ++refused;
  }
  EXPECT_EQ(captured, 2);
  EXPECT_EQ(refused, 4);
  // A lone scan_layer has a budget of its own.
  ScanOptions one = o;
  LayerIndex l = scan(LayerBuilder()
                          .file("var/lib/rpm/Packages", std::string(60000, 'x'))
                          .file("var/lib/rpm/Packages", std::string(60000, 'y'))
                          .tar(),
                      one);
  EXPECT_TRUE(has_note(l, "var/lib/rpm/Packages: not captured: the scan keeps at most"));
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

// Records the layer it was told and the paths it saw.
class LayerRecorder : public ContentScanner {
 public:
  explicit LayerRecorder(std::vector<std::string>* log) : log_(log) {}
  void set_layer(uint32_t index) override { layer_ = static_cast<int>(index); }
  bool begin(std::string_view path, uint64_t, ContentKind) override {
    log_->push_back(std::to_string(layer_) + ":" + std::string(path));
    return false;
  }
  void feed(std::span<const std::byte>) override {}
  void end(std::vector<ContentMatch>&) override {}

 private:
  std::vector<std::string>* log_;
  int layer_ = -1;
};

// One thread: the bottom layer first, then the others from the top down; each scanner knows its
// layer; each layer is announced when done.
TEST(ScanImageTest, BottomFirstThenTopDownEachScannerKnowsItsLayer) {
  FakeSource src;
  for (int i = 0; i < 4; ++i) src.add_blob(LayerBuilder().file("f" + std::to_string(i), "x").tar());
  std::vector<std::string> seen, done;
  ScanOptions o;
  o.threads = 1;
  o.content_scanner = [&seen] { return std::make_unique<LayerRecorder>(&seen); };
  o.layer_scanned = [&done](const LayerIndex& l) {
    done.push_back(std::to_string(l.index) + ":" + std::string(l.entries.at(0).path));
  };
  scan_image(src, o);
  EXPECT_EQ(seen, (std::vector<std::string>{"0:f0", "3:f3", "2:f2", "1:f1"}));
  EXPECT_EQ(done, seen);
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

// --- the tar fast path (tar_reader.h) against libarchive alone ---------------------------------

std::string pad512(std::string s) {
  s.resize((s.size() + 511) / 512 * 512, '\0');
  return s;
}

// Recomputes the checksum of a 512-byte header after a test changed a field.
std::string reseal(std::string h) {
  h.replace(148, 8, 8, ' ');
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  char field[8];
  std::snprintf(field, sizeof field, "%06o", sum);
  h.replace(148, 7, field, 7);  // six digits and the NUL; the space at 155 stays
  return h;
}

std::string gnu_magic(std::string h) {
  h.replace(257, 8, "ustar  \0", 8);
  return reseal(std::move(h));
}

std::string pax(std::string_view key, std::string_view value) {
  std::string rec = " " + std::string(key) + "=" + std::string(value) + "\n";
  size_t len = rec.size() + 1;
  while (std::to_string(len).size() + rec.size() != len) ++len;
  return std::to_string(len) + rec;
}

std::string pax_header(const std::string& records) {
  return coroner::testing::ustar_header("PaxHeaders/x", 'x', records.size()) + pad512(records);
}

std::string end_marker() { return std::string(1024, '\0'); }

// Scans `blob` with the fast path and with libarchive alone and expects the same index (or the
// same kind of error).
#define expect_same_as_libarchive(blob) \
  do {                                  \
    SCOPED_TRACE("case");               \
    same_as_libarchive(blob);           \
  } while (0)

void same_as_libarchive(const std::string& blob) {
  ScanOptions fast, lib;
  lib.tar_fast_path = false;
  std::string fast_error, lib_error;
  LayerIndex a, b;
  try {
    a = scan(blob, fast);
  } catch (const Error& e) {
    fast_error = e.what();
  }
  try {
    b = scan(blob, lib);
  } catch (const Error& e) {
    lib_error = e.what();
  }
  ASSERT_EQ(fast_error.empty(), lib_error.empty()) << fast_error << " / " << lib_error;
  if (!fast_error.empty()) return;
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    const Entry &x = a.entries[i], &y = b.entries[i];
    SCOPED_TRACE(std::string(y.path));
    EXPECT_EQ(x.path, y.path);
    EXPECT_EQ(x.link, y.link);
    EXPECT_EQ(x.uname, y.uname);
    EXPECT_EQ(x.gname, y.gname);
    EXPECT_EQ(x.size, y.size);
    EXPECT_EQ(x.data_offset, y.data_offset);
    EXPECT_EQ(x.mtime, y.mtime);
    EXPECT_EQ(x.uid, y.uid);
    EXPECT_EQ(x.gid, y.gid);
    EXPECT_EQ(x.mode, y.mode);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.whiteout, y.whiteout);
    EXPECT_EQ(x.kind, y.kind);
    ASSERT_EQ(x.facts == Entry::kNoFacts, y.facts == Entry::kNoFacts);
    if (x.facts != Entry::kNoFacts) {
      EXPECT_EQ(a.facts[x.facts].xattrs, b.facts[y.facts].xattrs);
      EXPECT_EQ(a.facts[x.facts].dev_major, b.facts[y.facts].dev_major);
      EXPECT_EQ(a.facts[x.facts].dev_minor, b.facts[y.facts].dev_minor);
      EXPECT_EQ(a.facts[x.facts].first_line, b.facts[y.facts].first_line);
    }
  }
  EXPECT_EQ(a.notes, b.notes);
}

TEST(TarFastPathTest, AgreesWithLibarchiveOnBuilderLayers) {
  std::string cap("\x01\x00\x00\x02\x00\x04\x00\x00", 8);
  expect_same_as_libarchive(LayerBuilder()
                                .dir("etc", 0755)
                                .file("etc/shadow", "root:*:1::::::\n", 0640, 0, 42)
                                .uname("root")
                                .gname("shadow")
                                .mtime(123456789)
                                .dir("tmp", 01777)
                                .file("usr/bin/passwd", "x", 04755)
                                .xattr("security.capability", cap)
                                .symlink("bin/sh", "/bin/busybox")
                                .hardlink("etc/shadow-", "./etc/shadow")
                                .char_device("dev/null", 1, 3)
                                .block_device("dev/sda", 8, 16)
                                .fifo("run/initctl", 0600)
                                .file(std::string(120, 'd') + "/" + std::string(130, 'f'), "x")
                                .symlink("s", std::string(200, 't'))
                                .file("caf\xc3\xa9", "#!/bin/sh\r\n")
                                .owner(3000000, 4000000)
                                .mtime(-5)
                                .whiteout("etc/old")
                                .opaque("var")
                                .tar());
}

TEST(TarFastPathTest, MalformedPaxRecordsAreErrorsAsInGo) {
  // Go's archive/tar (docker, containerd) fails a layer on these; libarchive alone warns and
  // goes on, so here the scan follows Go, not libarchive.
  using coroner::testing::ustar_header;
  auto error_of = [](const std::string& records) {
    try {
      scan(pax_header(records) + ustar_header("p", '0', 0) + end_marker());
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string go = " (docker and containerd unpack layers with Go's archive/tar, which rejects it)";
  EXPECT_EQ(error_of("5 a=\n7 b=cd"),
            "layer 3: tar: header at offset 0: malformed pax extended header: a record's length "
            "(7) does not fit the 6 bytes left" +
                go);
  EXPECT_NE(error_of(std::string("33 path=PAX1/PAX1/long-path-name\0", 33))
                .find("does not end with a newline"),
            std::string::npos);
  EXPECT_NE(error_of(pax(std::string("SCHILY.xattr.a\0b", 16), "v")).find("a key holds a NUL byte"),
            std::string::npos);
  EXPECT_NE(error_of(pax("path", std::string("a\0b", 3))).find("the path value holds a NUL"),
            std::string::npos);
  EXPECT_NE(error_of("x path=a\n").find("does not start with its length"), std::string::npos);
  EXPECT_NE(error_of("7 path\n").find("no \"key=\""), std::string::npos);
  // A NUL in another value (an xattr's) is fine, as in Go.
  LayerIndex l = scan(pax_header(pax("SCHILY.xattr.user.k", std::string("a\0b", 3))) +
                      ustar_header("p", '0', 0) + end_marker());
  ASSERT_EQ(l.entries.size(), 1u);
  // A global header is checked too.
  std::string g = coroner::testing::ustar_header("GlobalHead", 'g', 6) + pad512("6 a=b\0");
  EXPECT_THROW(scan(g + ustar_header("p", '0', 0) + end_marker()), Error);
}

TEST(TarFastPathTest, ExtendedHeaderWithNoEntryBeforeTheEndIsTheEndAsInGo) {
  // Go's pax-path-hdr.tar: a pax header, then the end of the stream (or the end marker). Go's
  // archive/tar (docker, containerd) reads an empty archive; libarchive calls it damaged.
  using coroner::testing::ustar_header;
  std::string hdr = pax_header(pax("path", "PAX1/PAX1/long-path-name"));
  std::string entry = ustar_header("a", '0', 0);
  for (const std::string& tail : {std::string(), end_marker(), std::string(512, '\0')}) {
    LayerIndex l = scan(entry + hdr + tail);
    ASSERT_EQ(l.entries.size(), 1u);
    EXPECT_EQ(l.entries[0].path, "a");
    ASSERT_EQ(l.notes.size(), 1u);
    EXPECT_EQ(l.notes[0],
              "tar: the extended header at offset 512 has no entry after it, then the archive "
              "ends: ignored, as Go's archive/tar (docker, containerd) ignores it");
  }
  // A GNU long name alone, then the end.
  std::string name(150, 'n');
  LayerIndex g = scan(gnu_magic(ustar_header("././@LongLink", 'L', name.size() + 1)) +
                      pad512(name + '\0') + end_marker());
  EXPECT_TRUE(g.entries.empty());
  EXPECT_EQ(g.notes.size(), 1u);
  // Not the end: a zero block then data, or a cut block, stay errors.
  EXPECT_THROW(scan(hdr + std::string(512, '\0') + entry + end_marker()), Error);
  EXPECT_THROW(scan(hdr + std::string(100, '\0')), Error);
}

TEST(TarFastPathTest, AgreesWithLibarchiveOnGnuAndOddHeaders) {
  using coroner::testing::ustar_header;
  std::string long_name = std::string(150, 'n') + "/file";
  std::string long_link = std::string(140, 'l');
  // GNU 'L' long name and 'K' long link, with GNU magic.
  std::string gnu = gnu_magic(ustar_header("././@LongLink", 'L', long_name.size() + 1)) +
                    pad512(long_name + '\0') +
                    gnu_magic(ustar_header(long_name.substr(0, 100), '0', 3)) + pad512("abc") +
                    gnu_magic(ustar_header("././@LongLink", 'K', long_link.size() + 1)) +
                    pad512(long_link + '\0') + gnu_magic(ustar_header("sym", '2', 0, "short"));
  expect_same_as_libarchive(gnu + end_marker());
  // ustar prefix field.
  std::string pre = ustar_header("name", '0', 2);
  pre.replace(345, 11, "some/prefix");
  expect_same_as_libarchive(reseal(pre) + pad512("hi") + end_marker());
  // Base-256 size and uid.
  std::string b256 = ustar_header("big", '0', 0);
  b256.replace(124, 12, 12, '\0');
  b256[124] = static_cast<char>(0x80);
  b256[135] = 5;
  b256.replace(108, 8, 8, '\0');
  b256[108] = static_cast<char>(0x80);
  b256[113] = 1;
  expect_same_as_libarchive(reseal(b256) + pad512("12345") + end_marker());
  // Pax overrides, both xattr record forms, fractional and negative mtimes.
  std::string recs = pax("size", "4") + pax("uid", "70000") + pax("gid", "80000") +
                     pax("uname", "someone") + pax("gname", "group") + pax("mtime", "-12.75") +
                     pax("SCHILY.xattr.user.a", std::string("v\0\n1", 4)) +
                     pax("LIBARCHIVE.xattr.user.b%3Dx", "aGVsbG8=") +
                     pax("LIBARCHIVE.xattr.user.a", "d29ybGQ") + pax("atime", "1.5") +
                     pax("comment", "ignored");
  expect_same_as_libarchive(pax_header(recs) + ustar_header("p", '0', 0) + pad512("data") +
                            pax_header(pax("mtime", "1700000000.123456789")) +
                            ustar_header("q", '5', 0) + end_marker());
  // A global header hands the rest to libarchive mid-stream: later offsets must still be right.
  std::string g = ustar_header("pax_global_header", 'g', 19) + pad512(pax("comment", "abcdefg"));
  expect_same_as_libarchive(ustar_header("a", '0', 1) + pad512("1") + g +
                            ustar_header("b", '0', 2) + pad512("22") + end_marker());
  // A symlink with content, a dir with a size, an unknown type, a bad checksum, malformed pax:
  // all libarchive's.
  expect_same_as_libarchive(ustar_header("l", '2', 3, "t") + pad512("xyz") + end_marker());
  expect_same_as_libarchive(ustar_header("d", '5', 3) + pad512("xyz") + end_marker());
  expect_same_as_libarchive(ustar_header("u", 'Z', 3) + pad512("xyz") + end_marker());
  std::string bad = ustar_header("c", '0', 1);
  bad[0] = 'C';
  expect_same_as_libarchive(ustar_header("a", '0', 1) + pad512("1") + bad + pad512("1") +
                            end_marker());
  expect_same_as_libarchive(ustar_header("f/", '0', 0) + ustar_header("f2", '0', 0));
  // Junk in a number field of a regular file (found by fuzz_tar): libarchive's format bid
  // refuses it as the first header, its tar reader takes it later in the stream.
  std::string junk = ustar_header("j", '0', 0);
  junk.replace(329, 8,
               std::string("000 00\0"
                           "0",
                           8));
  expect_same_as_libarchive(reseal(junk) + end_marker());
  expect_same_as_libarchive(ustar_header("a", '0', 1) + pad512("1") + reseal(junk) + end_marker());
  // Truncated in a header, in content, in padding; no end marker at all.
  std::string t = ustar_header("a", '0', 700) + pad512(std::string(700, 'a'));
  expect_same_as_libarchive(t.substr(0, 300));
  expect_same_as_libarchive(t.substr(0, 800));
  expect_same_as_libarchive(t.substr(0, 1100));
  expect_same_as_libarchive(t);
}

TEST(TarFastPathTest, AgreesWithLibarchiveAcrossChunkBoundaries) {
  // Entries sized so that headers, pax data and content straddle the stream's 1 MiB chunks at
  // many different offsets.
  LayerBuilder b;
  for (int i = 0; i < 40; ++i) {
    size_t size = (1u << 20) / 3 + static_cast<size_t>(i) * 97;
    b.file(std::string(110 + static_cast<size_t>(i), 'p') + std::to_string(i),
           std::string(size, 'x'))
        .xattr("user.i", std::to_string(i));
  }
  std::string tar = b.tar();
  expect_same_as_libarchive(tar);
  expect_same_as_libarchive(coroner::testing::gzip(tar));
}

TEST(TarFastPathTest, WholeContentsReadStraightFromTheBlobAreExact) {
  // Big captured files take LayerStream::read_direct on plain layers and the block path on
  // gzip and with libarchive: the same bytes, and digests that still cover every byte.
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i * 7 % 26);
  std::string big2 = big.substr(1000, (1 << 20) + 333);
  std::string tar = LayerBuilder()
                        .file("small", "s")
                        .file("big", big)
                        .file("x", std::string(700000, 'x'))
                        .file("big2", big2)
                        .file("after", "tail\n")
                        .tar();
  ScanOptions o;
  o.capture = [](std::string_view path, uint64_t) { return path.starts_with("big"); };
  // Modes 3 and 4 read the blob from a file, mapped (ByteStream::map_rest): the whole file, and
  // a range that starts off a page boundary, as a docker-archive member does.
  std::string dir = coroner::testing::make_test_dir("scan-mapped");
  for (int mode = 0; mode < 5; ++mode) {
    SCOPED_TRACE(mode);
    ScanOptions m = o;
    m.tar_fast_path = mode != 2;
    std::string blob = mode == 1 || mode == 4 ? coroner::testing::gzip(tar) : tar;
    LayerIndex l;
    if (mode < 3) {
      l = scan(blob, m);
    } else {
      std::string prefix = mode == 4 ? std::string(1234, 'j') : "";
      std::string path = dir + "/blob" + std::to_string(mode);
      std::ofstream(path, std::ios::binary) << prefix << blob << "trailing";
      std::unique_ptr<ByteStream> s =
          open_file_range_stream(path, prefix.size(), blob.size(), "blob");
      l = scan_layer(*s, {}, 3, m);
    }
    EXPECT_EQ(l.diff_id, sha256_digest(as_bytes(tar)));
    ASSERT_EQ(l.captured.count("big"), 1u);
    EXPECT_TRUE(l.captured.at("big") == big);
    ASSERT_EQ(l.captured.count("big2"), 1u);
    EXPECT_TRUE(l.captured.at("big2") == big2);
    ASSERT_NE(find(l, "after"), nullptr);
    EXPECT_EQ(tar.substr(find(l, "after")->data_offset, 5), "tail\n");
  }
  // Truncated inside a big captured file: an error naming the layer.
  std::string msg = error_of(tar.substr(0, 2 << 20), o);
  EXPECT_EQ(msg.find("layer 3: tar: "), 0u) << msg;
}

TEST(EntryTest, StaysSmall) {
  // Entry is the per-file cost of every index: keep it from growing unnoticed.
  EXPECT_LE(sizeof(Entry), 112u);
}

TEST(TarFastPathTest, MappedPlainLayersHandScannersEachWholeContentAsAView) {
  std::string big(5 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i * 11 % 26);
  std::map<std::string, std::string> want = {
      {"a", "x"}, {"big", big}, {"mid", std::string(700000, 'm')}, {"z", "tail\n"}};
  LayerBuilder b;
  for (const auto& [path, content] : want) b.file(path, content);
  b.file("empty", "");
  std::string tar = b.tar();
  std::string dir = coroner::testing::make_test_dir("scan-kept");
  auto scan_file = [&](const std::string& blob, size_t prefix, size_t length) {
    std::string path = dir + "/blob";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(prefix, 'p') << blob;
    std::map<std::string, std::string> kept;
    ScanOptions o;
    o.content_scanner = [&] { return std::make_unique<KeptViews>(kept); };
    std::unique_ptr<ByteStream> s = open_file_range_stream(path, prefix, length, "blob");
    std::string error;
    try {
      scan_layer(*s, {}, 0, o);
    } catch (const Error& e) {
      error = e.what();
    }
    return std::pair(kept, error);
  };
  // A mapped plain blob, whole or at an odd offset: every non-empty file, exactly.
  for (size_t prefix : {size_t{0}, size_t{1234}}) {
    auto [kept, error] = scan_file(tar, prefix, tar.size());
    EXPECT_EQ(error, "");
    EXPECT_TRUE(kept == want) << prefix;
  }
  // gzip, or a blob in memory: no views (the chunks are buffers reused as the scan goes).
  EXPECT_TRUE(
      scan_file(coroner::testing::gzip(tar), 0, coroner::testing::gzip(tar).size()).first.empty());
  std::map<std::string, std::string> kept;
  ScanOptions o;
  o.content_scanner = [&] { return std::make_unique<KeptViews>(kept); };
  scan(tar, o);
  EXPECT_TRUE(kept.empty());
  // Cut inside "big": its header says more than the mapping holds, so no view reaches past
  // the end of the blob, and the scan fails as it does without views.
  size_t cut = tar.find(big.substr(0, 64)) + (3 << 20);
  auto [cut_kept, error] = scan_file(tar.substr(0, cut), 0, cut);
  EXPECT_EQ(cut_kept.count("big"), 0u);
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

// Sparse tar entries as GNU tar and bsdtar write them, from files with holes made in the test:
// "f" (10 MiB, one byte at 5 MiB: leading and trailing holes) and "e" (a real ELF binary, then
// a hole, then one byte at 3 MiB).
class SparseTarTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(coroner::testing::make_test_dir("scan-sparse"));
    std::string cmd = "cd " + *dir_ +
                      " && truncate -s 10M f && printf x | dd of=f bs=1 seek=5M conv=notrunc "
                      "status=none && cp /bin/true e && printf x | dd of=e bs=1 seek=3M "
                      "conv=notrunc status=none"
                      " && tar --sparse --format=posix -cf pax10.tar f e"
                      " && tar --sparse --sparse-version=0.0 --format=posix -cf pax00.tar f e"
                      " && tar --sparse --sparse-version=0.1 --format=posix -cf pax01.tar f e"
                      " && tar --sparse --format=gnu -cf gnu.tar f e"
                      " && tar --format=posix -cf plain.tar f e";
    ok_ = std::system(cmd.c_str()) == 0;
    // bsdtar writes pax GNU.sparse 1.0 from the file's holes (SEEK_HOLE); optional.
    bsdtar_ =
        ok_ &&
        std::system(
            ("cd " + *dir_ + " && bsdtar --format=pax -cf bsd.tar f e " + "2>/dev/null").c_str()) ==
            0;
  }
  void SetUp() override {
    if (!ok_) GTEST_SKIP() << "GNU tar could not make the sparse archives";
  }
  static std::string file(const std::string& name) {
    return std::string(as_chars(coroner::testing::read_file(*dir_ + "/" + name)));
  }
  static std::vector<std::string> tars() {
    std::vector<std::string> out = {"pax10.tar", "pax00.tar", "pax01.tar", "gnu.tar"};
    if (bsdtar_) out.push_back("bsd.tar");
    return out;
  }
  static std::string* dir_;
  static bool ok_, bsdtar_;
};
std::string* SparseTarTest::dir_ = nullptr;
bool SparseTarTest::ok_ = false, SparseTarTest::bsdtar_ = false;

// Keeps every byte the scan feeds it (the content the scan saw).
class KeepAll : public ContentScanner {
 public:
  explicit KeepAll(std::map<std::string, std::string>& out) : out_(out) {}
  bool begin(std::string_view path, uint64_t, ContentKind) override {
    path_ = path;
    out_[path_].clear();
    return true;
  }
  void feed(std::span<const std::byte> b) override { out_[path_] += as_chars(b); }
  void end(std::vector<ContentMatch>&) override {}

 private:
  std::map<std::string, std::string>& out_;
  std::string path_;
};

TEST_F(SparseTarTest, ScanExpandsTheHolesAndReadEntryGivesTheFileBack) {
  std::string f = file("f"), e = file("e");
  ASSERT_EQ(f.size(), 10u << 20);
  LayerIndex plain = scan(file("plain.tar"));
  const Entry* pe = find(plain, "e");
  ASSERT_TRUE(pe && pe->facts != Entry::kNoFacts && plain.facts[pe->facts].elf.has_value());
  EXPECT_FALSE(pe->sparse);
  const elf::ElfInfo& want_elf = *plain.facts[pe->facts].elf;
  for (const std::string& name : tars()) {
    SCOPED_TRACE(name);
    std::string blob = file(name);
    ASSERT_LT(blob.size(), 1u << 20);  // really sparse: the holes are not in the tar
    std::map<std::string, std::string> seen;
    ScanOptions o;
    o.content_scanner = [&] { return std::make_unique<KeepAll>(seen); };
    LayerIndex l = scan(blob, o);
    EXPECT_EQ(l.notes, std::vector<std::string>{});
    const Entry* ef = find(l, "f");
    const Entry* ee = find(l, "e");
    ASSERT_TRUE(ef && ee);
    EXPECT_TRUE(ef->sparse);
    EXPECT_TRUE(ee->sparse);
    EXPECT_EQ(ef->size, f.size());
    EXPECT_EQ(ee->size, e.size());
    EXPECT_EQ(ef->kind, ContentKind::kBinary);
    EXPECT_TRUE(seen["f"] == f) << "the scan saw other bytes";
    EXPECT_TRUE(seen["e"] == e) << "the scan saw other bytes";
    EXPECT_EQ(sha256_digest(as_bytes(seen["e"])), sha256_digest(as_bytes(e)));
    // The ELF facts come from the expanded content, as from a tar without holes.
    EXPECT_EQ(ee->kind, ContentKind::kElf);
    ASSERT_NE(ee->facts, Entry::kNoFacts);
    const Facts& facts = l.facts[ee->facts];
    ASSERT_TRUE(facts.elf.has_value()) << facts.elf_error;
    EXPECT_EQ(facts.elf->interp, want_elf.interp);
    EXPECT_EQ(facts.elf->needed, want_elf.needed);
    EXPECT_EQ(facts.elf->e_machine, want_elf.e_machine);
    // Re-read: the layer is parsed again up to the entry.
    FakeSource src;
    src.add_blob(blob);
    std::vector<LayerIndex> layers = scan_image(src, {});
    for (const auto& [path, want] : {std::pair{"f", &f}, std::pair{"e", &e}}) {
      std::string out;
      read_entry(src, layers[0], *find(layers[0], path),
                 [&](std::span<const std::byte> b) { out += as_chars(b); });
      EXPECT_TRUE(out == *want) << path << ": read_entry gave " << out.size() << " bytes";
    }
  }
}

TEST_F(SparseTarTest, HolesCountAgainstMaxUncompressed) {
  ScanOptions o;
  o.max_uncompressed = 4 << 20;
  // "f": only the head is read; "e" (an ELF, read whole): ~3 MiB of holes, under the limit.
  LayerIndex l = scan(file("pax10.tar"), o);
  EXPECT_EQ(find(l, "f")->size, 10u << 20);
  // A capture reads "f" whole: 10 MiB of holes are over the limit.
  o.capture = [](std::string_view path, uint64_t) { return path == "f"; };
  std::string err = error_of(file("pax10.tar"), o);
  EXPECT_NE(err.find("layer 3: f: sparse file of 10485760 bytes: its holes expand past the limit"),
            std::string::npos)
      << err;
}

// A few KiB of tar declaring a 6 GiB file (old GNU headers hold up to 8 GiB): reading it (here for
// an md5-like content scanner) stops at max_sparse_holes with an error, instead of hashing
// gigabytes of zeros (with pax headers, terabytes).
TEST(SparseMapTest, HolesOfATinyTarExpandOnlyUpToTheSparseLimit) {
  std::string blob = coroner::testing::old_gnu_sparse_tar(
      "usr/big", uint64_t{6} << 30, {{0, 512}, {(uint64_t{6} << 30) - 512, 512}});
  ASSERT_LT(blob.size(), 8u << 10);
  // A content scanner that reads every file, as the md5 pass reads package files.
  struct ReadsAll : ContentScanner {
    bool begin(std::string_view, uint64_t, ContentKind) override { return true; }
    void feed(std::span<const std::byte>) override {}
    void end(std::vector<ContentMatch>&) override {}
  };
  ScanOptions o;
  o.max_sparse_holes = 64 << 20;
  o.content_scanner = [] { return std::make_unique<ReadsAll>(); };
  std::string err = error_of(blob, o);
  EXPECT_NE(err.find("usr/big: sparse file of 6442450944 bytes: its holes expand past the limit"),
            std::string::npos)
      << err;
  // The default limit is the same kind of bound: far below the stream's own.
  EXPECT_LE(ScanOptions{}.max_sparse_holes, uint64_t{16} << 30);
  // A scan that does not read the file lets it through; reading it again later (cat, export)
  // stops at the default limit.
  FakeSource src;
  src.add_blob(blob);
  std::vector<LayerIndex> layers = scan_image(src, {});
  const Entry* e = find(layers[0], "usr/big");
  ASSERT_TRUE(e && e->sparse);
  uint64_t got = 0;
  try {
    read_entry(src, layers[0], *e, [&](std::span<const std::byte> b) { got += b.size(); });
    ADD_FAILURE() << "no error";
  } catch (const Error& x) {
    EXPECT_NE(std::string(x.what()).find("its holes expand past the limit"), std::string::npos)
        << x.what();
  }
  EXPECT_LE(got, ScanOptions{}.max_sparse_holes + (1 << 20));
}

TEST(SparseMapTest, OldGnuSparseReadsBack) {
  std::string blob =
      coroner::testing::old_gnu_sparse_tar("s", 1 << 20, {{0, 512}, {8192, 512}, {1 << 20, 0}});
  FakeSource src;
  src.add_blob(blob);
  std::vector<LayerIndex> layers = scan_image(src, {});
  const Entry* e = find(layers[0], "s");
  ASSERT_TRUE(e && e->sparse);
  EXPECT_EQ(e->size, 1u << 20);
  std::string want(1 << 20, '\0');
  want.replace(0, 512, std::string(512, 'd'));
  want.replace(8192, 512, std::string(512, 'd'));
  std::string out;
  read_entry(src, layers[0], *e, [&](std::span<const std::byte> b) { out += as_chars(b); });
  EXPECT_TRUE(out == want);
}

TEST(SparseMapTest, HostileMapsAreErrorsAlsoBeyondWhatIsRead) {
  // Overlapping regions; a region past the size; a map going backwards after the head (the
  // scan reads only the head of this file, and still checks the whole map).
  EXPECT_NE(error_of(coroner::testing::old_gnu_sparse_tar("s", 8192, {{0, 1024}, {512, 512}}))
                .find("s: sparse map: data at "
                      "offset 512 overlaps"),
            std::string::npos);
  EXPECT_NE(error_of(coroner::testing::old_gnu_sparse_tar("s", 1024, {{0, 512}, {4096, 512}}))
                .find("is past the file size"),
            std::string::npos);
  // Every region invalid: libarchive's entry lists none (not sparse to it), yet reads by them.
  EXPECT_NE(error_of(coroner::testing::old_gnu_sparse_tar("s", 1024, {{4096, 512}}))
                .find("s: sparse map: data at offset 4096"),
            std::string::npos);
  std::string err = error_of(
      coroner::testing::old_gnu_sparse_tar("s", 1 << 20, {{0, 512}, {600000, 512}, {500000, 512}}));
  EXPECT_NE(err.find("layer 3: s: sparse map: data at offset 500000 overlaps"), std::string::npos)
      << err;
}

}  // namespace
}  // namespace coroner::scan
