#include "image/blob_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string_view>

#include "base/error.h"
#include "testing/image_builder.h"

namespace coroner::image {
namespace {

using coroner::testing::make_tar;

std::string read_all(ByteStream& s) {
  std::string out;
  std::byte buf[777];
  for (size_t n; (n = s.read(buf)) > 0;) out.append(reinterpret_cast<const char*>(buf), n);
  return out;
}

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = coroner::testing::make_temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(std::string_view bytes) {
    std::string path = dir_ + "/t" + std::to_string(n_++);
    coroner::testing::write_file(path, bytes);
    return path;
  }
  std::string dir_;
  int n_ = 0;
};

// Names over 100 bytes and non-ASCII names make libarchive write pax 'x' headers before the
// ustar header: the recorded offset must still be the first byte of the data.
TEST_F(BlobStoreTest, OffsetsSurvivePaxHeaders) {
  std::string long_name = "blobs/" + std::string(150, 'n') + "/layer.tar";
  coroner::testing::Files files{{"first", "1"},
                                {long_name, std::string(1025, 'L')},
                                {"dir/\xc3\xa9t\xc3\xa9", "utf8"},
                                {"empty", ""},
                                {"last", std::string(513, 'z')}};
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    auto store = open_tar_store(write(make_tar(files, c)));
    for (const auto& [name, content] : files) {
      ASSERT_EQ(store->size(name), content.size()) << name;
      EXPECT_EQ(read_all(*store->open(name)), content) << name;
      EXPECT_EQ(store->read(name, 4096), content) << name;
    }
    EXPECT_EQ(store->notes().size(), c == Compression::kNone ? 0u : 1u);
  }
}

TEST_F(BlobStoreTest, LeadingDotSlashAndSymlinksResolve) {
  auto store = open_tar_store(write(make_tar({{"./a/b.tar", "data"},
                                              {"c/link.tar", "->../a/b.tar"},
                                              {"loop1", "->loop2"},
                                              {"loop2", "->loop1"},
                                              {"escape", "->../../etc/passwd"}})));
  EXPECT_EQ(store->read("a/b.tar", 10), "data");
  EXPECT_EQ(store->read("c/link.tar", 10), "data");
  EXPECT_FALSE(store->size("loop1"));
  EXPECT_FALSE(store->size("escape"));
  EXPECT_FALSE(store->size("nothing"));
}

TEST_F(BlobStoreTest, ReadRefusesMissingAndOversizedMembers) {
  auto store = open_tar_store(write(make_tar({{"big", std::string(100, 'b')}})));
  try {
    store->read("big", 99);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "big: 100 bytes, more than the 99 accepted");
  }
  try {
    store->open("missing");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "missing: missing");
  }
}

TEST_F(BlobStoreTest, NotATarIsAnError) {
  try {
    open_tar_store(write("plain text, no tar here"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("not a tar archive: ", 0), 0u) << e.what();
  }
}

TEST_F(BlobStoreTest, DirStoreReadsFiles) {
  coroner::testing::write_files(dir_ + "/layout", {{"blobs/sha256/x", "blob"}});
  auto store = open_dir_store(dir_ + "/layout");
  EXPECT_EQ(store->size("blobs/sha256/x"), 4u);
  EXPECT_EQ(read_all(*store->open("blobs/sha256/x")), "blob");
  EXPECT_FALSE(store->size("blobs"));  // a folder is no member
}

// A local file's rest is mapped for the layer scan: exactly the stream's range (which may start
// off a page boundary), consumed; a small rest, a range past the end of the file or a pipe is
// not, and read() still says what is wrong.
TEST_F(BlobStoreTest, FileStreamsMapTheirRestExactly) {
  std::string content(5 << 20, '\0');
  for (size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 31 % 251);
  std::string path = write(std::string(1234, 'j') + content + "tail");
  auto s = open_file_range_stream(path, 1234, content.size(), "member");
  std::optional<std::span<const std::byte>> v = s->map_rest();
  ASSERT_TRUE(v.has_value());
  EXPECT_TRUE(std::string_view(reinterpret_cast<const char*>(v->data()), v->size()) == content);
  std::byte b[16];
  EXPECT_EQ(s->read(b), 0u);
  EXPECT_FALSE(s->map_rest().has_value());  // once
  auto whole = open_file_stream(path);
  v = whole->map_rest();
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->size(), 1234 + content.size() + 4);

  auto small = open_file_range_stream(path, 1234, 100, "small");
  EXPECT_FALSE(small->map_rest().has_value());
  EXPECT_EQ(read_all(*small), content.substr(0, 100));

  auto past = open_file_range_stream(path, 1234, content.size() + 100, "past");
  EXPECT_FALSE(past->map_rest().has_value());
  std::string err;
  try {
    read_all(*past);
  } catch (const Error& e) {
    err = e.what();
  }
  EXPECT_EQ(err, "past: unexpected end of file");

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  auto pipe = open_fd_stream(fds[0], "pipe");
  EXPECT_FALSE(pipe->map_rest().has_value());
  ::close(fds[1]);
}

}  // namespace
}  // namespace coroner::image
