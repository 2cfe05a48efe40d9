#!/usr/bin/env bash
# Integration test of `coroner export` against real images and two independent references.
#   export_test.sh --refs               the references must agree: `umoci unpack` of the OCI
#                                       layout with gzip layers == `docker export` of a created
#                                       container (less what Docker injects); the zstd layout's
#                                       layers decompress to the same diff_ids
#   export_test.sh --coroner [BINARY]   `coroner export` of the docker-archive and of both OCI
#                                       layouts, as tar and as folder, == both references; and
#                                       `coroner diff BASE IMAGE` == treecmp of the same roots;
#                                       sparse tars (GNU tar, bsdtar) read back by cat and export;
#                                       an overlay upper dir's whiteouts hidden in rootfs:UPPER
# BINARY defaults to $CORONER. Needs root (dockerd, umoci unpack, --dir with owners and devices).
# The image (tests/integration/images/layered) is built once and cached under $CORONER_CACHE;
# a warm run starts no daemon. Every compare prints "treecmp: N paths compared, M differences".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/images.sh"
treecmp() { python3 "$here/tools/treecmp.py" --quiet "$@"; }

mode=${1:---refs}
case "$mode" in
  --refs) ;;
  --coroner)
    coroner=${2:-${CORONER:-}}
    [ -n "$coroner" ] || die "no coroner binary: pass it as the argument or set CORONER"
    [ -x "$coroner" ] || die "coroner binary $coroner missing or not executable"
    ;;
  *) die "usage: export_test.sh --refs | --coroner [BINARY]" ;;
esac
[ "$(id -u)" -eq 0 ] || die "needs root (dockerd, umoci unpack as root)"
for tool in umoci skopeo python3 mmdebstrap dockerd; do
  command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh)"
done

start=$SECONDS
image_artifacts layered
img=$IMAGE_DIR
dockerd_stop # built (or cached): the daemon is not needed any more
log "image artifacts ready in $((SECONDS - start)) s: $img ($(sed -n 's/^layers: //p' "$img/meta") layers)"

make_tmpdir
work=$TMP_DIR
failures=0
# check NAME A B [treecmp options]: runs one comparison, prints its summary, counts failures.
check() {
  local name=$1 out rc=0
  shift
  out=$(treecmp "$@" 2>&1) || rc=$?
  if [ "$rc" -eq 0 ]; then
    printf 'PASS %-44s %s\n' "$name" "$(tail -1 <<<"$out")"
  else
    printf 'FAIL %-44s %s\n' "$name" "$(tail -1 <<<"$out")"
    python3 "$here/tools/treecmp.py" "$@" 2>&1 | head -60 | sed 's/^/    /'
    failures=$((failures + 1))
  fi
}

# The references: umoci unpack of the gzip layout (umoci 0.4.7 rejects zstd layers, so the zstd
# layout is tied to it by its diff_ids: same config, and each zstd layer decompresses to the
# diff_id the gzip layer decompresses to) and docker export.
t=$SECONDS
gz=$(verify_layout "$img/oci-gzip")
zs=$(verify_layout "$img/oci-zstd")
[ "$gz" = "$zs" ] || die "gzip and zstd layouts differ: config/layers $gz vs $zs"
printf 'PASS %-44s %s\n' "oci gzip and zstd layers == config diff_ids" "config ${gz% *}, ${gz##* } layers"
umoci_unpack "$img/oci-gzip" test "$work/umoci-gzip"
log "layout checks and umoci unpack: $((SECONDS - t)) s"
ref_umoci=$work/umoci-gzip/rootfs
ref_docker=$img/docker-export.tar

if [ "$mode" = --refs ]; then
  check "umoci(oci gzip) vs docker export" "$ref_umoci" "$ref_docker" --ignore-docker-injected
else
  "$coroner" --version >/dev/null 2>&1 || log "note: $coroner --version failed"
  # run NAME COMMAND...: a coroner export; its failure is a test failure, never a skip.
  run() {
    local name=$1 t=$SECONDS rc=0
    shift
    "$@" >"$work/$name.log" 2>&1 || rc=$?
    if [ "$rc" -eq 0 ]; then
      log "$name: $((SECONDS - t)) s"
      return 0
    fi
    echo "FAIL $name: $* exited $rc" >&2
    sed 's/^/    /' "$work/$name.log" >&2
    failures=$((failures + 1))
    return 1
  }
  both() { # both LABEL TREE: TREE against each reference
    check "$1 vs umoci" "$2" "$ref_umoci"
    check "$1 vs docker export" "$2" "$ref_docker" --ignore-docker-injected
  }
  if run archive-tar "$coroner" export "docker-archive:$img/save.tar" -o "$work/archive.tar"; then
    both "coroner export docker-archive -o" "$work/archive.tar"
  fi
  if run gzip-dir "$coroner" export "oci:$img/oci-gzip:test" --dir "$work/gzip-dir"; then
    both "coroner export oci(gzip) --dir" "$work/gzip-dir"
  fi
  if run zstd-tar "$coroner" export "oci:$img/oci-zstd:test" -o "$work/zstd.tar"; then
    both "coroner export oci(zstd) -o" "$work/zstd.tar"
  fi
  # coroner diff == treecmp's differences between the same two roots (the same paths, each
  # added, changed with what changed, or deleted): the bookworm base tar (a flat tar: image)
  # against the image, and the image cut after its third layer (an OCI layout made from the
  # gzip one, unpacked by umoci) against the whole image, whose later layers overwrite, delete,
  # chmod, chown and replace files by dirs and back.
  base_tar
  python3 "$here/tools/truncate_oci.py" "$img/oci-gzip" test 3 "$work/oci-cut3"
  umoci_unpack "$work/oci-cut3" test "$work/umoci-cut3"
  # diffcheck LABEL TREE_A IMAGE_A: coroner diff IMAGE_A (whole image) vs treecmp TREE_A umoci.
  diffcheck() {
    local label=$1 tree=$2 image=$3 t=$SECONDS rc=0 out=""
    "$coroner" diff "$image" "docker-archive:$img/save.tar" >"$work/diff.txt" \
      2>"$work/diff.err" || rc=$?
    log "coroner diff ($label): $((SECONDS - t)) s, exit $rc, $(wc -l <"$work/diff.txt") lines"
    python3 "$here/tools/treecmp.py" --ignore-dir-mode-of-root "$tree" "$ref_umoci" \
      >"$work/treecmp-diff.txt" || true
    if [ "$rc" -eq 1 ] && out=$(python3 "$here/tools/diffcmp.py" "$work/treecmp-diff.txt" \
      "$work/diff.txt" 2>&1); then
      printf 'PASS %-44s %s\n' "coroner diff $label vs treecmp" "$(tail -1 <<<"$out")"
    else
      printf 'FAIL %-44s exit %s\n' "coroner diff $label vs treecmp" "$rc"
      { cat "$work/diff.err"; printf '%s\n' "$out"; } | head -80 | sed 's/^/    /'
      failures=$((failures + 1))
    fi
  }
  diffcheck "base tar" "$BASE_TAR" "tar:$BASE_TAR"
  diffcheck "3 bottom layers" "$work/umoci-cut3/rootfs" "oci:$work/oci-cut3:test"

  # Sparse tar entries, as GNU tar (pax 1.0, 0.0, 0.1, old GNU) and bsdtar (pax 1.0) write them:
  # `coroner cat` and `coroner export` give back the file with its holes as zeros; `export --dir`
  # leaves them as holes.
  sp=$work/sparse
  mkdir -p "$sp/x" && truncate -s 10M "$sp/x/f"
  printf x | dd of="$sp/x/f" bs=1 seek=5M conv=notrunc status=none
  tar -C "$sp/x" --sparse --format=posix -cf "$sp/pax10.tar" f
  tar -C "$sp/x" --sparse --sparse-version=0.0 --format=posix -cf "$sp/pax00.tar" f
  tar -C "$sp/x" --sparse --sparse-version=0.1 --format=posix -cf "$sp/pax01.tar" f
  tar -C "$sp/x" --sparse --format=gnu -cf "$sp/gnu.tar" f
  (cd "$sp/x" && bsdtar --format=pax -cf "$sp/bsd.tar" f)
  for t in pax10 pax00 pax01 gnu bsd; do
    ok=yes
    "$coroner" cat "tar:$sp/$t.tar" /f | cmp -s - "$sp/x/f" || ok=no
    "$coroner" export "tar:$sp/$t.tar" --dir "$sp/$t-dir" >/dev/null && cmp -s "$sp/$t-dir/f" "$sp/x/f" || ok=no
    # export --dir keeps the holes: what the file takes on disk stays far below its 10 MiB.
    [ "$(stat -c %b "$sp/$t-dir/f" 2>/dev/null || echo 99999)" -lt 2048 ] || ok=no
    if [ "$ok" = yes ]; then
      printf 'PASS %-44s %s\n' "sparse $t.tar: cat and export (holes kept)" "$(stat -c %s "$sp/$t.tar") byte tar, $(stat -c %b "$sp/$t-dir/f") blocks exported"
    else
      printf 'FAIL %-44s\n' "sparse $t.tar: cat and export"
      failures=$((failures + 1))
    fi
  done

  # An overlayfs upper dir (a dead container's diff): rm and rmdir + mkdir through a real
  # overlay mount leave a 0/0 whiteout and an opaque dir, which rootfs:UPPER must not show.
  ov=$work/overlay
  mkdir -p "$ov/lower/d" "$ov/upper" "$ov/work" "$ov/merged"
  echo f >"$ov/lower/f" && echo x >"$ov/lower/d/x"
  if mount -t overlay overlay -o "lowerdir=$ov/lower,upperdir=$ov/upper,workdir=$ov/work" \
    "$ov/merged"; then
    rm "$ov/merged/f" && rm -r "$ov/merged/d" && mkdir "$ov/merged/d" && echo n >"$ov/merged/d/new"
    umount "$ov/merged"
    got=$("$coroner" ls -R --json "rootfs:$ov/upper" | python3 -c '
import json, sys
print(" ".join(sorted(json.loads(l)["path"] for l in sys.stdin if l.strip())))')
    if [ "$got" = "/d /d/new" ]; then
      printf 'PASS %-44s %s\n' "overlay upper dir: whiteouts hidden" "$got"
    else
      printf 'FAIL %-44s %s\n' "overlay upper dir: whiteouts hidden" "got: $got"
      failures=$((failures + 1))
    fi
  else
    log "note: mount -t overlay failed: overlay upper dir check skipped"
  fi
fi

log "total $((SECONDS - start)) s, $failures failed comparison(s)"
[ "$failures" -eq 0 ]
