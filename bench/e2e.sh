#!/usr/bin/env bash
# End-to-end benchmark of coroner on one large realistic image (see bench/README.md).
#   bench/e2e.sh [CORONER_BINARY]     build (or reuse) the image, time everything, print results
#   bench/e2e.sh --prepare            only build (or reuse) the image artifacts
# The image: a Debian bookworm root from mmdebstrap (~1 GB, 37k files), `docker import`, four
# DOCKER_BUILDKIT=0 steps (bench/bench-big/Dockerfile), `docker save` → docker-archive, skopeo →
# OCI layouts with gzip and zstd layers; cached under $CORONER_CACHE keyed by the inputs (the
# lib of tests/integration builds them). Timed side by side with hyperfine on a warm page cache:
# coroner layers / find -perm /111 / export -o on the three forms; cat, igzip -dc, zstd -dc,
# GNU tar and bsdtar listings of the same layers; umoci unpack; the by-hand workflow (docker
# create + docker export | tar x + find -perm /111 + find -nouser + rm). Peak RSS by GNU time.
# Environment: CORONER (binary; default build-bench/src/cli/coroner), BENCH_RUNS (3),
# BENCH_SLOW_RUNS (1: umoci and the by-hand workflow), BENCH_OUT (/tmp/coroner-bench),
# BENCH_BYHAND=0 skips the by-hand workflow (no daemon needed when the image is cached),
# BENCH_REGISTRY=0 skips docker:// (a docker-registry on loopback against skopeo copy + scan),
# CORONER_CACHE, CORONER_TMP, CORONER_REFRESH=1 (rebuild the image). Needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
source "$repo/tests/integration/lib/images.sh"

prepare_only=0
coroner=${CORONER:-$repo/build-bench/src/cli/coroner}
case "${1:-}" in
  --prepare) prepare_only=1 ;;
  -h | --help)
    sed -n '2,16p' "$0"
    exit 0
    ;;
  "") ;;
  *) coroner=$1 ;;
esac
runs=${BENCH_RUNS:-3}
slow_runs=${BENCH_SLOW_RUNS:-1}
out=${BENCH_OUT:-/tmp/coroner-bench}
[ "$(id -u)" -eq 0 ] || die "needs root (dockerd, docker export | tar x with owners and devices)"
tools=(mmdebstrap dockerd skopeo python3 hyperfine umoci igzip zstd bsdtar tar cat find curl
  docker-registry)
for tool in "${tools[@]}"; do
  command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time missing (apt-get install time)"
if [ "$prepare_only" = 0 ]; then
  [ -x "$coroner" ] || die "coroner binary $coroner missing: build it (bench/README.md) or pass its path"
  coroner=$(realpath "$coroner")
fi

# --- The image -----------------------------------------------------------------------------
# The big base: the same recipe as tests/integration/lib/images.sh's base tar, with more packages
# (its _build_base_tar runs mmdebstrap and retries once). Overriding base_tar makes import_base
# and _build_image_artifacts use it; base_key (in the image's cache key) covers these options.
CORONER_BASE_OPTS=(--variant=minbase
  --include=gcc,g++,make,python3,perl,git,libboost-dev,clang-14,vim-nox,curl)
CORONER_IMAGES_SRC=$here
base_tar() {
  BASE_TAR="$CORONER_CACHE/bench-bookworm-big.tar"
  with_lock "$CORONER_CACHE/.bench-base.lock" _build_base_tar "$BASE_TAR"
}
image_name=bench-big
image_ref=coroner-test/$image_name:latest
t0=$SECONDS
img="$CORONER_CACHE/images/$image_name-$(image_key "$image_name")"
# Its own lock: building takes minutes and must not hold up the integration tests' images.
# (_build_image_artifacts's `local name=$1 ... ref=".../$name"` reads its caller's $name.)
build_image() {
  local name=$image_name
  _build_image_artifacts "$name" "$img"
}
with_lock "$CORONER_CACHE/.bench-images.lock" build_image
log "image artifacts ready in $((SECONDS - t0)) s: $img ($(sed -n 's/^layers: //p' "$img/meta") layers)"
[ "$prepare_only" = 1 ] && exit 0

save=$img/save.tar
gz=$img/oci-gzip
zs=$img/oci-zstd
mkdir -p "$out"
work=$out/work
rm -rf "$out/json" "$out/mem" "$out/hyperfine.log"
mkdir -p "$out/json" "$out/mem" "$work"
log "extracting the uncompressed layer tars of the docker-archive to $work/raw (cached)"
python3 "$here/e2e_lib.py" layers "$save" "$gz" "$zs" "$work" | tee "$work/layers.txt" >&2
readarray -t raw < <(python3 -c 'import json,sys; [print(l["raw"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$work/stats.json")
readarray -t gzb < <(python3 -c 'import json,sys; [print(l["gz"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$work/stats.json")
readarray -t zsb < <(python3 -c 'import json,sys; [print(l["zst"]) for l in json.load(open(sys.argv[1]))["layers"]]' "$work/stats.json")
big=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["largest_layer"])' "$work/stats.json")

# --- Measuring -----------------------------------------------------------------------------
q() { printf '%q' "$1"; }
qa() {
  local s="" a
  for a in "$@"; do s+=" $(q "$a")"; done
  printf '%s' "${s# }"
}
# bench NAME RUNS WARMUP OUTPUT COMMAND [hyperfine options]: one hyperfine run → json/NAME.json.
bench() {
  local name=$1 n=$2 warm=$3 output=$4 cmd=$5
  shift 5
  log "bench $name ($n runs, $warm warm-up): $cmd"
  if ! hyperfine --runs "$n" --warmup "$warm" --output "$output" --style basic \
    --export-json "$out/json/$name.json" -n "$name" "$@" "$cmd" >>"$out/hyperfine.log" 2>&1; then
    log "bench $name failed (see $out/hyperfine.log)"
    rm -f "$out/json/$name.json"
  fi
}
# peak NAME COMMAND...: one run under GNU time → mem/NAME.txt (max RSS in KiB); a failure leaves
# mem/NAME.failed with the exit status and the last lines of stderr.
peak() {
  local name=$1 rc=0
  shift
  /usr/bin/time -f %M -o "$out/mem/$name.txt" "$@" >/dev/null 2>"$out/mem/$name.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    { echo "exit $rc: $*"; tail -5 "$out/mem/$name.err"; } >"$out/mem/$name.failed"
    log "FAILED $name: exit $rc: $(tail -1 "$out/mem/$name.err")"
    return 1
  fi
}
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

load_start=$(loadavg)
log "timing (load average $load_start)"
declare -A refs=([archive]="docker-archive:$save" [gzip]="oci:$gz:test" [zstd]="oci:$zs:test")
export_out=$work/export.tar
for form in archive gzip zstd; do
  ref=${refs[$form]}
  # First one run each under GNU time: the peak RSS, a check that the command works at all, and
  # the page cache warmed with the layers of this form.
  for cmd in layers find find_nocheck export; do
    case $cmd in
      layers) args=(layers "$ref") ;;
      find) args=(find "$ref" -perm /111) ;;
      find_nocheck) args=(find "$ref" -perm /111 --no-digest-check) ;;
      export) args=(export "$ref" -o "$export_out") ;;
    esac
    if peak "${cmd}_$form" "$coroner" "${args[@]}"; then
      bench "${cmd}_$form" "$runs" 1 pipe "$(qa "$coroner" "${args[@]}")" \
        --prepare "rm -f $(q "$export_out")"
    fi
    rm -f "$export_out"
  done
done
# The diagnosis, the audit and the package verification, on the docker-archive (find_archive is
# the plain scan they are held to), and the audit on the OCI layouts too (against find_gzip and
# find_zstd). They exit 1 when they find something: that is success here.
for cmd in diagnose audit verify audit_gzip audit_zstd; do
  name=${cmd}_archive
  case $cmd in
    diagnose) args=(diagnose --fail-on never "docker-archive:$save") ;;
    audit) args=(audit --fail-on never "docker-archive:$save") ;;
    verify) args=(packages --verify "docker-archive:$save") ;;
    audit_gzip | audit_zstd)
      args=(audit --fail-on never "${refs[${cmd#audit_}]}")
      name=$cmd
      ;;
  esac
  c="$(qa "$coroner" "${args[@]}") >/dev/null; [ \$? -le 1 ]"
  if peak "$name" sh -c "$c"; then
    bench "$name" "$runs" 1 null "$c"
  fi
done
# md5sum over the package-owned bytes (dpkg's md5sums lists) of the root, extracted once (not
# timed) from the docker export tar: the floor of `packages --verify`.
root=$work/root
if [ ! -f "$root/.complete" ]; then
  rm -rf "$root" && mkdir -p "$root"
  tar x -C "$root" -f "$img/docker-export.tar" && touch "$root/.complete"
fi
bench floor_md5sum_pkg "$runs" 1 null \
  "cd $(q "$root") && cat var/lib/dpkg/info/*.md5sums | md5sum -c --quiet >/dev/null 2>&1; true"

found=$("$coroner" find "docker-archive:$save" -perm /111 2>/dev/null | wc -l || true)
# The same count from the `docker export` of a container (which adds a few paths of its own).
found_export=$(tar tvf "$img/docker-export.tar" | awk '{ m = $1 } substr(m, 4, 1) ~ /[xst]/ ||
  substr(m, 7, 1) ~ /[xst]/ || substr(m, 10, 1) ~ /[xst]/ { n++ } END { print n + 0 }')

# Floors: the same bytes read, decompressed and listed by the standard tools, each layer in turn
# (sum) and the largest layer alone.
bench floor_cat_sum "$runs" 1 null "cat $(qa "${raw[@]}") >/dev/null"
bench floor_cat_largest "$runs" 1 null "cat $(q "${raw[big]}") >/dev/null"
bench floor_igzip_sum "$runs" 1 null "for f in $(qa "${gzb[@]}"); do igzip -dc \"\$f\"; done >/dev/null"
bench floor_igzip_largest "$runs" 1 null "igzip -dc $(q "${gzb[big]}") >/dev/null"
bench floor_zstd_sum "$runs" 1 null "for f in $(qa "${zsb[@]}"); do zstd -qdc \"\$f\"; done >/dev/null"
bench floor_zstd_largest "$runs" 1 null "zstd -qdc $(q "${zsb[big]}") >/dev/null"
bench list_gnutar_raw "$runs" 1 pipe "for f in $(qa "${raw[@]}"); do tar tf \"\$f\"; done"
bench list_bsdtar_raw "$runs" 1 pipe "for f in $(qa "${raw[@]}"); do bsdtar tf \"\$f\"; done"
bench list_gnutar_gzip "$runs" 1 pipe "for f in $(qa "${gzb[@]}"); do tar tzf \"\$f\"; done"
bench list_bsdtar_gzip "$runs" 1 pipe "for f in $(qa "${gzb[@]}"); do bsdtar tf \"\$f\"; done"
bench list_gnutar_zstd "$runs" 1 pipe "for f in $(qa "${zsb[@]}"); do tar --zstd -tf \"\$f\"; done"
bench list_bsdtar_zstd "$runs" 1 pipe "for f in $(qa "${zsb[@]}"); do bsdtar tf \"\$f\"; done"

# The slow ones: write a full root each time (a warm-up buys nothing).
unpack=$work/umoci
bench umoci_unpack_gzip "$slow_runs" 0 null "umoci unpack --image $(q "$gz:test") $(q "$unpack")" \
  --prepare "rm -rf $(q "$unpack")"
rm -rf "$unpack"
byhand=$work/byhand
finds="find $(q "$byhand") -perm /111 >/dev/null; find $(q "$byhand") -nouser >/dev/null"
bench byhand_tar "$slow_runs" 0 null \
  "set -e; rm -rf $(q "$byhand"); mkdir $(q "$byhand"); tar x -C $(q "$byhand") -f $(q "$img/docker-export.tar"); $finds; rm -rf $(q "$byhand")"
if [ "${BENCH_BYHAND:-1}" != 0 ]; then
  if [ -z "$DOCKERD_DIR" ]; then
    # Cached image: a daemon of our own, with the image loaded from the docker-archive.
    dockerd_start
    log "docker load of $save (not timed)"
    dk load -q -i "$save" >/dev/null || die "docker load failed"
  fi
  bench byhand_docker "$slow_runs" 0 null \
    "set -e; rm -rf $(q "$byhand"); mkdir $(q "$byhand"); cid=\$($(q "$DOCKER") create --network none $image_ref); $(q "$DOCKER") export \"\$cid\" | tar x -C $(q "$byhand"); $finds; $(q "$DOCKER") rm -v \"\$cid\" >/dev/null; rm -rf $(q "$byhand")"
  rm -rf "$byhand"
  # docker-daemon: against `docker save -o` alone (the issue's goal: at most 1.3x) and the
  # by-hand workflow; --via export against the same.
  save_out=$work/daemon-save.tar
  bench daemon_save_o "$runs" 0 null "$(q "$DOCKER") save -o $(q "$save_out") $image_ref" \
    --prepare "rm -f $(q "$save_out")"
  rm -f "$save_out"
  bench daemon_diagnose "$runs" 0 null \
    "$(qa "$coroner" diagnose --fail-on never "docker-daemon:$image_ref") >/dev/null"
  bench daemon_diagnose_export "$runs" 0 null \
    "$(qa "$coroner" diagnose --fail-on never --via export "docker-daemon:$image_ref") >/dev/null"
fi
# docker://: the gzip OCI image in Debian's docker-registry on loopback (pushed once, not timed),
# against the same scan of the local layout and against what it replaces: skopeo copy to a
# local layout, then the scan of that. BENCH_REGISTRY=0 skips it.
if [ "${BENCH_REGISTRY:-1}" != 0 ]; then
  reg_dir=$work/registry
  reg_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$reg_dir"
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$reg_dir/data" "$reg_port" >"$reg_dir/config.yml"
  docker-registry serve "$reg_dir/config.yml" >"$reg_dir/log" 2>&1 &
  reg_pid=$!
  cleanup_push "kill $reg_pid 2>/dev/null || true"
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$reg_port/v2/" && break; sleep 0.1; done
  reg_ref=docker://127.0.0.1:$reg_port/bench:gzip
  log "skopeo copy oci:$gz:test $reg_ref (not timed)"
  skopeo copy --quiet --dest-tls-verify=false "oci:$gz:test" "$reg_ref" || die "skopeo copy to the registry failed"
  if peak find_registry "$coroner" find "$reg_ref" -perm /111; then
    bench find_registry "$runs" 1 pipe "$(qa "$coroner" find "$reg_ref" -perm /111)"
  fi
  pulled=$work/pulled
  bench skopeo_find_registry "$slow_runs" 0 pipe \
    "set -e; rm -rf $(q "$pulled"); skopeo copy --quiet --src-tls-verify=false $(q "$reg_ref") oci:$(q "$pulled"):t; $(qa "$coroner" find "oci:$pulled:t" -perm /111); rm -rf $(q "$pulled")"
  rm -rf "$pulled" "$reg_dir"
  kill "$reg_pid" 2>/dev/null || true
fi
load_end=$(loadavg)
log "timing done (load average $load_end)"

{
  echo "date: $(date -u +%FT%TZ)   host: $(uname -srm), $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(free -g | awk '/^Mem:/ {print $2}') GB RAM"
  echo "load average (1, 5, 15 min): $load_start at the start of the timings, $load_end at the end; nice $(nice)"
  echo "coroner: $("$coroner" --version 2>&1 | head -1) ($coroner; this checkout: git $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "?"))"
  echo "image: $img"
  sed 's/^/  /' "$img/meta"
  echo "tools: hyperfine $(hyperfine --version | cut -d' ' -f2), $(tar --version | head -1), $(bsdtar --version), igzip $(igzip --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1), zstd $(zstd --version | grep -o 'v[0-9.]*'), umoci $(umoci --version | cut -d' ' -f3)"
  echo "runs: $runs timed after 1 warm-up (coroner, floors, listings); $slow_runs without warm-up (umoci, by hand); page cache warm, not dropped"
  echo "check: coroner find -perm /111 on the docker-archive printed $found paths; the docker export tar has $found_export entries with an x bit"
} >"$out/env.txt"
python3 "$here/e2e_lib.py" report "$out" >"$out/results.md"
cat "$out/results.md"
log "results in $out/results.md (hyperfine JSON in $out/json, log $out/hyperfine.log)"
