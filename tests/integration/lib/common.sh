# Shared helpers for the integration tests (sourced, bash). A cleanup stack that runs on EXIT
# (also on failure and on SIGINT/SIGTERM), logging, and the cache and temp locations.
#   CORONER_CACHE  cached base tars and built test images (default /var/cache/coroner-tests)
#   CORONER_TMP    parent of the per-run temp dirs (default /tmp; keep it short: unix sockets)
[ -n "${_CORONER_COMMON_SH:-}" ] && return 0
_CORONER_COMMON_SH=1

CORONER_CACHE=${CORONER_CACHE:-/var/cache/coroner-tests}
CORONER_TMP=${CORONER_TMP:-/tmp}
_coroner_cleanups=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "FATAL: $*"
  exit 1
}

# Registers a command (a string, eval'ed) to run at exit; they run last-in first-out.
cleanup_push() { _coroner_cleanups+=("$1"); }

_coroner_run_cleanups() {
  local rc=$? i
  trap - EXIT INT TERM
  for ((i = ${#_coroner_cleanups[@]} - 1; i >= 0; i--)); do
    eval "${_coroner_cleanups[i]}" || log "cleanup failed: ${_coroner_cleanups[i]}"
  done
  _coroner_cleanups=()
  exit "$rc"
}
trap _coroner_run_cleanups EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Sets TMP_DIR to a fresh temp dir removed at exit (unmounting anything left mounted below it
# first). Not printed: in a $(...) subshell the cleanup would be registered in the subshell.
make_tmpdir() {
  TMP_DIR=$(mktemp -d "$CORONER_TMP/cor.XXXXXX")
  cleanup_push "umount_below '$TMP_DIR'; remove_in_background '$TMP_DIR'"
}

# Renames DIR to $CORONER_TMP/cor-trash.* and removes it in the background: hundreds of MB of
# unpacked roots take tens of seconds to delete on a busy disk, and nothing waits for that.
# Trash that a killed run left is removed by the next call.
remove_in_background() {
  local dir=$1 trash t
  trash=$(mktemp -u "$CORONER_TMP/cor-trash.XXXXXX")
  mv "$dir" "$trash" 2>/dev/null || trash=$dir
  for t in "$trash" "$CORONER_TMP"/cor-trash.??????; do
    [ -d "$t" ] && (setsid rm -rf "$t" </dev/null >/dev/null 2>&1 &)
  done
  return 0
}

# Lazily unmounts every mount point at or below DIR, deepest first.
umount_below() {
  local dir=$1 m
  [ -d "$dir" ] || return 0
  dir=$(realpath "$dir")
  awk '{print $5}' /proc/self/mountinfo | grep -E "^${dir}(/|\$)" | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done || true
}

# Runs "$@" in this shell holding an exclusive lock on FILE (parallel ctest jobs share the cache).
with_lock() {
  local file=$1
  shift
  local fd rc
  mkdir -p "$(dirname "$file")"
  exec {fd}>"$file"
  flock -w 1200 "$fd" || die "timed out waiting for lock $file"
  # Not `"$@" || rc=$?`: that would switch off errexit inside "$@".
  "$@"
  rc=$?
  exec {fd}>&-
  return "$rc"
}

# Unpacks the files of Debian package PKG (not installed: no dependencies are pulled in, nothing
# is configured) into the cache, from this machine's apt archive, and sets DEB_ROOT to the folder
# that holds its usr/. Some packages ship real test data made by other projects (Go's tar test
# files, CentOS rpm databases, buildkit exports); the tests read them there.
debian_data() {
  local pkg=$1 version
  version=$(apt-cache policy "$pkg" 2>/dev/null | sed -n 's/^  Candidate: //p')
  [ -n "$version" ] && [ "$version" != "(none)" ] || die "$pkg: not in the apt archive"
  local dir=$CORONER_CACHE/debdata/${pkg}_${version//:/%}
  DEB_ROOT=$dir/root
  [ -f "$dir/.done" ] && return 0
  with_lock "$CORONER_CACHE/.debdata.lock" _debian_data_fetch "$pkg" "$dir"
}
_debian_data_fetch() {
  local pkg=$1 dir=$2 try
  [ -f "$dir/.done" ] && return 0
  rm -rf "$dir"
  mkdir -p "$dir"
  for try in 1 2; do
    log "apt-get download $pkg (try $try)"
    if (cd "$dir" && apt-get -q -o APT::Sandbox::User=root download "$pkg" >/dev/null 2>"$dir/log"); then
      break
    fi
    cat "$dir/log" >&2
    apt-get update -qq >/dev/null 2>&1 || true
  done
  compgen -G "$dir/*.deb" >/dev/null || die "cannot download $pkg"
  dpkg-deb -x "$dir"/*.deb "$dir/root"
  rm -f "$dir"/*.deb
  touch "$dir/.done"
}

# The docker client: Debian's docker.io (same version as the daemon) unless DOCKER is set.
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
dk() { "$DOCKER" "$@"; }
