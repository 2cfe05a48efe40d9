#include "linux/users.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "base/text.h"

namespace coroner::linux_ {
namespace {

// bufio.MaxScanTokenSize: moby's ParsePasswdFilter reads with a default bufio.Scanner, which
// fails on a line (without its '\n') of this many bytes or more.
constexpr size_t kMaxScanTokenSize = 64 * 1024;

// Mirrors moby's maxID: "1<<31 - 1 // for 32-bit systems compatibility".
constexpr int64_t kMaxId = (int64_t{1} << 31) - 1;

// Non-ASCII code points for which Go's unicode.IsSpace is true, UTF-8 encoded.
constexpr std::string_view kUnicodeSpaces[] = {
    "\xc2\x85",     "\xc2\xa0",     "\xe1\x9a\x80", "\xe2\x80\x80", "\xe2\x80\x81",
    "\xe2\x80\x82", "\xe2\x80\x83", "\xe2\x80\x84", "\xe2\x80\x85", "\xe2\x80\x86",
    "\xe2\x80\x87", "\xe2\x80\x88", "\xe2\x80\x89", "\xe2\x80\x8a", "\xe2\x80\xa8",
    "\xe2\x80\xa9", "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80",
};

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Length of the whitespace code point at the start (or end) of s, or 0.
size_t space_prefix(std::string_view s) {
  if (s.empty()) return 0;
  if (is_ascii_space(s.front())) return 1;
  for (std::string_view sp : kUnicodeSpaces) {
    if (s.substr(0, sp.size()) == sp) return sp.size();
  }
  return 0;
}
size_t space_suffix(std::string_view s) {
  if (s.empty()) return 0;
  if (is_ascii_space(s.back())) return 1;
  for (std::string_view sp : kUnicodeSpaces) {
    if (s.size() >= sp.size() && s.substr(s.size() - sp.size()) == sp) return sp.size();
  }
  return 0;
}

// Splits text into lines at '\n', as Go's bufio.ScanLines and bufio.Reader.ReadLine do (both
// drop one '\r' before the '\n'; the trimming that follows removes it anyway). A final line
// without '\n' counts; an empty text has no lines.
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  uint32_t number = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!f(++number, line)) return;
  }
}

std::string quoted(std::string_view s) { return "'" + escape(s, 64) + "'"; }

// moby's parseParts for an *int field: strconv.Atoi with the error ignored.
int64_t parse_id(std::string_view field, uint32_t line, const char* what,
                 std::vector<LineNote>& notes) {
  GoInt v = go_atoi(field);
  if (!v.ok) {
    notes.push_back({line, std::string(what) + " " + quoted(field) +
                               " is not a decimal number; moby reads it as " +
                               std::to_string(v.value)});
  }
  return v.value;
}

std::string field(const std::vector<std::string_view>& f, size_t i) {
  return i < f.size() ? std::string(f[i]) : std::string();
}

}  // namespace

GoInt go_atoi(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return {0, false};
  // strconv.ParseUint: a non-digit is a syntax error (value 0); passing uint64 is a range error
  // reported at once, before any later non-digit (value clamped by ParseInt).
  uint64_t mag = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return {0, false};
    uint64_t next;
    if (__builtin_mul_overflow(mag, uint64_t{10}, &next) ||
        __builtin_add_overflow(next, static_cast<uint64_t>(c - '0'), &next)) {
      overflow = true;
      break;
    }
    mag = next;
  }
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!neg && (overflow || mag >= kCutoff)) return {std::numeric_limits<int64_t>::max(), false};
  if (neg && (overflow || mag > kCutoff)) return {std::numeric_limits<int64_t>::min(), false};
  if (neg)
    return {mag == kCutoff ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(mag),
            true};
  return {static_cast<int64_t>(mag), true};
}

std::string_view go_trim_space(std::string_view s) {
  while (size_t n = space_prefix(s)) s.remove_prefix(n);
  while (size_t n = space_suffix(s)) s.remove_suffix(n);
  return s;
}

// moby ParsePasswdFilter: bytes.TrimSpace each line, skip empty ones, split on ':' and fill
// Name:Pass:Uid:Gid:Gecos:Home:Shell, ignoring extra fields. Comment lines are NOT skipped
// (unlike ParseGroupFilter and glibc's nss_files): "# x" is a user named "# x" with uid 0.
PasswdFile parse_passwd(std::string_view text) {
  PasswdFile out;
  for_each_line(text, [&](uint32_t n, std::string_view raw) {
    if (raw.size() >= kMaxScanTokenSize) {
      out.read_error = "bufio.Scanner: token too long";
      out.notes.push_back({n, "line of " + std::to_string(raw.size()) +
                                  " bytes: moby's scanner stops here and every USER fails"});
      return false;
    }
    std::string_view line = go_trim_space(raw);
    if (line.empty()) return true;
    std::vector<std::string_view> f = split(line, ':');
    PasswdEntry e;
    e.line = n;
    e.name = field(f, 0);
    e.password = field(f, 1);
    e.uid = f.size() > 2 ? parse_id(f[2], n, "uid", out.notes) : 0;
    e.gid = f.size() > 3 ? parse_id(f[3], n, "gid", out.notes) : 0;
    e.gecos = field(f, 4);
    e.home = field(f, 5);
    e.shell = field(f, 6);
    if (line.front() == '#') {
      out.notes.push_back({n, "comment line: glibc skips it, but moby reads it as a user named " +
                                  quoted(e.name) + " with uid " + std::to_string(e.uid)});
    } else if (f.size() != 7) {
      out.notes.push_back(
          {n, std::to_string(f.size()) + " fields instead of 7 (name " + quoted(e.name) + ")"});
    }
    out.entries.push_back(std::move(e));
    return true;
  });
  return out;
}

// moby ParseGroupFilter: bufio.Reader.ReadLine (no length limit), bytes.TrimSpace, skip empty
// lines and lines starting with '#', then Name:Pass:Gid:List with List split on ','.
GroupFile parse_group(std::string_view text) {
  GroupFile out;
  for_each_line(text, [&](uint32_t n, std::string_view raw) {
    std::string_view line = go_trim_space(raw);
    if (line.empty() || line.front() == '#') return true;
    std::vector<std::string_view> f = split(line, ':');
    GroupEntry g;
    g.line = n;
    g.name = field(f, 0);
    g.password = field(f, 1);
    g.gid = f.size() > 2 ? parse_id(f[2], n, "gid", out.notes) : 0;
    if (f.size() > 3 && !f[3].empty()) {
      for (std::string_view m : split(f[3], ',')) g.members.emplace_back(m);
    }
    if (f.size() != 4) {
      out.notes.push_back(
          {n, std::to_string(f.size()) + " fields instead of 4 (group " + quoted(g.name) + ")"});
    }
    out.entries.push_back(std::move(g));
    return true;
  });
  return out;
}

// shadow(5): name:password:lastchg:min:max:warn:inactive:expire:reserved. Only the name and the
// state of the password field are kept.
ShadowFile parse_shadow(std::string_view text) {
  ShadowFile out;
  for_each_line(text, [&](uint32_t n, std::string_view raw) {
    std::string_view line = go_trim_space(raw);
    if (line.empty() || line.front() == '#') return true;
    std::vector<std::string_view> f = split(line, ':');
    ShadowEntry s;
    s.line = n;
    s.name = field(f, 0);
    std::string_view pw = f.size() > 1 ? f[1] : std::string_view();
    s.state = pw.empty()                                 ? PasswordState::kEmpty
              : (pw.front() == '!' || pw.front() == '*') ? PasswordState::kLocked
                                                         : PasswordState::kHashed;
    if (f.size() != 9) {
      out.notes.push_back(
          {n, std::to_string(f.size()) + " fields instead of 9 (user " + quoted(s.name) + ")"});
    }
    out.entries.push_back(std::move(s));
    return true;
  });
  return out;
}

std::string_view rule_id(UserErrorKind kind) {
  switch (kind) {
    case UserErrorKind::kPasswdMissing:
      return "passwd-missing";
    case UserErrorKind::kGroupUnknown:
    case UserErrorKind::kGroupMissing:
    case UserErrorKind::kGidOutOfRange:
    case UserErrorKind::kGroupUnreadable:
      return "group-unknown";
    case UserErrorKind::kUserUnknown:
    case UserErrorKind::kUidOutOfRange:
    case UserErrorKind::kPasswdUnreadable:
      return "user-unknown";
  }
  return "user-unknown";
}

namespace {

UserResolution fail(UserErrorKind kind, std::string message) {
  UserResolution r;
  r.error = UserError{kind, std::move(message)};
  return r;
}

const char kRangeMessage[] = "uids and gids must be in range 0-2147483647";

// Fills home and shell the way runc does after Docker hands it the numeric uid: the first
// passwd entry with that uid, else runc's default home "/".
void set_runc_home(ExecUser& u, const std::optional<PasswdFile>& passwd) {
  if (!passwd) return;
  for (const PasswdEntry& e : passwd->entries) {
    if (e.uid != u.uid) continue;
    u.home = e.home;
    u.shell = e.shell;
    return;
  }
}

// ParseGroupFilter's filter in GetExecUser: with an explicit group, the groups of that gid (if
// numeric) or name; without one, the groups that list the matched user name as a member.
std::vector<const GroupEntry*> matching_groups(const std::optional<GroupFile>& group,
                                               const std::string& group_arg, GoInt gid_arg,
                                               const std::string& matched_name) {
  std::vector<const GroupEntry*> out;
  if (!group) return out;
  for (const GroupEntry& g : group->entries) {
    bool hit = false;
    if (group_arg.empty()) {
      hit = std::find(g.members.begin(), g.members.end(), matched_name) != g.members.end();
    } else {
      hit = gid_arg.ok ? g.gid == gid_arg.value : g.name == group_arg;
    }
    if (hit) out.push_back(&g);
  }
  return out;
}

}  // namespace

// A line-by-line transcription of moby/sys/user GetExecUser (user/user.go) with defaults nil
// (uid 0, gid 0), as Docker's getUser() calls it through GetExecUserPath; a missing file is the
// nil io.Reader that GetExecUserPath passes when os.Open fails.
UserResolution resolve_user(std::string_view spec, const std::optional<PasswdFile>& passwd,
                            const std::optional<GroupFile>& group) {
  // parseLine([]byte(userSpec), &userArg, &groupArg): split on ':', extra parts ignored.
  std::vector<std::string_view> parts = split(spec, ':');
  std::string user_arg(parts.empty() ? std::string_view() : parts[0]);
  std::string group_arg(parts.size() > 1 ? parts[1] : std::string_view());
  GoInt uid_arg = go_atoi(user_arg);
  GoInt gid_arg = go_atoi(group_arg);

  ExecUser u;
  // "If we can't find the user, we have to bail": a scanner error fails every spec.
  if (passwd && passwd->read_error) {
    std::string shown = user_arg.empty() ? std::to_string(u.uid) : user_arg;
    return fail(UserErrorKind::kPasswdUnreadable,
                "unable to find user " + shown + ": " + *passwd->read_error);
  }
  // Find the matching user; "First match wins, even if there's more than one matching entry."
  const PasswdEntry* match = nullptr;
  if (passwd) {
    for (const PasswdEntry& e : passwd->entries) {
      bool hit = user_arg.empty() ? e.uid == 0
                 : uid_arg.ok     ? e.uid == uid_arg.value
                                  : e.name == user_arg;
      if (hit) {
        match = &e;
        break;
      }
    }
  }
  std::string matched_name;
  if (match) {
    matched_name = match->name;
    u.name = match->name;
    u.uid = match->uid;
    u.gid = match->gid;
  } else if (!user_arg.empty()) {
    // "the only other valid option is if it's a numeric username with no associated entry".
    if (!uid_arg.ok) {
      return fail(passwd ? UserErrorKind::kUserUnknown : UserErrorKind::kPasswdMissing,
                  "unable to find user " + user_arg + ": no matching entries in passwd file");
    }
    u.uid = uid_arg.value;
    if (u.uid < 0 || u.uid > kMaxId) return fail(UserErrorKind::kUidOutOfRange, kRangeMessage);
  }

  // "If we matched a username, we need to do this because of the supplementary group IDs."
  if (!group_arg.empty() || !matched_name.empty()) {
    if (group && group->read_error) {
      return fail(UserErrorKind::kGroupUnreadable,
                  "unable to find groups for spec " + matched_name + ": " + *group->read_error);
    }
    std::vector<const GroupEntry*> groups =
        matching_groups(group, group_arg, gid_arg, matched_name);
    if (!group_arg.empty()) {
      if (!groups.empty()) {
        u.gid = groups.front()->gid;
      } else {
        if (!gid_arg.ok) {
          return fail(group ? UserErrorKind::kGroupUnknown : UserErrorKind::kGroupMissing,
                      "unable to find group " + group_arg + ": no matching entries in group file");
        }
        u.gid = gid_arg.value;
        if (u.gid < 0 || u.gid > kMaxId) return fail(UserErrorKind::kGidOutOfRange, kRangeMessage);
      }
    } else {
      // "Supplementary group ids only make sense if in the implicit form."
      for (const GroupEntry* g : groups) u.sgids.push_back(g->gid);
    }
  }
  set_runc_home(u, passwd);
  UserResolution r;
  r.user = std::move(u);
  return r;
}

std::vector<DuplicateUid> duplicate_uids(const PasswdFile& passwd) {
  std::map<int64_t, std::vector<std::string>> by_uid;
  for (const PasswdEntry& e : passwd.entries) by_uid[e.uid].push_back(e.name);
  std::vector<DuplicateUid> out;
  for (auto& [uid, names] : by_uid) {
    if (names.size() > 1) out.push_back({uid, std::move(names)});
  }
  return out;
}

std::vector<const PasswdEntry*> users_without_primary_group(const PasswdFile& passwd,
                                                            const GroupFile& group) {
  std::set<int64_t> gids;
  for (const GroupEntry& g : group.entries) gids.insert(g.gid);
  std::vector<const PasswdEntry*> out;
  for (const PasswdEntry& e : passwd.entries) {
    if (!gids.count(e.gid)) out.push_back(&e);
  }
  return out;
}

}  // namespace coroner::linux_
