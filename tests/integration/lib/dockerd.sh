# Starts a private dockerd for one test run (sourced, bash, root). Usage:
#   source lib/dockerd.sh; dockerd_start   → exports DOCKER_HOST, stops the daemon at exit
# DOCKERD_EXTRA_ARGS (word-split) adds flags, e.g. a TLS TCP listener beside the socket.
# The daemon gets its own data root, exec root, socket, pidfile and containerd (dockerd 20.10
# spawns and later stops its own containerd under the exec root when no system containerd
# answers at /run/containerd/containerd.sock), vfs storage, no iptables and no bridge, so it
# touches nothing outside its temp dir. Containers need `--network none`.
[ -n "${_CORONER_DOCKERD_SH:-}" ] && return 0
_CORONER_DOCKERD_SH=1
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

DOCKERD_DIR=""
DOCKERD_PID=""

dockerd_start() {
  [ "$(id -u)" -eq 0 ] || die "dockerd_start needs root"
  command -v dockerd >/dev/null || die "dockerd missing (apt-get install docker.io)"
  # Short path: unix socket paths are limited to 108 bytes.
  dockerd_reap_stale
  DOCKERD_DIR=$(mktemp -d "$CORONER_TMP/dk.XXXXXX")
  local d=$DOCKERD_DIR id=${DOCKERD_DIR##*.}
  mkdir -p "$d/data" "$d/exec" "$d/config"
  echo $$ >"$d/owner"
  cleanup_push dockerd_stop
  dockerd --data-root "$d/data" --exec-root "$d/exec" -H "unix://$d/sock" \
    --pidfile "$d/pid" --storage-driver=vfs --iptables=false --ip6tables=false --bridge=none \
    --containerd-namespace "coroner-$id" --containerd-plugins-namespace "coroner-$id-p" \
    ${DOCKERD_EXTRA_ARGS:-} >"$d/log" 2>&1 &
  DOCKERD_PID=$!
  export DOCKER_HOST="unix://$d/sock"
  # Keep the caller's ~/.docker (credential helpers, contexts) out of it.
  export DOCKER_CONFIG="$d/config"
  local deadline=$((SECONDS + 60))
  until dk version >/dev/null 2>&1; do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null || ((SECONDS >= deadline)); then
      log "dockerd did not answer on $DOCKER_HOST within 60 s; its log:"
      cat "$d/log" >&2
      die "dockerd failed to start"
    fi
    sleep 0.3
  done
  log "dockerd $(dk version -f '{{.Server.Version}}') up (pid $DOCKERD_PID) on $DOCKER_HOST"
}

# Stops the daemons of earlier runs whose shell is gone without cleaning up (killed by a ctest
# timeout, SIGKILL): each dir $CORONER_TMP/dk.* has the owner shell's pid in "owner".
dockerd_reap_stale() {
  local dir owner
  for dir in "$CORONER_TMP"/dk-trash.??????; do
    [ -d "$dir" ] && (setsid rm -rf "$dir" </dev/null >/dev/null 2>&1 &)
  done
  for dir in "$CORONER_TMP"/dk.??????; do
    [ -f "$dir/owner" ] || continue
    owner=$(cat "$dir/owner")
    kill -0 "$owner" 2>/dev/null && continue
    log "stopping the daemon left by dead run $owner in $dir"
    (
      DOCKERD_DIR=$dir
      DOCKERD_PID=$(cat "$dir/pid" 2>/dev/null || true)
      dockerd_stop
    )
  done
}

# Stops the daemon by its pid (TERM, then KILL after 30 s), then removes its containers' mounts
# and its dirs. Safe to call twice.
dockerd_stop() {
  [ -n "$DOCKERD_DIR" ] || return 0
  local d=$DOCKERD_DIR pid t0=$SECONDS
  pid=$(cat "$d/pid" 2>/dev/null || echo "$DOCKERD_PID")
  # Only a dockerd of ours: its command line names our dir (a stale pid may have been reused).
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data-root $d/"; then
    kill -TERM "$pid"
    local i
    for ((i = 0; i < 300; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd $pid ignored TERM for 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$DOCKERD_PID" 2>/dev/null || true
  # A managed containerd (and shims) whose pidfile is under our exec root, if it outlived dockerd.
  local cpid
  cpid=$(cat "$d/exec/containerd/containerd.pid" 2>/dev/null || true)
  if [ -n "$cpid" ] && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -qF -- "$d/exec/"; then
    kill -TERM "$cpid" 2>/dev/null || true
    sleep 1
    kill -KILL "$cpid" 2>/dev/null || true
  fi
  umount_below "$d"
  # vfs leaves a full copy of the root per layer and per build container: removing ~2 GB of
  # small files takes minutes on a busy disk, so the dir is renamed away at once and removed in
  # the background (a later dockerd_start removes any trash a killed run left).
  local trash="$CORONER_TMP/dk-trash.${d##*.}"
  if mv "$d" "$trash" 2>/dev/null; then
    (setsid rm -rf "$trash" </dev/null >/dev/null 2>&1 &)
  else
    rm -rf "$d" || log "could not remove $d"
  fi
  log "dockerd stopped in $((SECONDS - t0)) s"
  DOCKERD_DIR=""
  DOCKERD_PID=""
  unset DOCKER_HOST
}
