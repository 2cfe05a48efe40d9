#!/usr/bin/env bash
# coroner over the Docker Engine API (issue 4), against a private dockerd (lib/dockerd.sh):
#   docker-daemon:IMG == docker-archive of `docker save IMG` (ls -R, find, layers)
#   --via export == the save path but for Docker-injected files, and no container is left,
#     also when coroner gets SIGINT mid-export
#   docker-daemon: streams the save: no temporary file for diagnose/ls; cat/grep read it again
#   container:X of a container that ran and died: its exit code and last log lines (coroner ps)
#   diagnose container:X of containers that really died (127, 1, 137, 139 + core dump, a pid
#     file and an error log, OOMKilled): the exit explained, its own config, what it wrote
#   Podman's Docker-compatible service, when podman is installed
#   TLS over TCP (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH; test certificates made with openssl)
#   a stopped daemon: one-line error, exit 2
# Usage: engine_test.sh CORONER_BINARY
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/fixtures.sh"
COR=${1:?usage: engine_test.sh CORONER_BINARY}
[ -x "$COR" ] || die "$COR is not executable"
fail() { log "FAIL: $*"; exit 1; }

make_tmpdir
T=$TMP_DIR
# TLS over TCP beside the socket (section 6): a CA, a server cert for 127.0.0.1, a client cert.
C=$T/certs
mkdir -p "$C"
(
  cd "$C"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=coroner-test-ca -keyout ca-key.pem \
    -out ca.pem
  openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile server.ext -out server-cert.pem
  openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout key.pem -out client.csr
  printf 'extendedKeyUsage=clientAuth\n' >client.ext
  openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
    -extfile client.ext -out cert.pem
) >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; fail "openssl: making the test certificates"; }
TLS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DOCKERD_EXTRA_ARGS="--tlsverify --tlscacert $C/ca.pem --tlscert $C/server-cert.pem
  --tlskey $C/server-key.pem -H tcp://127.0.0.1:$TLS_PORT" dockerd_start
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

# 1b. The save stream is scanned as it arrives: single-pass commands (diagnose, ls, find,
# layers) make no temporary file (a TMPDIR that does not exist would fail a spool); commands
# that read content again (cat, grep, export) spool it.
TMPDIR=$T/none "$COR" diagnose --fail-on never docker-daemon:coroner-test/engine:1 >"$T/diag.txt" ||
  fail "diagnose docker-daemon: with an unusable TMPDIR"
grep -q "each layer identified by its diff_id); no temporary file" "$T/diag.txt" ||
  { cat "$T/diag.txt"; fail "diagnose docker-daemon: does not say it streamed"; }
[ "$(TMPDIR=$T/none "$COR" ls docker-daemon:coroner-test/engine:1 /app)" = "$(printf 'blob\nrun')" ] ||
  fail "ls docker-daemon: with an unusable TMPDIR"
cmp <("$COR" cat docker-daemon:coroner-test/engine:1 /app/run) "$T/ctx/run" || fail "cat docker-daemon:"
[ "$("$COR" grep -c 'app.conf' docker-daemon:coroner-test/engine:1 /app)" = "/app/run:1" ] ||
  fail "grep docker-daemon:"
ms() { python3 -c 'import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$@"; }
t0=$EPOCHREALTIME
dk save -o "$T/again.tar" coroner-test/engine:1
t1=$EPOCHREALTIME
"$COR" diagnose --fail-on never docker-daemon:coroner-test/engine:1 >/dev/null
t2=$EPOCHREALTIME
log "ok: docker-daemon: streams the save (no temporary file for diagnose/ls), cat and grep read" \
  "it again; docker save -o $(ms "$t0" "$t1") ms, diagnose docker-daemon: $(ms "$t1" "$t2") ms"

# 2. --via export == save, but for what Docker injects; no container left behind.
"$COR" export --via export coroner-test/engine:1 --dir "$T/via-export"
"$COR" export docker-daemon:coroner-test/engine:1 --dir "$T/via-save"
python3 "$HERE/tools/treecmp.py" --ignore-docker-injected "$T/via-save" "$T/via-export" ||
  fail "--via export differs from the save path"
[ -z "$(dk ps -aq --filter label=org.coroner)" ] || fail "a container was left behind"
# A single-pass command streams the export straight into the scan (no spool file): same paths.
injected='^/(\.dockerenv|etc/(hosts|hostname|resolv\.conf|mtab)|dev|proc|sys)(/|$)'
"$COR" find --via export coroner-test/engine:1 | grep -Ev "$injected" >"$T/find-export"
"$COR" find docker-daemon:coroner-test/engine:1 | grep -Ev "$injected" >"$T/find-save"
[ -s "$T/find-save" ] || fail "find docker-daemon: printed nothing"
diff "$T/find-save" "$T/find-export" >&2 || fail "find --via export differs from the save path"
[ -z "$(dk ps -aq --filter label=org.coroner)" ] || fail "a container was left behind (find)"
log "ok: --via export == save (Docker-injected files aside; export and find), no container left"

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
grep -q '^exit: .*3' <<<"$out" || fail "ps engine-died: no exit explanation: $out"
"$COR" ps --json engine-died | python3 -c 'import json,sys; e=json.load(sys.stdin)["exit"]; sys.exit(0 if "3" in e["summary"] and any("app.conf" in l for l in e["log_errors"]) else 1)' ||
  fail "ps --json engine-died: no exit explanation with the log's error line"
"$COR" ps | grep -E '^engine-died .* 3 ' >/dev/null || fail "coroner ps does not list engine-died"
"$COR" ls container:engine-died /app | grep -qx run || fail "container: ls /app"
log "ok: container: and ps give the exit code and the last log lines"

# 4b. diagnose container:X of containers that really ran and died: the exit explained, the
# container's own config used, what it wrote listed.
mkdir -p "$T/ctx2"
printf 'int main(void) { return *(volatile int *)0; }\n' >"$T/ctx2/segv.c"
musl-gcc -static -O0 -o "$T/ctx2/segv" "$T/ctx2/segv.c"
printf '%s\n' 'FROM coroner-test/engine:1' 'COPY segv /app/segv' >"$T/ctx2/Dockerfile"
DOCKER_BUILDKIT=0 dk build --network none -q -t coroner-test/engine:2 "$T/ctx2" >/dev/null
diag() { "$COR" diagnose --fail-on never "$@"; }
# jtrue PYTHON_EXPR: the JSON on stdin as `d` makes the expression true.
jtrue() { python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if eval("(" + sys.argv[1] + ")") else 1)' "$1"; }
expect() { # NAME TEXT PATTERN...
  local name=$1 text=$2
  shift 2
  for p in "$@"; do grep -qF -- "$p" <<<"$text" || { printf '%s\n' "$text" >&2; fail "$name: no '$p'"; }; done
}
# exit 127: an entrypoint that does not exist (runc refuses; State.Error). The image itself
# starts: the verdict must come from the container's config, not the image's.
dk run --network none --name engine-127 --entrypoint /usr/local/bin/missing --user 4242 \
  coroner-test/engine:1 >/dev/null 2>&1 || true
out=$(diag container:engine-127)
expect engine-127 "$out" "exit code 127" "why it ended: the command was not found (exit code 127)" \
  "/usr/local/bin/missing" "the diagnosis uses the config the container ran with"
json=$(diag --format json container:engine-127)
jtrue 'd["image"]["entrypoint"] == ["/usr/local/bin/missing"] and d["image"]["user"] == "4242"
       and d["verdict"]["starts"] is False and d["verdict"]["reason"] == "exec-not-found"
       and d["container"]["exit_code"] == 127 and d["container"]["name"] == "engine-127"
       and "missing" in d["container"]["error"]' <<<"$json" ||
  { echo "$json" >&2; fail "engine-127: JSON"; }
diag docker-daemon:coroner-test/engine:1 | grep -q '^The container starts' ||
  fail "engine:1 should start (the 127 comes from the container's entrypoint)"
log "ok: container: exit 127 (missing entrypoint) explained, with the container's own config"
# exit 1 with error lines in the log.
dk run --network none --name engine-1 coroner-test/engine:1 \
  sh -c 'echo booting; echo "ERROR: database at db:5432 refused the connection" >&2; echo "retry in 1s"; exit 1' \
  >/dev/null 2>&1 || true
out=$(diag container:engine-1)
expect engine-1 "$out" "exit code 1" "the program exited with status 1" \
  "| ERROR: database at db:5432 refused the connection" "the process ran and failed on its own"
jtrue 'd["container"]["exit_code"] == 1 and d["image"]["cmd"][0] == "sh" and
       d["container"]["log_errors"] == ["ERROR: database at db:5432 refused the connection"]' \
  <<<"$(diag --json container:engine-1)" ||
  fail "engine-1: JSON"
log "ok: container: exit 1 quotes the log's error line"
# 137: SIGKILL (docker kill) of a running process; OOMKilled false.
dk run -d --network none --name engine-137 coroner-test/engine:1 sleep 300 >/dev/null
dk kill engine-137 >/dev/null
dk wait engine-137 >/dev/null || true
out=$(diag container:engine-137)
expect engine-137 "$out" "exit code 137" "killed by SIGKILL (exit code 137 = 128 + 9)" "OOMKilled is false"
jtrue 'd["container"]["signal"] == "SIGKILL" and d["container"]["oom_killed"] is False' \
  <<<"$(diag --json container:engine-137)" || fail "engine-137: JSON"
log "ok: container: 137 explained as SIGKILL"
# 139: a real segmentation fault (a static C program as PID 1), with a core dump when the
# host's core_pattern writes plain files.
dk run --network none --name engine-139 --ulimit core=-1 coroner-test/engine:2 /app/segv \
  >/dev/null 2>&1 || true
out=$(diag container:engine-139)
expect engine-139 "$out" "exit code 139" "killed by SIGSEGV (exit code 139 = 128 + 11): a segmentation fault"
if [ "$(cat /proc/sys/kernel/core_pattern)" = core ]; then
  expect engine-139 "$out" "A /app/core  core dump"
  jtrue 'd["container"]["wrote"][0]["kind"] == "core dump" and d["container"]["wrote"][0]["path"] == "/app/core"' \
    <<<"$(diag --json container:engine-139)" || fail "engine-139: JSON core dump"
  log "ok: container: 139 explained as SIGSEGV, its core dump listed"
else
  log "ok: container: 139 explained as SIGSEGV (core_pattern is not 'core': no core dump checked)"
fi
# A process that wrote a pid file and a log with error records, then exited.
dk run --network none --name engine-pid coroner-test/engine:1 sh -c \
  'mkdir -p /run/app /var/log/app; echo $$ >/run/app/app.pid; touch /run/app/app.lock
   printf "info: up\nERROR: out of disk space on /data\ninfo: shutting down\n" >/var/log/app/app.log; exit 2' \
  >/dev/null 2>&1 || true
out=$(diag container:engine-pid)
expect engine-pid "$out" "exit code 2" "A /run/app/app.pid  pid file" "pid 1: left behind" \
  "A /run/app/app.lock  lock file" "A /var/log/app/app.log  log" "1 error record" \
  "| /var/log/app/app.log:2: ERROR: out of disk space on /data"
jtrue '[w["kind"] for w in d["container"]["wrote"]] == ["log", "pid file", "lock file"]' \
  <<<"$(diag --json container:engine-pid)" || fail "engine-pid: JSON wrote"
log "ok: container: pid file, lock file and log error records listed"
# OOMKilled, when the kernel enforces the memory limit here (cgroup memory controller).
if dk run --network none --name engine-oom --memory 8m --memory-swap 8m coroner-test/engine:1 \
  sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo ${#x}' >/dev/null 2>&1; then
  log "note: the memory limit was not enforced: OOMKilled not checked"
elif [ "$(dk inspect -f '{{.State.OOMKilled}}' engine-oom)" = true ]; then
  expect engine-oom "$(diag container:engine-oom)" "out of memory: the kernel's OOM killer" "OOMKilled"
  log "ok: container: OOMKilled explained"
else
  log "note: engine-oom exited $(dk inspect -f '{{.State.ExitCode}}' engine-oom) without OOMKilled"
fi
if python3 -c 'import jsonschema' 2>/dev/null; then
  for n in engine-127 engine-1 engine-137 engine-139 engine-pid; do
    diag --json "container:$n" | python3 -c 'import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(sys.stdin))' \
      "$HERE/../../docs/schema/diagnosis-v1.schema.json" || fail "$n: the JSON report breaks the schema"
  done
  log "ok: the container reports validate against diagnosis-v1.schema.json"
fi
"$COR" ps >"$T/ps"
for n in engine-127 engine-1 engine-137 engine-139 engine-pid; do
  grep -q "^$n " "$T/ps" || { cat "$T/ps" >&2; fail "coroner ps does not list $n"; }
done
log "ok: coroner ps lists every dead container"

# 4c. Optional: Podman's Docker-compatible service (Debian's podman), when installed: the same
# image loaded there reads the same through docker-daemon: (Podman saves "<diff_id>.tar" plus
# "<id>/layer.tar" symlinks), and a container that died there is explained. Podman runs as
# root with its storage in the test's temp dir; nofile/nproc are lowered because its defaults
# (1048576) need CAP_SYS_RESOURCE, which sandboxes without it refuse (runc: setting rlimit).
if command -v podman >/dev/null; then
  P=$T/podman
  mkdir -p "$P"
  pm() { env -u DOCKER_CONFIG -u DOCKER_HOST podman --root "$P/root" --runroot "$P/run" --storage-driver vfs --cgroup-manager cgroupfs \
    --events-backend file "$@"; }
  # Not through pm(): $! must be podman itself (env execs it), not a subshell.
  env -u DOCKER_CONFIG -u DOCKER_HOST podman --root "$P/root" --runroot "$P/run" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend file system service --time=0 "unix://$P/sock" \
    >"$P/log" 2>&1 &
  pm_pid=$!
  cleanup_push "pm rm -a -f >/dev/null 2>&1 || true; kill $pm_pid 2>/dev/null || true; wait $pm_pid 2>/dev/null || true"
  for _ in $(seq 100); do [ -S "$P/sock" ] && break; sleep 0.1; done
  [ -S "$P/sock" ] || { cat "$P/log" >&2; fail "podman system service did not start"; }
  pm load -q -i "$T/save.tar" >/dev/null || fail "podman load"
  for cmd in "ls -l -R" "layers --no-trunc"; do
    diff <(DOCKER_HOST=unix://$P/sock "$COR" $cmd docker-daemon:coroner-test/engine:1) \
      <("$COR" $cmd "docker-archive:$T/save.tar") >"$T/d" ||
      { cat "$T/d"; fail "podman: docker-daemon: differs from docker-archive: for $cmd"; }
  done
  # By id: Podman would resolve a short name against registries.
  pm run --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --name pm-died \
    "$(pm images -q | head -1)" >"$P/run.log" 2>&1 || true
  out=$(DOCKER_HOST=unix://$P/sock "$COR" diagnose --fail-on never container:pm-died) ||
    { cat "$P/run.log" >&2; fail "podman: diagnose container:pm-died"; }
  expect pm-died "$out" "exit code 3" "the program exited with status 3" "| error: /etc/app.conf missing"
  DOCKER_HOST=unix://$P/sock "$COR" ps | grep -qE '^pm-died .* 3 ' || fail "podman: coroner ps"
  log "ok: podman $(podman --version | awk '{print $3}'): docker-daemon: == docker-archive:, container: and ps"
else
  log "note: podman is not installed: its Docker-compatible service is not tested"
fi

# 6. TLS over TCP: DOCKER_HOST=tcp://, DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (ca.pem,
# cert.pem, key.pem) reach the same daemon; a wrong CA or no client certificate is refused.
tls() { DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$C "$@"; }
diff <(tls "$COR" ls -l -R docker-daemon:coroner-test/engine:1) \
  <("$COR" ls -l -R docker-daemon:coroner-test/engine:1) >"$T/d" ||
  { cat "$T/d"; fail "TLS: docker-daemon: differs from the unix socket's"; }
tls "$COR" ps | grep -qE '^engine-died ' || fail "TLS: coroner ps"
mkdir -p "$T/other" && cp "$C/cert.pem" "$C/key.pem" "$T/other/"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=another-ca -keyout "$T/other/ca-key.pem" \
  -out "$T/other/ca.pem" >/dev/null 2>&1 # a CA that did not sign the server's certificate
rc=0
err=$(DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH=$T/other \
  "$COR" ls docker-daemon:coroner-test/engine:1 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -q "127.0.0.1:$TLS_PORT" <<<"$err" || fail "TLS with a wrong CA: exit $rc: $err"
err_ca=$err
rc=0
err=$(DOCKER_HOST=tcp://127.0.0.1:$TLS_PORT "$COR" ls docker-daemon:coroner-test/engine:1 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "plain HTTP to the TLS port: exit $rc: $err"
log "ok: TLS over TCP (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) == the socket; wrong CA: $err_ca"

# 5. A stopped daemon: exit 2 with one line naming the socket.
host=$DOCKER_HOST
dockerd_stop
rc=0
err=$(DOCKER_HOST=$host "$COR" ls docker-daemon:coroner-test/engine:1 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "stopped daemon: exit $rc, expected 2"
grep -q "not reachable" <<<"$err" || fail "stopped daemon: $err"
[ "$(wc -l <<<"$err")" -eq 1 ] || fail "stopped daemon: more than one line: $err"
log "ok: stopped daemon → exit 2: $err"
