#!/usr/bin/env bash
# coroner over the Docker Engine API (issue 4), against a private dockerd (lib/dockerd.sh):
#   docker-daemon:IMG == docker-archive of `docker save IMG` (ls -R, find, layers)
#   --via export == the save path but for Docker-injected files, and no container is left,
#     also when coroner gets SIGINT mid-export
#   container:X of a container that ran and died: its exit code and last log lines (coroner ps)
#   a stopped daemon: one-line error, exit 2
# Usage: engine_test.sh CORONER_BINARY
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/fixtures.sh"
COR=${1:?usage: engine_test.sh CORONER_BINARY}
[ -x "$COR" ] || die "$COR is not executable"
fail() { log "FAIL: $*"; exit 1; }

dockerd_start
make_tmpdir
T=$TMP_DIR
zoo_busybox_base
mkdir -p "$T/ctx"
printf '%s\n' 'FROM coroner-test/zoo-busybox:base' 'ENV A=1' 'RUN echo hi >/hello && mkdir /app' \
  'COPY run /app/run' 'RUN head -c 40000000 /dev/urandom >/app/blob' 'WORKDIR /app' \
  'CMD ["/app/run"]' >"$T/ctx/Dockerfile"
printf '#!/bin/sh\necho starting\necho "error: /etc/app.conf missing" >&2\nexit 3\n' >"$T/ctx/run"
chmod +x "$T/ctx/run"
DOCKER_BUILDKIT=0 dk build --network none -q -t coroner-test/engine:1 "$T/ctx" >/dev/null
dk save -o "$T/save.tar" coroner-test/engine:1

# 1. docker-daemon: == docker-archive:
for cmd in "ls -l -R" "find" "layers --no-trunc"; do
  diff <("$COR" $cmd docker-daemon:coroner-test/engine:1) <("$COR" $cmd "docker-archive:$T/save.tar") >"$T/d" ||
    { cat "$T/d"; fail "docker-daemon: differs from docker-archive: for $cmd"; }
done
log "ok: docker-daemon: == docker-archive: (ls -l -R, find, layers)"

# 2. --via export == save, but for what Docker injects; no container left behind.
"$COR" export --via export coroner-test/engine:1 --dir "$T/via-export"
"$COR" export docker-daemon:coroner-test/engine:1 --dir "$T/via-save"
python3 "$HERE/tools/treecmp.py" --ignore-docker-injected "$T/via-save" "$T/via-export" ||
  fail "--via export differs from the save path"
[ -z "$(dk ps -aq --filter label=org.coroner)" ] || fail "a container was left behind"
log "ok: --via export == save (Docker-injected files aside), no container left"

# 3. SIGINT mid-export removes the container.
python3 -c 'import os,signal,sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
  "$COR" grep -c zzz --via export coroner-test/engine:1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [ -n "$(dk ps -aq --filter label=org.coroner)" ] && break; sleep 0.05; done
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 130 ] || log "note: coroner exited $rc after SIGINT (it may have finished first)"
[ -z "$(dk ps -aq --filter label=org.coroner)" ] || fail "SIGINT left a container behind"
log "ok: SIGINT mid-export left no container"

# 4. container: of a container that ran and died.
dk run --network none --name engine-died coroner-test/engine:1 >/dev/null 2>&1 || true
out=$("$COR" ps engine-died)
grep -q 'exit code 3' <<<"$out" || fail "ps engine-died: no exit code 3: $out"
grep -q 'error: /etc/app.conf missing' <<<"$out" || fail "ps engine-died: no log line: $out"
"$COR" ps | grep -E '^engine-died .* 3 ' >/dev/null || fail "coroner ps does not list engine-died"
"$COR" ls container:engine-died /app | grep -qx run || fail "container: ls /app"
log "ok: container: and ps give the exit code and the last log lines"

# 5. A stopped daemon: exit 2 with one line naming the socket.
host=$DOCKER_HOST
dockerd_stop
rc=0
err=$(DOCKER_HOST=$host "$COR" ls docker-daemon:coroner-test/engine:1 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "stopped daemon: exit $rc, expected 2"
grep -q "not reachable" <<<"$err" || fail "stopped daemon: $err"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "stopped daemon: more than one line: $err"
log "ok: stopped daemon → exit 2: $err"
