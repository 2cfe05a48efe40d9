// Users and groups as Docker resolves them: /etc/passwd, /etc/group and /etc/shadow parsed the
// way github.com/moby/sys/user (formerly runc's libcontainer/user) parses them, and a USER spec
// "name|uid[:group|gid]" resolved exactly as the Docker daemon's getUser() does before it asks
// runc to start the process (that is where `unable to find user X: no matching entries in passwd
// file` comes from). Reading the files out of the image (symlinks, missing files) is the
// caller's job; this module only sees their bytes.
//
// Namespace: `linux` is a predefined macro in GNU C++ mode (-std=gnu++20 defines `linux` as 1),
// so the folder src/linux/ uses `coroner::linux_`, which is safe under every -std.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coroner::linux_ {

// A line that moby (or glibc) would read differently from what its author meant: fewer or more
// fields than the format has, a non-numeric id, a comment that moby reads as a user. Kept for
// the audit; moby itself never rejects a line.
struct LineNote {
  uint32_t line = 0;  // 1-based
  std::string message;
};

// One /etc/passwd line as moby reads it: fields split on ':', missing fields left empty, ids
// parsed with Go's strconv.Atoi and errors ignored (0 on a syntax error, clamped to the int64
// range on overflow).
struct PasswdEntry {
  std::string name, password;
  int64_t uid = 0, gid = 0;
  std::string gecos, home, shell;
  uint32_t line = 0;
};

struct PasswdFile {
  std::vector<PasswdEntry> entries;  // in file order; the first match wins
  std::vector<LineNote> notes;
  // Set when Go's bufio.Scanner would fail (a line longer than 64 KiB): moby then refuses every
  // USER, named or numeric, with "unable to find user X: bufio.Scanner: token too long". A caller
  // whose /etc/passwd is a directory sets it to "read <path>: is a directory" (os.Open succeeds
  // on a directory; the read fails).
  std::optional<std::string> read_error;
};

struct GroupEntry {
  std::string name, password;
  int64_t gid = 0;
  std::vector<std::string> members;  // split on ',' and not trimmed, as moby does
  uint32_t line = 0;
};

struct GroupFile {
  std::vector<GroupEntry> entries;
  std::vector<LineNote> notes;
  // Never set by parse_group (bufio.Reader.ReadLine has no line limit); a caller whose
  // /etc/group is a directory sets it to "read <path>: is a directory".
  std::optional<std::string> read_error;
};

enum class PasswordState {
  kEmpty,   // "": login without a password
  kLocked,  // starts with '!' or '*' (including "!" and "*" alone, and "!$6$..." locked hashes)
  kHashed,  // anything else: a crypt(3) hash
};

struct ShadowEntry {
  std::string name;
  PasswordState state = PasswordState::kEmpty;
  uint32_t line = 0;
};

struct ShadowFile {
  std::vector<ShadowEntry> entries;
  std::vector<LineNote> notes;
};

// Never throw: moby accepts any bytes, and so do these.
PasswdFile parse_passwd(std::string_view text);
GroupFile parse_group(std::string_view text);
ShadowFile parse_shadow(std::string_view text);

// The result of resolving a USER spec.
struct ExecUser {
  int64_t uid = 0, gid = 0;
  std::vector<int64_t> sgids;       // supplementary gids: groups listing the matched name
  std::optional<std::string> name;  // the passwd entry that matched, if any
  // HOME as runc sets it when the image Env has none: the home of the first passwd entry with
  // this uid (runc resolves the numeric uid again), else "/".
  std::string home = "/";
  std::optional<std::string> shell;  // shell of that same entry
};

enum class UserErrorKind {
  kUserUnknown,       // a non-numeric user with no passwd entry             -> user-unknown
  kPasswdMissing,     // a non-numeric user and the image has no /etc/passwd -> passwd-missing
  kGroupUnknown,      // a non-numeric group with no group entry             -> group-unknown
  kGroupMissing,      // a non-numeric group and the image has no /etc/group -> group-unknown
  kUidOutOfRange,     // numeric uid outside 0..2^31-1 with no passwd entry  -> user-unknown
  kGidOutOfRange,     // numeric gid outside 0..2^31-1 with no group entry   -> group-unknown
  kPasswdUnreadable,  // PasswdFile::read_error                            -> user-unknown
  kGroupUnreadable,   // GroupFile::read_error, when the group file is read  -> group-unknown
};

struct UserError {
  UserErrorKind kind;
  std::string message;  // the daemon's text, e.g. "unable to find user app: no matching entries
                        // in passwd file"
};

// The rule id (DESIGN.md) a failure maps to.
std::string_view rule_id(UserErrorKind kind);

struct UserResolution {
  std::optional<UserError> error;  // set when Docker refuses to create the container (exit 125)
  ExecUser user;                   // meaningful only when !error
};

// Resolves `spec` as Docker 20.10's daemon/oci_linux.go getUser() does through moby's
// GetExecUserPath(spec, nil, passwd, group): nullopt means the file does not exist in the image.
// The spec is not trimmed: "nobody # comment" is looked up as a name and is unknown.
UserResolution resolve_user(std::string_view spec, const std::optional<PasswdFile>& passwd,
                            const std::optional<GroupFile>& group);

// For the audit.
struct DuplicateUid {
  int64_t uid = 0;
  std::vector<std::string> names;  // in file order; the first one is what a uid lookup returns
};
std::vector<DuplicateUid> duplicate_uids(const PasswdFile& passwd);
// Entries whose primary gid has no line in /etc/group.
std::vector<const PasswdEntry*> users_without_primary_group(const PasswdFile& passwd,
                                                            const GroupFile& group);

// Go's strconv.Atoi on a 64-bit platform: an optional sign and decimal digits only. On a
// syntax error the value is 0; on overflow it is clamped to the int64 range and ok is false.
struct GoInt {
  int64_t value = 0;
  bool ok = false;
};
GoInt go_atoi(std::string_view s);

// Go's bytes.TrimSpace: ASCII whitespace and the Unicode White_Space code points.
std::string_view go_trim_space(std::string_view s);

}  // namespace coroner::linux_
