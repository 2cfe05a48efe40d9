#!/usr/bin/env bash
# The zoo: real broken images and healthy look-alikes, built with `docker build` on a private
# dockerd and really run with `docker run --network none`; `coroner diagnose` of each image's
# `docker save` must agree with what happened. One row of zoo/cases.tsv per case: the image
# (zoo/<image>/Dockerfile), the `docker run` overrides (--entrypoint, --user, --workdir, args)
# and the rule id coroner must name, "starts" (the program prints "zoo: ok" and exits 0) or
# "runs" (a server: `docker run -d`, still running 2 s later; then removed). For each case:
#   1. verdict.starts == (docker run exited 0 and the program printed "zoo: ok", or, for "runs",
#      the container was still running after 2 s)
#   2. verdict.reason == the expected rule id (null for "starts" and "runs")
#   3. verdict.predicted_error == docker's stderr, normalised (normalise() below says how)
#   4. verdict.predicted_exit (JSON) == docker's exit code, and null when it starts; the text
#      report's "(exit code N)" says the same
# The programs are compiled here (gcc, gcc -static/-static-pie, musl-gcc, aarch64-linux-gnu-gcc,
# i686-linux-gnu-gcc) into each build context; nothing binary is committed. Bases: the
# busybox-static zoo base (lib/fixtures.sh), the cached bookworm minbase tar for the glibc cases,
# the bullseye one (glibc 2.31) for the version errors, and a bookworm minbase with Debian's
# nginx (mmdebstrap --include=nginx, cached like the others: the builds have no network).
# Prints a table (PASS/FAIL/XFAIL/XPASS) and the counts; exits 1 on any FAIL or XPASS.
# Usage: zoo_test.sh CORONER_BINARY [CASE_REGEX]   (root: it starts its own dockerd)
#   ZOO_KEEP=DIR keeps every case's outputs in DIR.
set -euo pipefail
CORONER=$(realpath "${1:?usage: zoo_test.sh CORONER_BINARY [CASE_REGEX]}")
FILTER=${2:-}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ZOO=$HERE/zoo
source "$HERE/lib/common.sh"
source "$HERE/lib/fixtures.sh"
[ "$(id -u)" = 0 ] || die "needs root (dockerd)"
for tool in gcc musl-gcc aarch64-linux-gnu-gcc i686-linux-gnu-gcc python3 timeout; do
  command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh)"
done
T0=$SECONDS
make_tmpdir
TMP=$TMP_DIR

# --- the programs --------------------------------------------------------------------------
build_programs() {
  local b=$TMP/bin l=$TMP/lib s=$ZOO/src
  mkdir -p "$b" "$l"
  gcc -O2 -static -o "$b/hello-static" "$s/hello.c"
  gcc -O2 -static-pie -o "$b/hello-static-pie" "$s/hello.c"
  gcc -O2 -o "$b/hello-glibc" "$s/hello.c"
  gcc -O2 -o "$b/hello-arc4random" "$s/arc4random.c"
  musl-gcc -O2 -static -o "$b/hello-musl-static" "$s/hello.c"
  musl-gcc -O2 -o "$b/hello-musl" "$s/hello.c"
  aarch64-linux-gnu-gcc -O2 -static -o "$b/hello-arm64-static" "$s/hello.c"
  aarch64-linux-gnu-gcc -O2 -o "$b/hello-arm64" "$s/hello.c"
  i686-linux-gnu-gcc -O2 -static -o "$b/hello-i686-static" "$s/hello.c"
  i686-linux-gnu-gcc -O2 -o "$b/hello-i686" "$s/hello.c"
  local n
  for n in conf origin local late gone; do
    gcc -shared -fPIC -nostdlib -DZOO_NAME="zoo_$n" -Wl,-soname,"libzoo$n.so.1" \
      -o "$l/libzoo$n.so.1" "$s/lib.c"
  done
  gcc -shared -fPIC -nostdlib -Wl,-soname,libzoodep.so.1 -o "$l/libzoodep.so.1" \
    "$s/deplib.c" "$l/libzoogone.so.1"
  for n in conf local late gone; do
    gcc -O2 -DZOO_NAME="zoo_$n" -o "$b/app-$n" "$s/app.c" "$l/libzoo$n.so.1"
  done
  gcc -O2 -DZOO_NAME=zoo_dep -o "$b/app-deep" "$s/app.c" "$l/libzoodep.so.1" \
    -Wl,-rpath-link,"$l"
  gcc -O2 -DZOO_NAME=zoo_origin -o "$b/app-origin" "$s/app.c" "$l/libzooorigin.so.1" \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'
  rm "$l/libzoogone.so.1" # built only to link against: it is the missing library
}

# Build context of zoo/IMAGE: its files plus bin/ (and lib/ for glibc).
make_context() {
  local img=$1 ctx=$TMP/ctx/$1
  mkdir -p "$ctx"
  cp -a "$ZOO/$img/." "$ctx/"
  cp -a "$TMP/bin" "$ctx/bin"
  [ "$img" = glibc ] && cp -a "$TMP/lib" "$ctx/lib"
  # An image folder may compile its own programs into the context (zoo/elfnotes/build.sh).
  if [ -x "$ZOO/$img/build.sh" ]; then "$ZOO/$img/build.sh" "$ctx" || die "zoo/$img/build.sh failed"; fi
  return 0
}

# --- the cases ---------------------------------------------------------------------------
mapfile -t ROWS < <(grep -v '^#' "$ZOO/cases.tsv" | tail -n +2 | grep . |
  awk -F'\t' -v re="$FILTER" 're == "" || $1 ~ re')
[ "${#ROWS[@]}" -gt 0 ] || die "no case matches '$FILTER'"
declare -A NEED=()
for row in "${ROWS[@]}"; do
  IFS=$'\t' read -r _ img _ <<<"$row"
  NEED[$img]=1
done

log "compiling the zoo programs"
build_programs
dockerd_start
zoo_busybox_base
# The cached bases that the selected images start FROM.
uses_base() {
  local i
  for i in "${!NEED[@]}"; do grep -qs "^FROM coroner-test/$1:base" "$ZOO/$i/Dockerfile" && return 0; done
  return 1
}
uses_base bookworm && import_base
if uses_base bullseye; then
  CORONER_SUITE=bullseye base_tar
  log "docker import $BASE_TAR"
  dk import "$BASE_TAR" coroner-test/bullseye:base >/dev/null
fi
if uses_base bookworm-nginx; then
  # The minbase options plus nginx (and its dependencies, no Recommends): its own cache key.
  saved_opts=("${CORONER_BASE_OPTS[@]}")
  CORONER_BASE_OPTS+=(--include=nginx)
  base_tar
  CORONER_BASE_OPTS=("${saved_opts[@]}")
  log "docker import $BASE_TAR"
  dk import "$BASE_TAR" coroner-test/bookworm-nginx:base >/dev/null
fi
mkdir -p "$TMP/save"
for img in $(printf '%s\n' "${!NEED[@]}" | sort); do
  [ -f "$ZOO/$img/Dockerfile" ] || die "cases.tsv names image $img: no zoo/$img/Dockerfile"
  make_context "$img"
  log "docker build zoo/$img"
  DOCKER_BUILDKIT=0 dk build --network none -q -t "coroner-test/zoo-$img" "$TMP/ctx/$img" \
    >"$TMP/build-$img.log" 2>&1 || {
    cat "$TMP/build-$img.log" >&2
    die "docker build zoo/$img failed"
  }
  dk save -o "$TMP/save/$img.tar" "coroner-test/zoo-$img" || die "docker save zoo/$img failed"
done
log "images ready after $((SECONDS - T0)) s; running ${#ROWS[@]} cases"

# Runs one case: docker run, then coroner diagnose (JSON and text) with the same overrides.
mkdir -p "$TMP/cases"
run_case() {
  local name=$1 img=$2 ep=$3 user=$4 wd=$5 args=$6 expect=$7 d=$TMP/cases/$1
  mkdir -p "$d"
  local -a over=() argv=()
  if [ "$ep" = "''" ]; then over+=(--entrypoint ""); elif [ "$ep" != - ]; then over+=(--entrypoint "$ep"); fi
  [ "$user" != - ] && over+=(--user "$user")
  [ "$wd" != - ] && over+=(--workdir "$wd")
  [ "$args" != - ] && read -r -a argv <<<"$args"
  local rc=0 cid
  if [ "$expect" = runs ]; then
    # A server: started detached; "zoo: ok" when it is still running 2 s later. A start error
    # is printed by `docker run -d` as by `docker run`; an early exit gives its code and logs.
    cid=$(timeout 60 "$DOCKER" run -d --network none "${over[@]}" "coroner-test/zoo-$img" \
      "${argv[@]}" </dev/null 2>"$d/stderr") || rc=$?
    : >"$d/stdout"
    if [ "$rc" = 0 ] && [ -n "$cid" ]; then
      sleep 2
      if [ "$("$DOCKER" inspect -f '{{.State.Running}}' "$cid")" = true ]; then
        echo "zoo: ok (still running after 2 s)" >"$d/stdout"
      else
        rc=$("$DOCKER" inspect -f '{{.State.ExitCode}}' "$cid")
        "$DOCKER" logs "$cid" >"$d/stdout" 2>>"$d/stderr" || true
        [ "$rc" = 0 ] && rc=1 # a server that exits at once did not start either
      fi
    fi
    [ -n "$cid" ] && { "$DOCKER" rm -f "$cid" >/dev/null 2>&1 || true; }
  else
    timeout 60 "$DOCKER" run --rm --network none "${over[@]}" "coroner-test/zoo-$img" \
      "${argv[@]}" </dev/null >"$d/stdout" 2>"$d/stderr" || rc=$?
  fi
  echo "$rc" >"$d/rc"
  rc=0
  "$CORONER" diagnose "docker-archive:$TMP/save/$img.tar" --format json --fail-on never \
    "${over[@]}" -- "${argv[@]}" >"$d/coroner.json" 2>"$d/coroner.err" || rc=$?
  echo "$rc" >"$d/coroner.rc"
  "$CORONER" diagnose "docker-archive:$TMP/save/$img.tar" --format text -q --fail-on never \
    "${over[@]}" -- "${argv[@]}" >"$d/coroner.txt" 2>>"$d/coroner.err" || true
}

# ZOO_JOBS cases at a time (default 2: the machine's cores; each run copies a root on vfs).
# Only these pids are waited for: dockerd is a background job of this shell too.
JOBS=${ZOO_JOBS:-2}
PIDS=()
for row in "${ROWS[@]}"; do
  IFS=$'\t' read -r name img ep user wd args expect known <<<"$row"
  if [ "${#PIDS[@]}" -ge "$JOBS" ]; then
    wait "${PIDS[0]}" || true
    PIDS=("${PIDS[@]:1}")
  fi
  run_case "$name" "$img" "$ep" "$user" "$wd" "$args" "$expect" &
  PIDS+=($!)
done
for pid in "${PIDS[@]}"; do wait "$pid" || true; done
log "cases run after $((SECONDS - T0)) s"
# ZOO_KEEP=DIR keeps each case's outputs (docker's stdout/stderr/rc, coroner's JSON and text).
[ -n "${ZOO_KEEP:-}" ] && mkdir -p "$ZOO_KEEP" && cp -a "$TMP/cases/." "$ZOO_KEEP/"

# --- the verdicts --------------------------------------------------------------------------
printf '%s\n' "${ROWS[@]}" >"$TMP/rows.tsv"
python3 - "$TMP/rows.tsv" "$TMP/cases" "$((SECONDS - T0))" <<'PY'
import json, os, re, sys

rows_file, cases, seconds = sys.argv[1], sys.argv[2], sys.argv[3]

def normalise(stderr):
    """docker's stderr -> the text coroner predicts. Each step, and why it is not coroner's job:
    N1  the docker CLI's usage hint line "See 'docker run --help'." is dropped;
    N2  the CLI's prefix "docker: Error response from daemon: " is dropped (daemon errors);
    N3  the daemon's wrapper of a runc error is dropped: "failed to create shim task: OCI
        runtime create failed: runc create failed: unable to start container process: "
        (containerd 1.6 + runc 1.1; older: "OCI runtime create failed: container_linux.go:NNN:
        starting container process caused: "), and its suffix ": unknown" (the gRPC status);
    N4  the single "." the CLI appends to a daemon error is dropped;
    N5  the CLI's own log lines 'time="..." level=error msg="error waiting for container: ..."'
        (a race in `docker run --rm` when the start fails) are dropped.
    Nothing else: the rest (\\r bytes included) must be equal, line for line."""
    lines = stderr.split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    lines = [l for l in lines if not re.match(r'^time="[^"]*" level=error msg="error waiting '
                                              r'for container: ', l)]  # N5
    if lines and lines[-1] == "See 'docker run --help'.":  # N1
        lines.pop()
    text = "\n".join(lines)
    if text.startswith("docker: Error response from daemon: "):  # N2
        text = text[len("docker: Error response from daemon: "):]
        text = re.sub(r"^(failed to create shim task: )?OCI runtime create failed: "
                      r"(runc create failed: unable to start container process: |"
                      r"(container_linux\.go:\d+: )?starting container process caused: )", "",
                      text)  # N3
        if text.endswith("."):  # N4
            text = text[:-1]
        if text.endswith(": unknown"):  # N3
            text = text[:-len(": unknown")]
    return text

def read(path, mode="r"):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data.decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return ""

results = []
for line in open(rows_file):
    name, img, ep, user, wd, args, expect, known = line.rstrip("\n").split("\t")
    d = os.path.join(cases, name)
    rc = int(read(d + "/rc").strip())
    out, err = read(d + "/stdout"), read(d + "/stderr")
    real_starts = rc == 0 and "zoo: ok" in out
    real_error = normalise(err)
    problems = []
    try:
        rep = json.loads(read(d + "/coroner.json"))
        v = rep["verdict"]
    except Exception as e:  # coroner failed: that is a FAIL, with its stderr
        rep, v = None, None
        problems.append("coroner diagnose failed (exit %s): %s %s" % (
            read(d + "/coroner.rc").strip(), e, read(d + "/coroner.err").strip()[:300]))
    m = re.search(r"\(exit code (\d+)\)", read(d + "/coroner.txt").split("\n")[0])
    text_exit = int(m.group(1)) if m else None
    reason = v["reason"] if v else None
    if v is not None:
        if "predicted_exit" not in v:
            problems.append("the JSON verdict has no predicted_exit")
        predicted_exit = v.get("predicted_exit")
        if text_exit != predicted_exit:
            problems.append("the text report says exit code %s, the JSON %s" % (
                text_exit, predicted_exit))
        expect_start = expect in ("starts", "runs")
        want_reason = None if expect_start else expect
        if expect_start != real_starts:
            problems.append("the zoo itself is wrong: expected %s but docker %s" % (
                expect, "started it" if real_starts else "exited %d" % rc))
        if v["starts"] != real_starts:  # (1)
            problems.append("starts=%s but docker %s" % (
                v["starts"], "started it" if real_starts else "exited %d" % rc))
        if reason != want_reason:  # (2)
            problems.append("reason %s, want %s" % (reason, want_reason))
        if v["predicted_error"] != (real_error if not real_starts else ""):  # (3)
            problems.append("predicted_error %r != docker %r" % (v["predicted_error"], real_error))
        if predicted_exit is not None and predicted_exit != rc:  # (4)
            problems.append("predicted exit %d != docker %d" % (predicted_exit, rc))
        if predicted_exit is None and not v["starts"]:
            problems.append("no predicted exit code for a blocker (docker: %d)" % rc)
        if predicted_exit is not None and v["starts"]:
            problems.append("predicted exit %d for a container that starts" % predicted_exit)
    xfail = known.startswith("xfail")
    status = ("XPASS" if xfail else "PASS") if not problems else ("XFAIL" if xfail else "FAIL")
    results.append((name, img, expect, reason or "-", rc, status, problems, real_error,
                    v["predicted_error"] if v else None, known))

w = max(len(r[0]) for r in results)
print("%-*s  %-12s  %-28s  %-28s  %4s  %s" % (w, "case", "image", "expected", "coroner", "rc",
                                              "result"))
for name, img, expect, reason, rc, status, problems, real, pred, known in results:
    print("%-*s  %-12s  %-28s  %-28s  %4d  %s" % (w, name, img, expect, reason, rc, status))
for name, img, expect, reason, rc, status, problems, real, pred, known in results:
    if status in ("FAIL", "XFAIL", "XPASS"):
        print("\n%s %s (%s)%s" % (status, name, img, ("  [" + known + "]") if known != "-" else ""))
        for p in problems:
            print("  - " + p)
        print("  docker (normalised): %r" % real)
        print("  coroner predicted:   %r" % pred)
counts = {}
for r in results:
    counts[r[5]] = counts.get(r[5], 0) + 1
print("\n%d cases: %s; %s s" % (len(results), ", ".join(
    "%d %s" % (counts[k], k) for k in ("PASS", "FAIL", "XFAIL", "XPASS") if k in counts), seconds))
sys.exit(1 if counts.get("FAIL") or counts.get("XPASS") else 0)
PY
