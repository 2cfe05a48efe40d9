// End to end: the coroner binary on a docker-archive built here (LayerBuilder layers, a config
// with history, a manifest.json), with exact (golden) outputs for every explore command.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/bytes.h"
#include "base/digest.h"
#include "testing/layer_builder.h"

namespace coroner::cli {
namespace {

namespace stdfs = std::filesystem;
using coroner::testing::LayerBuilder;

std::string hex_of(const std::string& digest) { return digest.substr(7); }

// A docker save tarball (legacy layout: <id>/layer.tar, <config>.json, manifest.json).
void write_docker_archive(const std::string& path, const std::vector<std::string>& layers) {
  struct Member {
    std::string name, data;
  };
  std::vector<Member> members;
  std::string diff_ids, layer_names;
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string d = sha256_digest(as_bytes(layers[i]));
    members.push_back({hex_of(d) + "/layer.tar", layers[i]});
    diff_ids += (i ? "," : "") + ("\"" + d + "\"");
    layer_names += (i ? "," : "") + ("\"" + hex_of(d) + "/layer.tar\"");
  }
  std::string config =
      R"({"architecture":"amd64","os":"linux","config":{"User":"app","Entrypoint":["/app/entry.sh"]},)"
      R"("rootfs":{"type":"layers","diff_ids":[)" +
      diff_ids +
      R"(]},"history":[)"
      R"({"created":"2023-11-14T22:13:20Z","created_by":"ADD rootfs.tar / # a long command line that goes on and on"},)"
      R"({"created":"2023-11-14T22:13:20Z","created_by":"ENV A=1","empty_layer":true},)"
      R"({"created":"2023-11-14T22:13:20Z","created_by":"COPY app/ /app/"},)"
      R"({"created":"2023-11-14T22:13:20Z","created_by":"RUN rm /app/config.ini"}]})";
  std::string config_name = hex_of(sha256_digest(as_bytes(config))) + ".json";
  members.push_back({config_name, config});
  members.push_back({"manifest.json", R"([{"Config":")" + config_name +
                                          R"(","RepoTags":["test:latest"],"Layers":[)" +
                                          layer_names + "]}]"});
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, path.c_str()), ARCHIVE_OK);
  for (const Member& m : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, m.name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(m.data.size()));
    archive_write_header(a, e);
    archive_write_data(a, m.data.data(), m.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
}

struct Outcome {
  int exit_code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* base = std::getenv("CORONER_TEST_TMP");
    stdfs::path root = base ? base : stdfs::temp_directory_path();
    stdfs::create_directories(root);
    std::string tmpl = (root / "cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = new stdfs::path(tmpl);
    LayerBuilder base_layer, app, top;
    base_layer.dir("bin").dir("etc").dir("tmp", 01777).dir("usr").dir("usr/bin");
    base_layer.file("etc/passwd",
                    "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
    base_layer.file("etc/group", "root:x:0:\napp:x:1000:\n");
    base_layer.file("bin/sh",
                    std::string("\x7f"
                                "ELF\x02\x01\x01\0\0\0",
                                10),
                    0755);
    base_layer.symlink("bin/ls", "sh");
    base_layer.file("usr/bin/ping", "ping binary\n", 04755);
    base_layer.dir("usr/dev")
        .char_device("usr/dev/null", 1, 3)
        .block_device("usr/dev/sda", 8, 0, 0660);
    app.dir("app", 0755, 1000, 1000);
    app.file("app/entry.sh", "#!/bin/sh\necho Hello\n", 0755, 1000, 1000);
    app.file("app/config.ini", "[server]\nport = 8080\n");
    app.hardlink("app/config.default.ini", "app/config.ini");
    app.hardlink("app/config.copy.ini", "app/config.ini");
    top.whiteout("app/config.ini");
    top.dir("var").dir("var/log");
    top.file("var/log/app.log", "boot ok\nFATAL: config.ini not found\n", 0640, 1000, 4242);
    top.symlink("current", "/app");
    archive_ = new std::string("docker-archive:" + (*dir_ / "img.tar").string());
    std::vector<std::string> layers{base_layer.tar(), app.tar(), top.tar()};
    digests_ = new std::vector<std::string>;
    for (const std::string& l : layers) digests_->push_back(sha256_digest(as_bytes(l)));
    write_docker_archive((*dir_ / "img.tar").string(), layers);
    // The same image without its top layer, for diff.
    write_docker_archive((*dir_ / "parent.tar").string(), {layers[0], layers[1]});
  }
  static void TearDownTestSuite() {
    stdfs::remove_all(*dir_);
    delete dir_;
    delete archive_;
    delete digests_;
  }

  // Layer digests become <L0>.. (full) and <l0>.. (12 hex digits), the temp dir <tmp>, so the
  // goldens do not depend on the bytes libarchive writes.
  static std::string normalize(std::string s) {
    auto replace_all = [&](const std::string& from, const std::string& to) {
      for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) {
        s.replace(pos, from.size(), to);
      }
    };
    replace_all(dir_->string(), "<tmp>");
    for (size_t i = 0; i < digests_->size(); ++i) {
      replace_all((*digests_)[i], "<L" + std::to_string(i) + ">");
      replace_all((*digests_)[i].substr(7, 12), "<l" + std::to_string(i) + ">");
    }
    return s;
  }

  static Outcome run(const std::vector<std::string>& args) {
    std::string cmd = "COLUMNS=100 '" CORONER_BINARY "'";
    for (const std::string& a : args) cmd += " '" + a + "'";
    std::string out = (*dir_ / "out").string(), err = (*dir_ / "err").string();
    int status = std::system((cmd + " >'" + out + "' 2>'" + err + "'").c_str());
    Outcome r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = normalize(slurp(out));
    r.err = normalize(slurp(err));
    return r;
  }
  static Outcome run_shell(const std::string& cmd) {
    std::string out = (*dir_ / "out").string();
    int status = std::system((cmd + " >'" + out + "' 2>&1").c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, normalize(slurp(out)), ""};
  }
  static std::string slurp(const stdfs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  static const std::string& image() { return *archive_; }
  static stdfs::path* dir_;
  static std::string* archive_;
  static std::vector<std::string>* digests_;
};
stdfs::path* CliTest::dir_ = nullptr;
std::string* CliTest::archive_ = nullptr;
std::vector<std::string>* CliTest::digests_ = nullptr;

TEST_F(CliTest, Ls) {
  Outcome r = run({"ls", image(), "/current"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "config.copy.ini\nconfig.default.ini\nentry.sh\n");
}

TEST_F(CliTest, LsLong) {
  Outcome r = run({"ls", image(), "/", "-l"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "drwxr-xr-x app  app  0 2023-11-14 22:13  1 <l1> app\n"
            "drwxr-xr-x root root 0 2023-11-14 22:13  0 <l0> bin\n"
            "lrwxrwxrwx root root 4 2023-11-14 22:13  2 <l2> current -> /app\n"
            "drwxr-xr-x root root 0 2023-11-14 22:13  0 <l0> etc\n"
            "drwxrwxrwt root root 0 2023-11-14 22:13  0 <l0> tmp\n"
            "drwxr-xr-x root root 0 2023-11-14 22:13  0 <l0> usr\n"
            "drwxr-xr-x root root 0 2023-11-14 22:13  2 <l2> var\n");
  r = run({"ls", image(), "/app", "-l"});
  EXPECT_EQ(r.out,
            "-rw-r--r-- root root 21 2023-11-14 22:13  1 <l1> config.copy.ini => /app/config.ini\n"
            "-rw-r--r-- root root 21 2023-11-14 22:13  1 <l1> config.default.ini => "
            "/app/config.ini\n"
            "-rwxr-xr-x app  app  21 2023-11-14 22:13  1 <l1> entry.sh\n");
  r = run({"ls", image(), "/var", "-R"});
  EXPECT_EQ(r.out, "/var:\nlog\n\n/var/log:\napp.log\n");
  // Devices show "major, minor" in the size column, as ls does, and rdev in JSON.
  r = run({"ls", image(), "/usr/dev", "-l"});
  EXPECT_EQ(r.out,
            "crw-rw-rw- root root 1, 3 2023-11-14 22:13  0 <l0> null\n"
            "brw-rw---- root root 8, 0 2023-11-14 22:13  0 <l0> sda\n");
  r = run({"ls", image(), "/usr/dev/null", "--json"});
  EXPECT_NE(r.out.find(R"("rdev":{"major":1,"minor":3})"), std::string::npos) << r.out;
}

TEST_F(CliTest, Find) {
  Outcome r = run({"find", image(), "/", "-type", "f", "-perm", "/111"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "/app/entry.sh\n/bin/sh\n/usr/bin/ping\n");
  r = run({"find", image(), "-user", "app", "-nogroup"});
  EXPECT_EQ(r.out, "/var/log/app.log\n");
  r = run({"find", image(), "-size", "-2k", "-name", "*.ini", "-layer", "1"});
  EXPECT_EQ(r.out, "/app/config.copy.ini\n/app/config.default.ini\n");
  r = run({"find", image(), "/etc", "-name", "passwd", "--json"});
  EXPECT_EQ(r.out, R"({"gid":0,"layer":0,"layer_digest":"<L0>","link":null,"mode":"0644",)"
                   R"("mtime":1700000000,"path":"/etc/passwd","size":65,"type":"file","uid":0})"
                   "\n");
}

TEST_F(CliTest, Cat) {
  Outcome r = run({"cat", image(), "/current/config.default.ini"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[server]\nport = 8080\n");
  r = run({"cat", image(), "/app"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "coroner: /app: is a directory, not a regular file\n");
  r = run({"cat", image(), "/nope"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coroner: /nope: no such file or directory in the image\n");
}

TEST_F(CliTest, Grep) {
  Outcome r = run({"grep", "port|FATAL", image()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "/app/config.copy.ini:2:port = 8080\n/app/config.default.ini:2:port = 8080\n"
            "/var/log/app.log:2:FATAL: config.ini not found\n");
  r = run({"grep", "-l", "-i", "hello", image(), "/app", "/var"});
  EXPECT_EQ(r.out, "/app/entry.sh\n");
  r = run({"grep", "nothing-matches-this", image()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
}

TEST_F(CliTest, Layers) {
  Outcome r = run({"layers", image()});  // COLUMNS=100
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "LAYER  DIGEST        SIZE      ADDED  CHANGED  DELETED  WASTED    CREATED BY\n"
            "0      <l0>  9.73kB       13        0        0  0B        ADD rootfs.tar / # a "
            "long comma...\n"
            "-      -             -                                            ENV A=1\n"
            "1      <l1>  4.61kB        5        0        0  0B        COPY app/ /app/\n"
            "2      <l2>  4.10kB        4        0        1  0B        RUN rm /app/config.ini\n");
  r = run({"layers", image(), "--layer", "-1"});
  EXPECT_EQ(r.out,
            "D   -  /app/config.ini\n"
            "A   -  /current\n"
            "A   -  /var/\n"
            "A   -  /var/log/\n"
            "A  36  /var/log/app.log\n");
}

TEST_F(CliTest, ExportTarAndLayerMap) {
  std::string tar = (*dir_ / "root.tar").string(), map = (*dir_ / "map.tsv").string();
  Outcome r = run({"export", image(), "-o", tar, "--layer-map", map});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "exported 21 entries (7 files, 187 bytes, 1 hardlinks) to <tmp>/root.tar\n");
  EXPECT_EQ(normalize(slurp(map)),
            "/app\t1\t<L1>\tCOPY app/ /app/\n"
            "/app/config.copy.ini\t1\t<L1>\tCOPY app/ /app/\n"
            "/app/config.default.ini\t1\t<L1>\tCOPY app/ /app/\n"
            "/app/entry.sh\t1\t<L1>\tCOPY app/ /app/\n"
            "/bin\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/bin/ls\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/bin/sh\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/current\t2\t<L2>\tRUN rm /app/config.ini\n"
            "/etc\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/etc/group\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/etc/passwd\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/tmp\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/usr\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/usr/bin\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/usr/bin/ping\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/usr/dev\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/usr/dev/null\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/usr/dev/sda\t0\t<L0>\tADD rootfs.tar / # a long command line that goes on and on\n"
            "/var\t2\t<L2>\tRUN rm /app/config.ini\n"
            "/var/log\t2\t<L2>\tRUN rm /app/config.ini\n"
            "/var/log/app.log\t2\t<L2>\tRUN rm /app/config.ini\n");
  // The tar holds the merged root: bsdtar lists it.
  r = run_shell("bsdtar -tvf '" + tar +
                "' | awk '{printf \"%s %s %s\", $1, $3, $4; for (i = 9; i <= NF; i++) "
                "printf \" %s\", $i; print \"\"}'");
  EXPECT_EQ(r.out,
            "drwxr-xr-x 1000 1000 app/\n"
            "drwxr-xr-x 0 0 bin/\n"
            "drwxr-xr-x 0 0 etc/\n"
            "drwxrwxrwt 0 0 tmp/\n"
            "drwxr-xr-x 0 0 usr/\n"
            "drwxr-xr-x 0 0 usr/bin/\n"
            "drwxr-xr-x 0 0 usr/dev/\n"
            "drwxr-xr-x 0 0 var/\n"
            "drwxr-xr-x 0 0 var/log/\n"
            "lrwxrwxrwx 0 0 bin/ls -> sh\n"
            "lrwxrwxrwx 0 0 current -> /app\n"
            "crw-rw-rw- 0 0 usr/dev/null\n"
            "brw-rw---- 0 0 usr/dev/sda\n"
            "-rw-r--r-- 0 0 etc/passwd\n"
            "-rw-r--r-- 0 0 etc/group\n"
            "-rwxr-xr-x 0 0 bin/sh\n"
            "-rwsr-xr-x 0 0 usr/bin/ping\n"
            "-rwxr-xr-x 1000 1000 app/entry.sh\n"
            "-rw-r--r-- 0 0 app/config.copy.ini\n"
            "-rw-r----- 1000 4242 var/log/app.log\n"
            "hrw-r--r-- 0 0 app/config.default.ini link to app/config.copy.ini\n");
}

TEST_F(CliTest, ExportDirKeepsModesOwnersTimesAndHardlinks) {
  std::string out = (*dir_ / "root").string();
  Outcome r = run({"export", image(), "--dir", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, R"({"bytes":187,"entries":21,"files":7,"hardlinks":1,"notes":[],)"
                   R"("output":"<tmp>/root"})"
                   "\n");
  bool root = ::geteuid() == 0;
  struct stat st, st2;
  ASSERT_EQ(::stat((out + "/usr/bin/ping").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, root ? 04755u : 0755u);
  ASSERT_EQ(::stat((out + "/app/entry.sh").c_str(), &st), 0);
  if (root) {
    EXPECT_EQ(st.st_uid, 1000u);
  }
  ASSERT_EQ(::stat((out + "/tmp").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 01777u);
  ASSERT_EQ(::stat((out + "/app").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtime, 1700000000);  // directory times are applied after their children
  ASSERT_EQ(::stat((out + "/app/config.copy.ini").c_str(), &st), 0);
  ASSERT_EQ(::stat((out + "/app/config.default.ini").c_str(), &st2), 0);
  EXPECT_EQ(st.st_ino, st2.st_ino);
  EXPECT_EQ(st.st_nlink, 2u);
  EXPECT_EQ(slurp(out + "/app/config.default.ini"), "[server]\nport = 8080\n");
  EXPECT_EQ(stdfs::read_symlink(out + "/current"), "/app");
}

TEST_F(CliTest, ExportDirNeverWritesOutsideDir) {
  // Layer 0 plants "evil -> <outside>" (absolute), layer 1 writes "evil/pwned" and "evil2/x"
  // under "evil2 -> ../../..". Whatever the merge decides, nothing may appear outside DIR.
  stdfs::path outside = *dir_ / "outside";
  stdfs::create_directories(outside);
  LayerBuilder l0, l1;
  l0.symlink("evil", outside.string()).symlink("evil2", "../../..");
  l1.file("evil/pwned", "owned\n").file("evil2/pwned2", "owned\n");
  std::string archive = (*dir_ / "evil.tar").string();
  write_docker_archive(archive, {l0.tar(), l1.tar()});
  std::string out = (*dir_ / "export").string();
  Outcome r = run({"export", "docker-archive:" + archive, "--dir", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(stdfs::is_empty(outside));
  EXPECT_FALSE(stdfs::exists(*dir_ / "pwned2"));
  EXPECT_TRUE(stdfs::is_regular_file(stdfs::path(out) / "pwned2"));
  EXPECT_TRUE(stdfs::is_symlink(stdfs::path(out) / "evil"));
  std::vector<std::string> listing;
  for (const auto& e : stdfs::recursive_directory_iterator(out)) {
    listing.push_back("/" + e.path().lexically_relative(out).string());
  }
  std::sort(listing.begin(), listing.end());
  // The merge resolves the parents inside the root, as containerd does: "evil/pwned" lands at
  // <root><outside>/pwned and "evil2/pwned2" at <root>/pwned2 (".." stops at the root).
  std::vector<std::string> expected{"/evil", "/evil2", "/pwned2"};
  for (stdfs::path p = outside / "pwned"; p != p.root_path(); p = p.parent_path()) {
    expected.push_back(p.string());
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(listing, expected);
}

TEST_F(CliTest, HostileNamesAreEscapedInTextAndRawInJson) {
  LayerBuilder l0;
  l0.file("bad\x1b[2Jname", "a\x1b[31mb\tc\n");
  std::string archive = (*dir_ / "names.tar").string();
  write_docker_archive(archive, {l0.tar()});
  std::string img = "docker-archive:" + archive;
  EXPECT_EQ(run({"ls", img}).out, "bad\\x1b[2Jname\n");
  EXPECT_EQ(run({"grep", "b", img}).out, "/bad\\x1b[2Jname:1:a\\x1b[31mb\tc\n");
  EXPECT_NE(run({"find", img, "-type", "f", "--json"}).out.find(R"("path":"/bad\u001b[2Jname")"),
            std::string::npos);
  Outcome r = run({"cat", img, "/bad\x1b[2Jname/x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "coroner: /bad\\x1b[2Jname/x: not a directory in the image (at /bad\\x1b[2Jname)\n");
}

TEST_F(CliTest, DiffNamesWhatTheTopLayerAddedAndDeleted) {
  std::string parent = "docker-archive:" + (*dir_ / "parent.tar").string();
  Outcome r = run({"diff", parent, image()});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // as diff(1): the images differ
  EXPECT_EQ(r.out,
            "D /app/config.ini  layer 2: RUN rm /app/config.ini\n"
            "A /current  layer 2: RUN rm /app/config.ini\n"
            "A /var  layer 2: RUN rm /app/config.ini\n"
            "A /var/log  layer 2: RUN rm /app/config.ini\n"
            "A /var/log/app.log  layer 2: RUN rm /app/config.ini\n");
  r = run({"diff", parent, image(), "/var/log", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find(R"("kind":"A")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("path":"/var/log/app.log")"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(R"("layer_digest":"<L2>")"), std::string::npos) << r.out;
  r = run({"diff", image(), image()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  r = run({"diff", image(), image(), "/nowhere"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(CliTest, NoDigestCheckReadsALayerWhoseBytesDoNotMatchItsDigest) {
  // The same archive with one byte of a layer changed ("Hello" in /app/entry.sh is "Jello").
  std::string bytes = slurp(*dir_ / "img.tar");
  size_t at = bytes.find("echo Hello");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 5] = 'J';
  std::string tampered = (*dir_ / "tampered.tar").string();
  std::ofstream(tampered, std::ios::binary) << bytes;
  Outcome r = run({"find", "docker-archive:" + tampered, "-name", "entry.sh"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind(
                "coroner: layer 1: diff_id mismatch: config says <L1>, uncompressed layer is ", 0),
            0u)
      << r.err;
  for (const char* cmd : {"find", "diagnose", "audit", "packages", "ldd"}) {
    std::vector<std::string> args{cmd, "docker-archive:" + tampered, "--no-digest-check"};
    if (std::string(cmd) == "find") args.insert(args.end(), {"-name", "entry.sh"});
    if (std::string(cmd) == "ldd") args.push_back("/bin/sh");
    r = run(args);
    EXPECT_NE(r.exit_code, 2) << cmd << ": " << r.err;
    EXPECT_EQ(r.err.find("digest"), std::string::npos) << cmd << ": " << r.err;
  }
  r = run({"cat", "docker-archive:" + tampered, "/app/entry.sh", "--no-digest-check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "#!/bin/sh\necho Jello\n");
  // A flat tar has no digest to check: with the flag its layer has no digest to show either.
  r = run_shell("tar -C '" + dir_->string() + "' -cf '" + (*dir_ / "flat.tar").string() +
                "' --owner=0 --group=0 --mtime=@0 out");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  r = run({"ls", "-l", "tar:" + (*dir_ / "flat.tar").string(), "--no-digest-check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find(" 0 - out\n"), std::string::npos) << r.out;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  Outcome r = run({"find", image(), "-size", "12q"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "coroner: -size: 12q: unknown unit 'q' (use c, w, b, k, M or G)\n");
  r = run({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  r = run({"help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("coroner: examine container images without running them\n", 0), 0u);
  r = run({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "coroner 0.1.0\n");
  r = run({"ls", "docker-archive:/nonexistent/x.tar"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace coroner::cli
