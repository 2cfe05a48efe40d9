#!/usr/bin/env bash
# coroner on archives that other projects made and Debian ships, none made by coroner's tests:
#   - the 42 tar files of Go's archive/tar test data (golang-1.19-src): GNU, PAX, ustar, v7 and
#     star headers, GNU and PAX sparse files, long names, xattrs, devices, hardlinks, and broken
#     ones. Go's archive/tar is what docker and containerd unpack layers with, so where GNU tar
#     and Go disagree the reference is Go (its reader_test.go says what it reads or rejects).
#     Each file is expected to be either extracted by `coroner export tar:F --dir` exactly as GNU
#     tar or bsdtar extracts it (treecmp: paths, types, modes, owners, sizes, contents, links,
#     devices, xattrs), or refused with one line on stderr and exit code 2;
#   - docker's own test layers (golang-github-docker-docker-dev: pkg/tarsum, pkg/archive);
#   - the images of containers/common's libimage test data (golang-github-containers-common-dev),
#     made by buildkit, docker save, skopeo and podman: docker-archive and oci-archive tars with
#     `"Layers": null` (Go's nil slices), repositories files, two images in one archive, and a
#     `docker export` of a busybox container.
# Usage: real_archives_test.sh CORONER_BINARY   (root, for devices and owners; downloads the
# three Debian packages once from this machine's apt archive into $CORONER_CACHE)
set -euo pipefail
CORONER=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
# The three packages are unpacked into the cache (lib/common.sh debian_data), not installed.
debian_data golang-1.19-src
GOTAR=$DEB_ROOT/usr/share/go-1.19/src/archive/tar/testdata
debian_data golang-github-containers-common-dev
LIBIMAGE=$DEB_ROOT/usr/share/gocode/src/github.com/containers/common/libimage/testdata
debian_data golang-github-docker-docker-dev
DOCKER_TESTDATA=$DEB_ROOT/usr/share/gocode/src/github.com/docker/docker/pkg
for d in "$GOTAR" "$LIBIMAGE" "$DOCKER_TESTDATA/tarsum/testdata"; do
  [ -d "$d" ] || die "$d: missing from its package"
done
TREECMP=$HERE/tools/treecmp.py
make_tmpdir
TMP=$TMP_DIR
FAIL=0

# What each file of Go's test data must give: gnu / bsd (the same tree as that extractor), or
# error (exit 2, one line). Every file of the folder must be listed here.
declare -A EXPECT=(
  [file-and-dir.tar]=gnu [gnu-incremental.tar]=gnu [gnu-long-nul.tar]=gnu
  [gnu-multi-hdrs.tar]=gnu [gnu-nil-sparse-data.tar]=gnu [gnu-nil-sparse-hole.tar]=gnu
  [gnu-not-utf8.tar]=gnu [gnu-utf8.tar]=gnu [gnu.tar]=gnu [hardlink.tar]=gnu
  [invalid-go17.tar]=gnu [nil-uid.tar]=gnu [pax-bad-mtime-file.tar]=gnu [pax-multi-hdrs.tar]=gnu
  [pax-nil-sparse-data.tar]=gnu [pax-nil-sparse-hole.tar]=gnu [pax-pos-size-file.tar]=gnu
  [pax-records.tar]=gnu [pax.tar]=gnu [star.tar]=gnu [trailing-slash.tar]=gnu
  [ustar-file-devs.tar]=gnu [ustar-file-reg.tar]=gnu [ustar.tar]=gnu [v7.tar]=gnu
  [writer.tar]=gnu [xattrs.tar]=gnu
  # GNU tar 1.34 refuses these ("Unexpected EOF", "This does not look like a tar archive"); Go
  # reads them, as libarchive does.
  [hdr-only.tar]=bsd [sparse-formats.tar]=bsd
  # GNU tar applies the path of a global pax header to the next entry ("global1"); Go and
  # libarchive do not (file1..file4).
  [pax-global-records.tar]=bsd
  # Go: ErrHeader (reader_test.go), GNU tar and bsdtar fail too.
  [issue10968.tar]=error [issue11169.tar]=error [issue12435.tar]=error [neg-size.tar]=error
  [pax-bad-hdr-file.tar]=error [pax-nul-xattrs.tar]=error
  # Go: ErrHeader (a NUL in a pax path); GNU tar cuts the name at the NUL, bsdtar 3.6 keeps it.
  [pax-nul-path.tar]=error
  # Go's writer tests keep only the headers of these: the content is cut off.
  [writer-big.tar]=error [writer-big-long.tar]=error
  # 60 GB sparse files: listed, but export stops at the bound on zeros that sparse holes may add
  # to a layer (a hostile tar of a few KiB could otherwise declare terabytes).
  [gnu-sparse-big.tar]=sparse-bound [pax-sparse-big.tar]=sparse-bound
  # A pax header with no entry after it, then the end of the file: Go and GNU tar read an empty
  # archive, and so does coroner (with a note); libarchive calls it damaged.
  [pax-path-hdr.tar]=gnu
)

n=0
for f in "$GOTAR"/*.tar; do
  name=$(basename "$f")
  want=${EXPECT[$name]:-}
  if [ -z "$want" ]; then
    log "$name: not in the expectations of this test"; FAIL=1; continue
  fi
  n=$((n + 1))
  out=$TMP/go/$name
  mkdir -p "$out/ref" "$out/cor"
  rc=0
  "$CORONER" export "tar:$f" --dir "$out/cor" >/dev/null 2>"$out/err" || rc=$?
  case $want in
    gnu | bsd)
      if [ $want = gnu ]; then
        tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$f" -C "$out/ref"
      else
        bsdtar -xpf "$f" -C "$out/ref"
      fi
      if [ $rc -ne 0 ]; then
        log "$name: coroner export failed (rc $rc): $(cat "$out/err")"; FAIL=1
      elif ! python3 "$TREECMP" --ignore-dir-mode-of-root "$out/ref" "$out/cor" >"$out/cmp" 2>&1; then
        log "$name: coroner's export differs from $want tar's extraction:"; cat "$out/cmp" >&2
        FAIL=1
      fi
      ;;
    error | sparse-bound)
      if [ $rc -ne 2 ] || [ "$(wc -l <"$out/err")" -ne 1 ] || ! grep -q '^coroner: ' "$out/err"; then
        log "$name: expected one error line and exit code 2, got rc $rc:"; cat "$out/err" >&2
        FAIL=1
      elif [ $want = sparse-bound ] && ! grep -q 'holes expand past the limit' "$out/err"; then
        log "$name: not the sparse bound: $(cat "$out/err")"; FAIL=1
      elif [ $want = sparse-bound ] && ! "$CORONER" ls -l "tar:$f" >"$out/ls" 2>&1; then
        log "$name: ls failed: $(cat "$out/ls")"; FAIL=1
      fi
      ;;
  esac
done
log "Go's archive/tar test data: $n files checked ($(grep -c . <<<"$(printf '%s\n' "${EXPECT[@]}" | grep -x -e gnu -e bsd)") extracted as tar does, the others refused)"
[ $n -eq ${#EXPECT[@]} ] || { log "only $n of the ${#EXPECT[@]} expected files exist"; FAIL=1; }

# Docker's own test layers (golang-github-docker-docker-dev): pkg/tarsum's layer.tar files of
# 2013-2014 images (one with a security.capability xattr), its hash-collision tars, and
# pkg/archive's broken.tar: each exported exactly as GNU tar extracts it.
m=0
while IFS= read -r f; do
  out=$TMP/docker/$m
  mkdir -p "$out/ref" "$out/cor"
  tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$f" -C "$out/ref"
  if ! "$CORONER" export "tar:$f" --dir "$out/cor" >/dev/null 2>"$out/err"; then
    log "$f: coroner export failed: $(cat "$out/err")"; FAIL=1
  elif ! python3 "$TREECMP" --ignore-dir-mode-of-root "$out/ref" "$out/cor" >"$out/cmp" 2>&1; then
    log "$f: coroner's export differs from GNU tar's extraction:"; cat "$out/cmp" >&2; FAIL=1
  fi
  m=$((m + 1))
done < <(find "$DOCKER_TESTDATA" -name '*.tar' | LC_ALL=C sort)
log "docker's test layers: $m tars exported as GNU tar extracts them"
[ $m -ge 8 ] || { log "expected at least 8 tars in $DOCKER_TESTDATA"; FAIL=1; }

# containers/common's libimage test data.
check() {  # WHAT EXPECTED-OUTPUT-GREP ARGS...
  local what=$1 want=$2
  shift 2
  if "$CORONER" "$@" >"$TMP/out" 2>"$TMP/err" && grep -q -- "$want" "$TMP/out"; then
    log "$what: ok"
  else
    log "$what: FAILED ($*):"; cat "$TMP/out" "$TMP/err" >&2; FAIL=1
  fi
}
L=$LIBIMAGE
# buildkit's exports: both an OCI layout and a manifest.json, no layers, "Layers": null.
for f in buildkit-docker.tar buildkit-oci.tar; do
  check "$f as docker-archive" '"history":\[\]' layers --json "docker-archive:$L/$f"
  check "$f as oci-archive" '"history":\[\]' layers --json "oci-archive:$L/$f"
  # Its config has neither Entrypoint nor Cmd: the diagnosis says so (exit 1, findings).
  rc=0
  "$CORONER" diagnose "$L/$f" >"$TMP/out" 2>&1 || rc=$?
  if [ $rc -eq 1 ] && grep -q 'entrypoint-missing' "$TMP/out"; then
    log "$f: diagnose: $(head -1 "$TMP/out")"
  else
    log "$f: diagnose FAILED (rc $rc):"; cat "$TMP/out" >&2; FAIL=1
  fi
done
# docker save archives (xz-compressed, as the tests store them) and oci-archives (gzip), each
# one layer holding one empty file, /empty.
for f in docker-name-only docker-registry-name docker-unnamed docker-two-names; do
  xz -dc "$L/$f.tar.xz" >"$TMP/$f.tar"
  check "$f" ' empty$' ls -lR "docker-archive:$TMP/$f.tar"
done
xz -dc "$L/docker-two-images.tar.xz" >"$TMP/two.tar"
check "docker-two-images @1" ' empty$' ls -lR "docker-archive:$TMP/two.tar:@1"
if "$CORONER" ls "docker-archive:$TMP/two.tar" >/dev/null 2>"$TMP/err"; then
  log "docker-two-images: no error for an archive of two images"; FAIL=1
elif grep -q 'holds 2 images' "$TMP/err"; then
  log "docker-two-images without a choice: $(cat "$TMP/err")"
else
  cat "$TMP/err" >&2; FAIL=1
fi
for f in oci-name-only oci-non-docker-name oci-registry-name oci-unnamed; do
  gzip -dc "$L/$f.tar.gz" >"$TMP/$f.tar"
  check "$f" ' empty$' ls -lR "oci-archive:$TMP/$f.tar"
done
# A `docker export` of a busybox container: coroner's export is GNU tar's extraction.
mkdir -p "$TMP/exp/ref" "$TMP/exp/cor"
tar --xattrs --xattrs-include='*' --numeric-owner -xpf "$L/exported-container.tar" -C "$TMP/exp/ref"
"$CORONER" export "tar:$L/exported-container.tar" --dir "$TMP/exp/cor" >/dev/null
if python3 "$TREECMP" --ignore-dir-mode-of-root "$TMP/exp/ref" "$TMP/exp/cor" >"$TMP/exp/cmp" 2>&1; then
  log "exported-container.tar: $(tail -1 "$TMP/exp/cmp")"
else
  cat "$TMP/exp/cmp" >&2; FAIL=1
fi
exit $FAIL
