#include "linux/loader.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "testing/tree_builder.h"

namespace coroner::linux_ {
namespace {

constexpr std::string_view kLibDir = "usr/lib/x86_64-linux-gnu";

elf::ElfInfo lib(const std::string& soname, std::vector<std::string> needed = {},
                 uint16_t machine = 62, uint8_t cls = 2) {
  elf::ElfInfo e;
  e.ei_class = cls;
  e.ei_data = 1;
  e.e_type = 3;
  e.e_machine = machine;
  e.has_dynamic = true;
  e.soname = soname;
  e.needed = std::move(needed);
  return e;
}

elf::ElfInfo prog(std::vector<std::string> needed,
                  std::string interp = "/lib64/ld-linux-x86-64.so.2") {
  elf::ElfInfo e = lib("", std::move(needed));
  e.soname.reset();
  e.interp = std::move(interp);
  e.dt_flags_1 = 0x08000000;  // DF_1_PIE
  return e;
}

// An in-memory new-format /etc/ld.so.cache (glibc-ld.so.cache1.1), entries sorted as ldconfig
// sorts them (descending by _dl_cache_libcmp) so that ld.so's binary search finds them.
struct CacheEntry {
  std::string key, value;
  int32_t flags = 0x303;
};
std::string build_cache(std::vector<CacheEntry> entries) {
  std::sort(entries.begin(), entries.end(), [](const CacheEntry& a, const CacheEntry& b) {
    return ld_cache_libcmp(a.key, b.key) > 0;
  });
  std::string out(48 + 24 * entries.size(), '\0');
  auto put = [&](size_t off, uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out[off + i] = static_cast<char>((v >> (8 * i)) & 0xff);
  };
  out.replace(0, 20, "glibc-ld.so.cache1.1");
  put(20, entries.size(), 4);
  out[28] = 2;  // little-endian
  auto add_string = [&](const std::string& s) {
    size_t off = out.size();
    out += s;
    out += '\0';
    return off;
  };
  for (size_t i = 0; i < entries.size(); ++i) {
    size_t e = 48 + 24 * i;
    put(e, static_cast<uint32_t>(entries[i].flags), 4);
    put(e + 4, add_string(entries[i].key), 4);
    put(e + 8, add_string(entries[i].value), 4);
  }
  put(24, out.size() - 48 - 24 * entries.size(), 4);
  return out;
}

// A small Debian-like root: the loader in /usr/lib/x86_64-linux-gnu (with /lib64 and /lib
// pointing there as in bookworm's merged /usr) and libc.so.6 defining GLIBC_2.2.5 .. 2.36.
class LoaderTest : public ::testing::Test {
 protected:
  LoaderTest() {
    b.dir("usr").dir("usr/lib").dir(kLibDir).dir("usr/lib64").symlink("lib", "usr/lib");
    b.symlink("lib64", "usr/lib64").dir("etc").dir("opt").dir("app");
    elf::ElfInfo ld = lib("ld-linux-x86-64.so.2");
    ld.verdef = {"GLIBC_2.2.5", "GLIBC_2.3", "GLIBC_2.34", "GLIBC_PRIVATE"};
    file(std::string(kLibDir) + "/ld-linux-x86-64.so.2", ld);
    b.symlink("usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
    elf::ElfInfo libc = lib("libc.so.6", {"ld-linux-x86-64.so.2"});
    libc.verdef = {"GLIBC_2.2.5", "GLIBC_2.34", "GLIBC_2.35", "GLIBC_2.36"};
    file(std::string(kLibDir) + "/libc.so.6", libc);
  }

  void file(const std::string& path, const elf::ElfInfo& e) { b.file(path, 4096, 0755).elf(e); }

  LoadResult load(const std::string& path, const LoaderEnv& env = {}) {
    tree.emplace(b.build());
    root.emplace(*tree, b.layers());
    fs::ResolveResult r = fs::resolve(*tree, path);
    EXPECT_TRUE(r.ok()) << path;
    return simulate_load(*root, r.node.value_or(fs::kRootNode), env);
  }

  // Where `name` was loaded from, "" when it was not.
  static std::string where(const LoadResult& r, const std::string& name) {
    for (const LoadedObject& o : r.loaded) {
      if (o.name == name ||
          std::find(o.also_named.begin(), o.also_named.end(), name) != o.also_named.end()) {
        return o.path;
      }
    }
    return "";
  }
  static std::string via(const LoadResult& r, const std::string& name) {
    for (const LoadedObject& o : r.loaded) {
      if (o.name == name) return o.found_via;
    }
    return "";
  }
  static bool has_note(const LoadResult& r, std::string_view part) {
    return std::any_of(r.notes.begin(), r.notes.end(),
                       [&](const std::string& n) { return n.find(part) != std::string::npos; });
  }

  testing::TreeBuilder b;
  std::optional<fs::Tree> tree;
  std::optional<RootView> root;
};

TEST_F(LoaderTest, DefaultDirsFindLibcAndTheInterpreterMatchesByName) {
  file("app/x", prog({"libc.so.6"}));
  LoadResult r = load("/app/x");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.libc, Libc::kGlibc);
  ASSERT_EQ(r.loaded.size(), 3u);
  EXPECT_EQ(r.loaded[0].path, "/app/x");
  EXPECT_EQ(r.loaded[1].path, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(r.loaded[1].found_via, "default dir");
  // libc's DT_NEEDED ld-linux-x86-64.so.2 is the PT_INTERP object, listed under its path.
  EXPECT_EQ(r.loaded[2].path, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(r.loaded[2].found_via, "program interpreter");
  EXPECT_EQ(where(r, "ld-linux-x86-64.so.2"), "/lib64/ld-linux-x86-64.so.2");
}

TEST_F(LoaderTest, RunpathDisablesRpathOfThatObject) {
  elf::ElfInfo p = prog({"libx.so.1", "libonly_rpath.so.1", "libc.so.6"});
  p.rpath = "/opt/a";
  p.runpath = "/opt/b";
  file("app/x", p);
  file("opt/a/libx.so.1", lib("libx.so.1"));
  file("opt/b/libx.so.1", lib("libx.so.1"));
  file("opt/a/libonly_rpath.so.1", lib("libonly_rpath.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_EQ(where(r, "libx.so.1"), "/opt/b/libx.so.1");
  EXPECT_EQ(via(r, "libx.so.1"), "DT_RUNPATH of /app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].name, "libonly_rpath.so.1");
  EXPECT_EQ(r.missing[0].found_elsewhere, "/opt/a/libonly_rpath.so.1");
  EXPECT_EQ(r.missing[0].found_elsewhere_why,
            "/opt/a is in the DT_RPATH of /app/x, which ld.so ignores because it also has "
            "DT_RUNPATH");
}

TEST_F(LoaderTest, RpathOfLoaderChainApplies) {
  elf::ElfInfo p = prog({"liba.so.1", "libc.so.6"});
  p.rpath = "/opt/a";
  file("app/x", p);
  file("opt/a/liba.so.1", lib("liba.so.1", {"libb.so.1"}));
  file("opt/a/libb.so.1", lib("libb.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(where(r, "libb.so.1"), "/opt/a/libb.so.1");
  EXPECT_EQ(via(r, "libb.so.1"), "DT_RPATH of /app/x");
}

TEST_F(LoaderTest, RpathChainStopsAtAnObjectWithRunpath) {
  // liba has DT_RUNPATH: its own DT_NEEDED skip every DT_RPATH, the program's included.
  elf::ElfInfo p = prog({"liba.so.1", "libc.so.6"});
  p.rpath = "/opt/a";
  file("app/x", p);
  elf::ElfInfo a = lib("liba.so.1", {"libb.so.1"});
  a.runpath = "/opt/none";
  file("opt/a/liba.so.1", a);
  file("opt/a/libb.so.1", lib("libb.so.1"));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].name, "libb.so.1");
  EXPECT_EQ(r.missing[0].needed_by, "/opt/a/liba.so.1");
}

TEST_F(LoaderTest, RunpathNotInheritedByDependencies) {
  elf::ElfInfo p = prog({"liba.so.1", "libc.so.6"});
  p.runpath = "/opt/app/lib";
  file("app/x", p);
  file("opt/app/lib/liba.so.1", lib("liba.so.1", {"libb.so.1"}));
  file("opt/app/lib/libb.so.1", lib("libb.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_EQ(where(r, "liba.so.1"), "/opt/app/lib/liba.so.1");
  ASSERT_EQ(r.missing.size(), 1u);
  const MissingLibrary& m = r.missing[0];
  EXPECT_EQ(m.name, "libb.so.1");
  EXPECT_EQ(m.needed_by, "/opt/app/lib/liba.so.1");
  EXPECT_EQ(m.found_elsewhere, "/opt/app/lib/libb.so.1");
  EXPECT_NE(m.found_elsewhere_why.find("DT_RUNPATH of /app/x"), std::string::npos)
      << m.found_elsewhere_why;
  EXPECT_FALSE(r.ok());
}

TEST_F(LoaderTest, LdLibraryPathBeforeRunpath) {
  elf::ElfInfo p = prog({"libx.so.1", "libc.so.6"});
  p.runpath = "/opt/run";
  file("app/x", p);
  file("opt/env/libx.so.1", lib("libx.so.1"));
  file("opt/run/libx.so.1", lib("libx.so.1"));
  LoaderEnv env;
  env.ld_library_path = "/nonexistent:/opt/env/";
  LoadResult r = load("/app/x", env);
  EXPECT_EQ(where(r, "libx.so.1"), "/opt/env/libx.so.1");
  EXPECT_EQ(via(r, "libx.so.1"), "LD_LIBRARY_PATH");
}

TEST_F(LoaderTest, RpathBeforeLdLibraryPath) {
  elf::ElfInfo p = prog({"libx.so.1", "libc.so.6"});
  p.rpath = "/opt/rpath";
  file("app/x", p);
  file("opt/env/libx.so.1", lib("libx.so.1"));
  file("opt/rpath/libx.so.1", lib("libx.so.1"));
  LoaderEnv env;
  env.ld_library_path = "/opt/env";
  EXPECT_EQ(where(load("/app/x", env), "libx.so.1"), "/opt/rpath/libx.so.1");
}

TEST_F(LoaderTest, CacheBeforeDefaultDirs) {
  file("app/x", prog({"libx.so.1", "libc.so.6"}));
  file("opt/cached/libx.so.1", lib("libx.so.1"));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  b.file("etc/ld.so.cache").content(build_cache({{"libx.so.1", "/opt/cached/libx.so.1"}}));
  LoadResult r = load("/app/x");
  EXPECT_EQ(where(r, "libx.so.1"), "/opt/cached/libx.so.1");
  EXPECT_EQ(via(r, "libx.so.1"), "ld.so.cache");
}

TEST_F(LoaderTest, CacheEntryOfAnotherArchitectureIsIgnored) {
  file("app/x", prog({"libx.so.1", "libc.so.6"}));
  file("opt/cached/libx.so.1", lib("libx.so.1", {}, 183));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  b.file("etc/ld.so.cache")
      .content(build_cache({{"libx.so.1", "/opt/cached/libx.so.1", 0x0a03}}));  // AArch64
  EXPECT_EQ(where(load("/app/x"), "libx.so.1"), "/lib/x86_64-linux-gnu/libx.so.1");
}

TEST_F(LoaderTest, ConfDirWithoutLdconfigIsNotSearched) {
  file("app/x", prog({"libfoo.so.1", "libc.so.6"}));
  file("usr/local/lib/libfoo.so.1", lib("libfoo.so.1"));
  b.file("etc/ld.so.conf").content("include /etc/ld.so.conf.d/*.conf\n");
  b.file("etc/ld.so.conf.d/local.conf").content("/usr/local/lib\n");
  b.file("etc/ld.so.cache")
      .content(build_cache({{"libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"}}));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  const MissingLibrary& m = r.missing[0];
  EXPECT_EQ(m.name, "libfoo.so.1");
  EXPECT_EQ(m.error, "");
  EXPECT_EQ(m.found_elsewhere, "/usr/local/lib/libfoo.so.1");
  EXPECT_EQ(m.found_elsewhere_why,
            "/usr/local/lib is listed in /etc/ld.so.conf.d/local.conf but /etc/ld.so.cache was "
            "not rebuilt (run ldconfig): ld.so reads only the cache, never /etc/ld.so.conf");
  EXPECT_NE(std::find(m.searched.begin(), m.searched.end(), "/etc/ld.so.cache"), m.searched.end());
  EXPECT_EQ(where(r, "libc.so.6"), "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(via(r, "libc.so.6"), "ld.so.cache");
}

TEST_F(LoaderTest, LibraryInNoSearchPathSaysWhere) {
  file("app/x", prog({"libfoo.so.1", "libc.so.6"}));
  file("opt/app/lib/libfoo.so.1", lib("libfoo.so.1"));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].found_elsewhere, "/opt/app/lib/libfoo.so.1");
  EXPECT_EQ(r.missing[0].found_elsewhere_why, "in /opt/app/lib, which no search path names");
}

TEST_F(LoaderTest, SonameWithoutSymlinkIsExplained) {
  file("app/x", prog({"libfoo.so.1", "libc.so.6"}));
  file(std::string(kLibDir) + "/libfoo.so.1.2.3", lib("libfoo.so.1"));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].found_elsewhere, "/usr/lib/x86_64-linux-gnu/libfoo.so.1.2.3");
  EXPECT_NE(r.missing[0].found_elsewhere_why.find("ldconfig creates that symlink"),
            std::string::npos);
}

TEST_F(LoaderTest, StaleCacheFallsBackToDefaultDirs) {
  file("app/x", prog({"libx.so.1", "libc.so.6"}));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  b.file("etc/ld.so.cache").content(build_cache({{"libx.so.1", "/opt/gone/libx.so.1"}}));
  LoadResult r = load("/app/x");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(where(r, "libx.so.1"), "/lib/x86_64-linux-gnu/libx.so.1");
  EXPECT_EQ(via(r, "libx.so.1"), "default dir");
  EXPECT_TRUE(has_note(r, "stale /etc/ld.so.cache entry: libx.so.1 => /opt/gone/libx.so.1"));
}

TEST_F(LoaderTest, NodefaultlibSkipsDefaults) {
  elf::ElfInfo p = prog({"libx.so.1", "liby.so.1", "libc.so.6"});
  p.dt_flags_1 |= 0x800;  // DF_1_NODEFLIB
  p.rpath = "/opt/r";
  file("app/x", p);
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  file("opt/r/libc.so.6", lib("libc.so.6"));
  file("usr/local/lib/liby.so.1", lib("liby.so.1"));
  b.file("etc/ld.so.cache")
      .content(build_cache({{"libx.so.1", "/lib/x86_64-linux-gnu/libx.so.1"},
                            {"liby.so.1", "/usr/local/lib/liby.so.1"}}));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].name, "libx.so.1");
  // A cache value outside the system dirs is still used.
  EXPECT_EQ(where(r, "liby.so.1"), "/usr/local/lib/liby.so.1");
  EXPECT_TRUE(has_note(r, "DF_1_NODEFLIB"));
}

TEST_F(LoaderTest, OriginExpandsToRealDirOfProgram) {
  elf::ElfInfo p = prog({"libx.so.1", "libc.so.6"});
  p.rpath = "$ORIGIN/../lib";
  file("opt/app/bin/app", p);
  file("opt/app/lib/libx.so.1", lib("libx.so.1"));
  b.dir("usr/bin").symlink("usr/bin/app", "/opt/app/bin/app");
  LoadResult r = load("/usr/bin/app");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.loaded[0].path, "/opt/app/bin/app");
  EXPECT_EQ(where(r, "libx.so.1"), "/opt/app/bin/../lib/libx.so.1");
}

TEST_F(LoaderTest, OriginOfALibraryIsItsDirAsFound) {
  elf::ElfInfo p = prog({"liba.so.1", "libc.so.6"});
  p.runpath = "/opt/a";
  file("app/x", p);
  elf::ElfInfo a = lib("liba.so.1", {"libb.so.1"});
  a.runpath = "${ORIGIN}/sub";
  file("opt/a/liba.so.1", a);
  file("opt/a/sub/libb.so.1", lib("libb.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_EQ(where(r, "libb.so.1"), "/opt/a/sub/libb.so.1");
}

TEST_F(LoaderTest, LibAndPlatformExpandAsOnDebian) {
  elf::ElfInfo p = prog({"libx.so.1", "liby.so.1", "libc.so.6"});
  p.rpath = "/x/$LIB:/y/$PLATFORM:/z/$UNKNOWN";
  file("app/x", p);
  file("x/lib/x86_64-linux-gnu/libx.so.1", lib("libx.so.1"));
  file("y/x86_64/liby.so.1", lib("liby.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_EQ(where(r, "libx.so.1"), "/x/lib/x86_64-linux-gnu/libx.so.1");
  EXPECT_EQ(where(r, "liby.so.1"), "/y/x86_64/liby.so.1");
}

TEST_F(LoaderTest, WrongMachineSkipped) {
  elf::ElfInfo p = prog({"libx.so.1", "libc.so.6"});
  p.rpath = "/opt/a:/opt/b";
  file("app/x", p);
  file("opt/a/libx.so.1", lib("libx.so.1", {}, 3, 1));  // i386
  file("opt/b/libx.so.1", lib("libx.so.1", {}, 183));   // AArch64
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(where(r, "libx.so.1"), "/lib/x86_64-linux-gnu/libx.so.1");
  EXPECT_TRUE(has_note(r, "skipped /opt/a/libx.so.1: 32-bit i386"));
  EXPECT_TRUE(has_note(r, "skipped /opt/b/libx.so.1: 64-bit AArch64"));
}

TEST_F(LoaderTest, NotAnElfStopsTheLoader) {
  elf::ElfInfo p = prog({"libx.so.1", "libc.so.6"});
  p.rpath = "/opt/a";
  file("app/x", p);
  b.file("opt/a/libx.so.1").content(std::string(200, 'x'));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].error, "/opt/a/libx.so.1: invalid ELF header");
  EXPECT_EQ(where(r, "libc.so.6"), "");  // ld.so stopped there
}

TEST_F(LoaderTest, AlreadyLoadedSonameMatches) {
  // The program loads /opt/a/libfoo.so.1 by path; libbar's DT_NEEDED libfoo.so.1 is in no
  // search path but matches the loaded object's DT_SONAME.
  file("app/x", prog({"/opt/a/libfoo.so.1", "libbar.so.1", "libc.so.6"}));
  file("opt/a/libfoo.so.1", lib("libfoo.so.1"));
  file(std::string(kLibDir) + "/libbar.so.1", lib("libbar.so.1", {"libfoo.so.1"}));
  LoadResult r = load("/app/x");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.loaded.size(), 5u);  // x, libfoo, libbar, libc, ld.so
  EXPECT_EQ(where(r, "libfoo.so.1"), "/opt/a/libfoo.so.1");
  EXPECT_EQ(via(r, "/opt/a/libfoo.so.1"), "path in DT_NEEDED");
}

TEST_F(LoaderTest, SameFileUnderTwoNamesIsOneObject) {
  file("app/x", prog({"libx.so.1", "libx.so", "libc.so.6"}));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  b.symlink(std::string(kLibDir) + "/libx.so", "libx.so.1");
  LoadResult r = load("/app/x");
  EXPECT_EQ(r.loaded.size(), 4u);
  EXPECT_EQ(where(r, "libx.so"), "/lib/x86_64-linux-gnu/libx.so.1");
}

TEST_F(LoaderTest, BreadthFirstEachSonameOnce) {
  file("app/x", prog({"liba.so.1", "libb.so.1"}));
  file(std::string(kLibDir) + "/liba.so.1", lib("liba.so.1", {"libc.so.6", "libb.so.1"}));
  file(std::string(kLibDir) + "/libb.so.1", lib("libb.so.1", {"libd.so.1", "libc.so.6"}));
  file(std::string(kLibDir) + "/libd.so.1", lib("libd.so.1", {"libc.so.6"}));
  LoadResult r = load("/app/x");
  std::vector<std::string> names;
  for (const LoadedObject& o : r.loaded) names.push_back(o.name);
  EXPECT_EQ(names, (std::vector<std::string>{"/app/x", "liba.so.1", "libb.so.1", "libc.so.6",
                                             "libd.so.1", "/lib64/ld-linux-x86-64.so.2"}));
}

TEST_F(LoaderTest, NeededPathIsRelativeToTheWorkingDirectory) {
  file("app/x", prog({"lib/libx.so.1", "libc.so.6"}));
  file("srv/lib/libx.so.1", lib("libx.so.1"));
  LoaderEnv env;
  env.cwd = "/srv";
  EXPECT_EQ(where(load("/app/x", env), "lib/libx.so.1"), "lib/libx.so.1");
  env.cwd = "/";
  EXPECT_EQ(load("/app/x", env).missing.size(), 1u);
}

// Docker creates a WORKDIR the image lacks, empty: relative paths find nothing there, even
// where the same path exists relative to /.
TEST_F(LoaderTest, MissingWorkdirIsEmptyNotTheRoot) {
  file("app/x", prog({"lib/libx.so.1", "libc.so.6"}));
  file("lib/libx.so.1", lib("libx.so.1"));
  LoaderEnv env;
  env.cwd = "/";
  EXPECT_EQ(where(load("/app/x", env), "lib/libx.so.1"), "lib/libx.so.1");
  env.cwd = "/nonexistent/work";
  LoadResult r = load("/app/x", env);
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].name, "lib/libx.so.1");
  // Absolute paths and the default search path are unaffected.
  EXPECT_FALSE(where(r, "libc.so.6").empty());
}

TEST_F(LoaderTest, VersionMissingListsAll) {
  elf::ElfInfo p = prog({"libc.so.6"});
  p.verneed = {{"libc.so.6", {"GLIBC_2.34", "GLIBC_2.38", "GLIBC_2.39"}},
               {"ld-linux-x86-64.so.2", {"GLIBC_2.3", "GLIBC_2.35"}}};
  file("app/x", p);
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.version_errors.size(), 3u);
  EXPECT_EQ(r.version_errors[0].version, "GLIBC_2.38");
  EXPECT_EQ(r.version_errors[0].file, "libc.so.6");
  EXPECT_EQ(r.version_errors[0].needed_by, "/app/x");
  EXPECT_EQ(r.version_errors[0].provider, "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_EQ(r.version_errors[1].version, "GLIBC_2.39");
  EXPECT_EQ(r.version_errors[2].version, "GLIBC_2.35");
  EXPECT_EQ(r.version_errors[2].provider, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_FALSE(r.ok());
}

TEST_F(LoaderTest, ProviderWithoutVersionsIsOnlyANote) {
  elf::ElfInfo p = prog({"libx.so.1", "libc.so.6"});
  p.verneed = {{"libx.so.1", {"X_1.0"}}};
  file("app/x", p);
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  LoadResult r = load("/app/x");
  EXPECT_TRUE(r.version_errors.empty());
  EXPECT_TRUE(has_note(r, "no version information available"));
}

TEST_F(LoaderTest, HwcapsSubdirPreferred) {
  file("app/x", prog({"libx.so.1", "libc.so.6"}));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  file(std::string(kLibDir) + "/glibc-hwcaps/x86-64-v3/libx.so.1", lib("libx.so.1"));
  LoaderEnv env;
  env.x86_64_level = 3;
  EXPECT_EQ(where(load("/app/x", env), "libx.so.1"),
            "/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libx.so.1");
  env.x86_64_level = 2;
  EXPECT_EQ(where(load("/app/x", env), "libx.so.1"), "/lib/x86_64-linux-gnu/libx.so.1");
}

TEST_F(LoaderTest, HwcapsOnlyLibraryIsMissingAtBaseline) {
  file("app/x", prog({"libx.so.1", "libc.so.6"}));
  file(std::string(kLibDir) + "/glibc-hwcaps/x86-64-v3/libx.so.1", lib("libx.so.1"));
  LoadResult r = load("/app/x");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_NE(r.missing[0].found_elsewhere_why.find("x86-64-v3"), std::string::npos);
}

TEST_F(LoaderTest, LegacyHwcapSubdirsBeforeGlibc237) {
  // Debian 11's layout: ld-2.31.so names the version; tls/ and x86_64/ are tried first.
  file("lib/x86_64-linux-gnu/ld-2.31.so", lib("ld-linux-x86-64.so.2"));
  b.symlink("usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-2.31.so");
  file("app/x", prog({"libx.so.1", "libc.so.6"}));
  file(std::string(kLibDir) + "/libx.so.1", lib("libx.so.1"));
  file(std::string(kLibDir) + "/x86_64/libx.so.1", lib("libx.so.1"));
  EXPECT_EQ(where(load("/app/x"), "libx.so.1"), "/lib/x86_64-linux-gnu/x86_64/libx.so.1");
}

TEST_F(LoaderTest, InterpMissing) {
  file("app/x", prog({"libc.musl-x86_64.so.1"}, "/lib/ld-musl-x86_64.so.1"));
  LoadResult r = load("/app/x");
  ASSERT_TRUE(r.interp_error.has_value());
  EXPECT_EQ(*r.interp_error,
            "the program interpreter /lib/ld-musl-x86_64.so.1 is not in the image (/lib \u2192 "
            "usr/lib)");
  EXPECT_EQ(r.interp, "/lib/ld-musl-x86_64.so.1");
  EXPECT_FALSE(r.ok());
}

TEST_F(LoaderTest, InterpWrongMachine) {
  file("app/x", prog({"libc.so.6"}, "/lib/ld-linux-aarch64.so.1"));
  b.symlink("usr/lib/ld-linux-aarch64.so.1", "aarch64-linux-gnu/ld-linux-aarch64.so.1");
  file("usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", lib("ld-linux-aarch64.so.1", {}, 62));
  EXPECT_TRUE(load("/app/x").ok());  // an x86-64 file under that name is usable
  file("usr/lib/aarch64-linux-gnu/ld-linux-aarch64.so.1", lib("ld-linux-aarch64.so.1", {}, 183));
  LoadResult r = load("/app/x");
  ASSERT_TRUE(r.interp_error.has_value());
  EXPECT_NE(r.interp_error->find("64-bit AArch64, not 64-bit x86-64"), std::string::npos)
      << *r.interp_error;
}

TEST_F(LoaderTest, StaticNeedsNothing) {
  elf::ElfInfo s = lib("");
  s.soname.reset();
  s.e_type = 2;
  file("app/static", s);
  elf::ElfInfo pie = lib("");
  pie.soname.reset();
  pie.dt_flags_1 = 0x08000000;
  file("app/static-pie", pie);
  for (const char* p : {"/app/static", "/app/static-pie"}) {
    LoadResult r = load(p);
    EXPECT_TRUE(r.ok()) << p;
    EXPECT_EQ(r.loaded.size(), 1u) << p;
    EXPECT_FALSE(r.interp.has_value()) << p;
  }
}

TEST_F(LoaderTest, SharedLibraryWithoutInterpUsesTheArchitecturesLoader) {
  LoadResult r = load("/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_TRUE(r.ok());
  ASSERT_EQ(r.loaded.size(), 2u);
  EXPECT_EQ(r.loaded[1].path, "/lib64/ld-linux-x86-64.so.2");
}

class MuslTest : public LoaderTest {
 protected:
  MuslTest() {
    b.file("usr/lib/ld-musl-x86_64.so.1", 4096, 0755).elf(lib("libc.musl-x86_64.so.1"));
    b.symlink("usr/lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1");
    file("app/m", prog({"libz.so.1", "libc.musl-x86_64.so.1"}, "/lib/ld-musl-x86_64.so.1"));
  }
};

TEST_F(MuslTest, MuslDefaults) {
  file("usr/local/lib/libz.so.1", lib("libz.so.1", {"libc.so"}));
  LoadResult r = load("/app/m");
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.libc, Libc::kMusl);
  EXPECT_EQ(where(r, "libz.so.1"), "/usr/local/lib/libz.so.1");
  EXPECT_EQ(via(r, "libz.so.1"), "musl sys path");
  // libc.musl-x86_64.so.1 and libc.so are musl itself.
  EXPECT_EQ(where(r, "libc.musl-x86_64.so.1"), "/lib/ld-musl-x86_64.so.1");
  EXPECT_EQ(where(r, "libc.so"), "/lib/ld-musl-x86_64.so.1");
  EXPECT_EQ(r.loaded.size(), 3u);
}

TEST_F(MuslTest, MuslPathFile) {
  file("usr/local/lib/libz.so.1", lib("libz.so.1"));
  b.file("etc/ld-musl-x86_64.path").content("/opt/m\n/usr/lib");
  LoadResult r = load("/app/m");
  ASSERT_EQ(r.missing.size(), 1u);
  EXPECT_EQ(r.missing[0].searched, (std::vector<std::string>{"/opt/m", "/usr/lib"}));
  EXPECT_EQ(r.missing[0].found_elsewhere, "/usr/local/lib/libz.so.1");
  file("opt/m/libz.so.1", lib("libz.so.1"));
  EXPECT_EQ(where(load("/app/m"), "libz.so.1"), "/opt/m/libz.so.1");
}

TEST_F(MuslTest, LdLibraryPathBeforeRpathAndRunpathIsInherited) {
  elf::ElfInfo p = prog({"liba.so.1", "libc.musl-x86_64.so.1"}, "/lib/ld-musl-x86_64.so.1");
  p.runpath = "$ORIGIN/../lib";
  file("opt/app/bin/m", p);
  file("opt/app/lib/liba.so.1", lib("liba.so.1", {"libb.so.1"}));
  file("opt/app/lib/libb.so.1", lib("libb.so.1"));
  file("opt/env/liba.so.1", lib("liba.so.1", {"libb.so.1"}));
  LoadResult r = load("/opt/app/bin/m");
  EXPECT_TRUE(r.ok());
  // Unlike glibc, musl applies the program's DT_RUNPATH to the libraries' DT_NEEDED too.
  EXPECT_EQ(where(r, "libb.so.1"), "/opt/app/bin/../lib/libb.so.1");
  LoaderEnv env;
  env.ld_library_path = "/opt/env";
  EXPECT_EQ(where(load("/opt/app/bin/m", env), "liba.so.1"), "/opt/env/liba.so.1");
}

TEST_F(MuslTest, NoVersionChecks) {
  elf::ElfInfo p = prog({"libz.so.1"}, "/lib/ld-musl-x86_64.so.1");
  p.verneed = {{"libz.so.1", {"ZLIB_9"}}};
  file("app/m", p);
  file("usr/lib/libz.so.1", lib("libz.so.1"));
  EXPECT_TRUE(load("/app/m").ok());
}

}  // namespace
}  // namespace coroner::linux_
