#include "linux/users.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace coroner::linux_ {
namespace {

// /etc/passwd and /etc/group of a debian:bookworm image with an "app" user added by
// `useradd -m app` and made a member of sudo and audio.
constexpr std::string_view kDebianPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
    "sys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
    "sync:x:4:65534:sync:/bin:/bin/sync\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    "app:x:1000:1000::/home/app:/bin/sh\n";
constexpr std::string_view kDebianGroup =
    "root:x:0:\n"
    "daemon:x:1:\n"
    "bin:x:2:\n"
    "sys:x:3:\n"
    "adm:x:4:\n"
    "sudo:x:27:app\n"
    "audio:x:29:pulse,app\n"
    "www-data:x:33:\n"
    "nogroup:x:65534:\n"
    "app:x:1000:\n";

// The error texts, HOME values and ids below were checked against Docker 20.10 (Debian's
// docker.io) with `docker run --user SPEC` on images imported from tars built like these files:
// e.g. USER 0 with a leading "# managed" line gives HOME= (empty), and a 70000-byte line makes
// even an empty USER fail with "unable to find user 0: bufio.Scanner: token too long".
UserResolution resolve(std::string_view spec, std::string_view passwd = kDebianPasswd,
                       std::string_view group = kDebianGroup) {
  return resolve_user(spec, parse_passwd(passwd), parse_group(group));
}

TEST(UsersTest, ParsesDebianPasswd) {
  PasswdFile f = parse_passwd(kDebianPasswd);
  ASSERT_EQ(f.entries.size(), 9u);
  EXPECT_TRUE(f.notes.empty());
  EXPECT_FALSE(f.read_error);
  const PasswdEntry& app = f.entries[8];
  EXPECT_EQ(app.name, "app");
  EXPECT_EQ(app.password, "x");
  EXPECT_EQ(app.uid, 1000);
  EXPECT_EQ(app.gid, 1000);
  EXPECT_EQ(app.gecos, "");
  EXPECT_EQ(app.home, "/home/app");
  EXPECT_EQ(app.shell, "/bin/sh");
  EXPECT_EQ(app.line, 9u);
}

TEST(UsersTest, ParsesDebianGroupMembers) {
  GroupFile g = parse_group(kDebianGroup);
  ASSERT_EQ(g.entries.size(), 10u);
  EXPECT_TRUE(g.notes.empty());
  EXPECT_TRUE(g.entries[0].members.empty());
  EXPECT_EQ(g.entries[6].name, "audio");
  EXPECT_EQ(g.entries[6].gid, 29);
  EXPECT_EQ(g.entries[6].members, (std::vector<std::string>{"pulse", "app"}));
}

TEST(UsersTest, NameResolvesUidGidSupplementaryGroupsAndHome) {
  UserResolution r = resolve("app");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.uid, 1000);
  EXPECT_EQ(r.user.gid, 1000);
  EXPECT_EQ(r.user.sgids, (std::vector<int64_t>{27, 29}));
  EXPECT_EQ(r.user.name, "app");
  EXPECT_EQ(r.user.home, "/home/app");
  EXPECT_EQ(r.user.shell, "/bin/sh");
}

TEST(UsersTest, EmptySpecIsFirstUidZeroEntry) {
  UserResolution r = resolve("");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.uid, 0);
  EXPECT_EQ(r.user.name, "root");
  EXPECT_EQ(r.user.home, "/root");
}

TEST(UsersTest, UnknownNameIsUserUnknownWithDockerMessage) {
  UserResolution r = resolve("postgres");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, UserErrorKind::kUserUnknown);
  EXPECT_EQ(r.error->message, "unable to find user postgres: no matching entries in passwd file");
  EXPECT_EQ(rule_id(r.error->kind), "user-unknown");
}

TEST(UsersTest, NameWithoutPasswdFileIsPasswdMissing) {
  UserResolution r = resolve_user("app", std::nullopt, parse_group(kDebianGroup));
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, UserErrorKind::kPasswdMissing);
  EXPECT_EQ(r.error->message, "unable to find user app: no matching entries in passwd file");
  EXPECT_EQ(rule_id(r.error->kind), "passwd-missing");
}

TEST(UsersTest, BareNumericUidNeedsNoEntryAndDefaultsGidZeroHomeSlash) {
  UserResolution r = resolve("4242");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.uid, 4242);
  EXPECT_EQ(r.user.gid, 0);
  EXPECT_TRUE(r.user.sgids.empty());
  EXPECT_FALSE(r.user.name);
  EXPECT_EQ(r.user.home, "/");
  UserResolution no_files = resolve_user("4242:4242", std::nullopt, std::nullopt);
  ASSERT_FALSE(no_files.error);
  EXPECT_EQ(no_files.user.uid, 4242);
  EXPECT_EQ(no_files.user.gid, 4242);
}

TEST(UsersTest, NumericUidWithEntryTakesItsGidAndGroups) {
  UserResolution r = resolve("1000");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.name, "app");
  EXPECT_EQ(r.user.gid, 1000);
  EXPECT_EQ(r.user.sgids, (std::vector<int64_t>{27, 29}));
}

TEST(UsersTest, NumericSpecIsAlwaysAUidNeverAName) {
  // moby: "if you specify a numeric user or group id, they will not be evaluated as usernames".
  UserResolution r = resolve("1234", "1234:x:5000:5000::/home/n:/bin/sh\n");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.uid, 1234);
  EXPECT_EQ(r.user.gid, 0);
  EXPECT_FALSE(r.user.name);
}

TEST(UsersTest, LeadingZerosAndPlusSignAreStillNumeric) {
  UserResolution zeros = resolve("0001000");
  ASSERT_FALSE(zeros.error);
  EXPECT_EQ(zeros.user.name, "app");
  UserResolution plus = resolve("+33");
  ASSERT_FALSE(plus.error);
  EXPECT_EQ(plus.user.name, "www-data");
}

TEST(UsersTest, UidOutOfRangeWithoutEntry) {
  for (std::string_view spec : {"-1", "2147483648", "4294967295"}) {
    UserResolution r = resolve(spec);
    ASSERT_TRUE(r.error) << spec;
    EXPECT_EQ(r.error->kind, UserErrorKind::kUidOutOfRange) << spec;
    EXPECT_EQ(r.error->message, "uids and gids must be in range 0-2147483647");
  }
  EXPECT_FALSE(resolve("2147483647").error);
}

TEST(UsersTest, UidBeyondInt64IsANameAndUnknown) {
  UserResolution r = resolve("99999999999999999999");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, UserErrorKind::kUserUnknown);
  EXPECT_EQ(r.error->message,
            "unable to find user 99999999999999999999: no matching entries in passwd file");
}

TEST(UsersTest, SpecWithCommentOrSpacesIsLookedUpWhole) {
  UserResolution r = resolve("nobody # run unprivileged");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->message,
            "unable to find user nobody # run unprivileged: no matching entries in passwd file");
  EXPECT_TRUE(resolve(" app").error);
  EXPECT_TRUE(resolve("app ").error);
}

TEST(UsersTest, ExplicitGroupReplacesGidAndDropsSupplementaryGroups) {
  UserResolution r = resolve("app:www-data");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.uid, 1000);
  EXPECT_EQ(r.user.gid, 33);
  EXPECT_TRUE(r.user.sgids.empty());
  UserResolution numeric = resolve("app:7777");
  ASSERT_FALSE(numeric.error);
  EXPECT_EQ(numeric.user.gid, 7777);
}

TEST(UsersTest, UnknownGroupNameIsGroupUnknown) {
  UserResolution r = resolve("app:docker");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, UserErrorKind::kGroupUnknown);
  EXPECT_EQ(r.error->message, "unable to find group docker: no matching entries in group file");
  EXPECT_EQ(rule_id(r.error->kind), "group-unknown");
  UserResolution missing = resolve_user("app:docker", parse_passwd(kDebianPasswd), std::nullopt);
  ASSERT_TRUE(missing.error);
  EXPECT_EQ(missing.error->kind, UserErrorKind::kGroupMissing);
}

TEST(UsersTest, GidOutOfRange) {
  UserResolution r = resolve("app:-5");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, UserErrorKind::kGidOutOfRange);
}

TEST(UsersTest, ExtraSpecFieldsAreIgnored) {
  UserResolution r = resolve("app:audio:whatever");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.gid, 29);
}

TEST(UsersTest, FirstMatchingEntryWins) {
  UserResolution r =
      resolve("app", "app:x:1001:1001::/a:/bin/sh\napp:x:1002:1002::/b:/bin/sh\n", "");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.uid, 1001);
  EXPECT_EQ(r.user.home, "/a");
}

TEST(UsersTest, HomeComesFromFirstEntryWithTheUidAsRuncResolvesIt) {
  // Docker hands runc "1001:1001"; runc looks the uid up again and takes that entry's home.
  UserResolution r = resolve("second",
                             "first:x:1001:1001::/first:/bin/sh\n"
                             "second:x:1001:1001::/second:/bin/bash\n",
                             "");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.name, "second");
  EXPECT_EQ(r.user.home, "/first");
  EXPECT_EQ(r.user.shell, "/bin/sh");
}

TEST(UsersTest, LinesAreTrimmedButFieldsAreNot) {
  PasswdFile f = parse_passwd("  app:x:1000:1000::/home/app:/bin/sh \r\n\n\t\n");
  ASSERT_EQ(f.entries.size(), 1u);
  EXPECT_EQ(f.entries[0].shell, "/bin/sh");
  PasswdFile g = parse_passwd("app :x:1000:1000::/home/app:/bin/sh\n");
  EXPECT_EQ(g.entries[0].name, "app ");
  EXPECT_TRUE(resolve("app", "app :x:1000:1000::/h:/bin/sh\n").error);
}

TEST(UsersTest, UnicodeSpaceIsTrimmedLikeGo) {
  // U+00A0 and U+3000 are unicode.IsSpace; U+200B (zero width space) is not.
  PasswdFile f = parse_passwd(
      "\xc2\xa0"
      "app:x:1:1::/h:/bin/sh\xe3\x80\x80\n");
  ASSERT_EQ(f.entries.size(), 1u);
  EXPECT_EQ(f.entries[0].name, "app");
  EXPECT_EQ(f.entries[0].shell, "/bin/sh");
  PasswdFile z = parse_passwd(
      "\xe2\x80\x8b"
      "app:x:1:1::/h:/bin/sh\n");
  EXPECT_EQ(z.entries[0].name,
            "\xe2\x80\x8b"
            "app");
}

TEST(UsersTest, PasswdCommentIsAUserForMobyButGroupCommentIsSkipped) {
  PasswdFile f = parse_passwd("# managed by puppet\nroot:x:0:0:root:/root:/bin/bash\n");
  ASSERT_EQ(f.entries.size(), 2u);
  EXPECT_EQ(f.entries[0].name, "# managed by puppet");
  EXPECT_EQ(f.entries[0].uid, 0);
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_EQ(f.notes[0].line, 1u);
  // The comment has uid 0 and comes first, so USER 0 matches it: home "" and no name groups.
  UserResolution r = resolve_user("0", f, parse_group("# header\nwheel:x:10:root\n"));
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.name, "# managed by puppet");
  EXPECT_EQ(r.user.home, "");
  GroupFile g = parse_group("# header\nwheel:x:10:root\n");
  ASSERT_EQ(g.entries.size(), 1u);
  EXPECT_EQ(g.entries[0].name, "wheel");
}

TEST(UsersTest, MalformedLinesAreKeptAndNoted) {
  PasswdFile f = parse_passwd(
      "short:x:12\nbad:x:abc:1::/h:/bin/sh\nbig:x:99999999999999999999:1::/:/bin/sh\n");
  ASSERT_EQ(f.entries.size(), 3u);
  EXPECT_EQ(f.entries[0].uid, 12);
  EXPECT_EQ(f.entries[0].gid, 0);
  EXPECT_EQ(f.entries[0].home, "");
  EXPECT_EQ(f.entries[1].uid, 0);                                    // Atoi error ignored: 0
  EXPECT_EQ(f.entries[2].uid, std::numeric_limits<int64_t>::max());  // clamped
  ASSERT_EQ(f.notes.size(), 3u);
  EXPECT_EQ(f.notes[0].line, 1u);
  EXPECT_NE(f.notes[0].message.find("3 fields instead of 7"), std::string::npos);
  EXPECT_NE(f.notes[1].message.find("uid 'abc' is not a decimal number"), std::string::npos);
  EXPECT_EQ(f.notes[2].line, 3u);
  // A non-numeric uid field reads as 0, so USER 0 can land on a broken line before root.
  UserResolution r = resolve_user(
      "0", parse_passwd("bad:x:abc:1::/h:/bin/sh\nroot:x:0:0::/root:/bin/sh\n"), std::nullopt);
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.name, "bad");
  EXPECT_EQ(r.user.gid, 1);
}

TEST(UsersTest, OverlongLineFailsEveryUserLikeBufioScanner) {
  std::string text = "root:x:0:0:root:/root:/bin/bash\n" + std::string(65536, 'a') + "\n";
  PasswdFile f = parse_passwd(text);
  ASSERT_TRUE(f.read_error);
  EXPECT_EQ(f.entries.size(), 1u);
  UserResolution r = resolve_user("1000", f, std::nullopt);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, UserErrorKind::kPasswdUnreadable);
  EXPECT_EQ(r.error->message, "unable to find user 1000: bufio.Scanner: token too long");
  UserResolution empty = resolve_user("", f, std::nullopt);
  ASSERT_TRUE(empty.error);
  EXPECT_EQ(empty.error->message, "unable to find user 0: bufio.Scanner: token too long");
  EXPECT_FALSE(
      parse_passwd("root:x:0:0:root:/root:/bin/bash\n" + std::string(65535, 'a')).read_error);
}

TEST(UsersTest, UnreadableGroupFileFailsOnlyWhenItIsRead) {
  GroupFile dir;
  dir.read_error = "read /etc/group: is a directory";
  PasswdFile passwd = parse_passwd(kDebianPasswd);
  UserResolution named = resolve_user("app", passwd, dir);
  ASSERT_TRUE(named.error);
  EXPECT_EQ(named.error->kind, UserErrorKind::kGroupUnreadable);
  EXPECT_EQ(named.error->message,
            "unable to find groups for spec app: read /etc/group: is a directory");
  EXPECT_FALSE(resolve_user("4242", passwd, dir).error);  // no name, no group: not read
}

TEST(UsersTest, GroupMembersAreNotTrimmed) {
  UserResolution r = resolve("app", kDebianPasswd, "sudo:x:27:root, app\nstaff:x:50:app,\n");
  ASSERT_FALSE(r.error);
  EXPECT_EQ(r.user.sgids, (std::vector<int64_t>{50}));
}

TEST(UsersTest, ShadowStates) {
  ShadowFile s = parse_shadow(
      "root:*:19000:0:99999:7:::\n"
      "app:$y$j9T$abc$def:19000:0:99999:7:::\n"
      "guest::19000:0:99999:7:::\n"
      "locked:!$6$salt$hash:19000:0:99999:7:::\n"
      "odd:!\n");
  ASSERT_EQ(s.entries.size(), 5u);
  EXPECT_EQ(s.entries[0].state, PasswordState::kLocked);
  EXPECT_EQ(s.entries[1].state, PasswordState::kHashed);
  EXPECT_EQ(s.entries[2].state, PasswordState::kEmpty);
  EXPECT_EQ(s.entries[3].state, PasswordState::kLocked);
  EXPECT_EQ(s.entries[4].name, "odd");
  ASSERT_EQ(s.notes.size(), 1u);
  EXPECT_EQ(s.notes[0].line, 5u);
}

TEST(UsersTest, AuditDuplicateUidsAndMissingPrimaryGroups) {
  PasswdFile f = parse_passwd(
      "root:x:0:0::/root:/bin/sh\ntoor:x:0:0::/root:/bin/sh\napp:x:1000:1000::/h:/bin/sh\n"
      "svc:x:1001:4242::/h:/bin/sh\n");
  std::vector<DuplicateUid> d = duplicate_uids(f);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].uid, 0);
  EXPECT_EQ(d[0].names, (std::vector<std::string>{"root", "toor"}));
  std::vector<const PasswdEntry*> orphans =
      users_without_primary_group(f, parse_group("root:x:0:\napp:x:1000:\n"));
  ASSERT_EQ(orphans.size(), 1u);
  EXPECT_EQ(orphans[0]->name, "svc");
}

TEST(UsersTest, GoAtoiMatchesStrconv) {
  EXPECT_EQ(go_atoi("42").value, 42);
  EXPECT_TRUE(go_atoi("-0").ok);
  EXPECT_FALSE(go_atoi("").ok);
  EXPECT_FALSE(go_atoi("+").ok);
  EXPECT_FALSE(go_atoi(" 1").ok);
  EXPECT_FALSE(go_atoi("1_000").ok);
  EXPECT_FALSE(go_atoi("0x10").ok);
  EXPECT_EQ(go_atoi("-9223372036854775808").value, std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(go_atoi("-9223372036854775808").ok);
  GoInt big = go_atoi("9223372036854775808");
  EXPECT_FALSE(big.ok);
  EXPECT_EQ(big.value, std::numeric_limits<int64_t>::max());
  GoInt low = go_atoi("-99999999999999999999");
  EXPECT_FALSE(low.ok);
  EXPECT_EQ(low.value, std::numeric_limits<int64_t>::min());
}

}  // namespace
}  // namespace coroner::linux_
