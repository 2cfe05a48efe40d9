#!/usr/bin/env bash
# `coroner ldd --all` against the real glibc loader, file by file, on real Debian roots
# (bookworm and bullseye minbase from mmdebstrap, cached), plus two fixtures that make it
# interesting: a library in /usr/local/lib installed without running ldconfig, and a program
# whose DT_RPATH is $ORIGIN/../lib, with copies in glibc-hwcaps/x86-64-v2 and x86_64 below it. For every ELF executable or shared object in the root,
# `chroot ROOT env LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 FILE` (what ldd runs;
# `ld.so --list` stops at the first missing library instead) is the reference; the resolved
# name -> file map (compared after realpath inside the root), the "not found" set and the
# missing versions must be the same. Then the speed: `coroner ldd tar:BOOKWORM.tar --all`
# against `ldd` on every ELF in a chroot (hyperfine), which must be at least 10x slower.
# Usage: ldd_test.sh CORONER_BINARY   (root; needs gcc, python3, hyperfine, mmdebstrap or cache)
set -euo pipefail
CORONER=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/images.sh"
[ "$(id -u)" = 0 ] || die "needs root (chroot)"

make_tmpdir
TMP=$TMP_DIR
[ -n "$TMP" ] && [ -d "$TMP" ] || die "no temp dir"

# The x86-64 level of this CPU as the host's ld.so reports it, so that coroner probes the same
# glibc-hwcaps subdirectories as the reference loader.
LEVEL=1
for v in 2 3 4; do
  /lib64/ld-linux-x86-64.so.2 --help 2>/dev/null | grep -q "x86-64-v$v (supported" && LEVEL=$v
done

# Fixtures, built on the host: libldlocal in /usr/local/lib (no ldconfig afterwards), libldorigin
# in /opt/ldapp/lib found through $ORIGIN/../lib, and a program needing both. The libraries are
# -nostdlib so that they load on any glibc; the program needs the host glibc's versions, which
# bullseye (2.31) does not have: a version error to compare too.
build_fixtures() {
  local d=$TMP/fixtures
  mkdir -p "$d"
  echo 'int ld_local(void) { return 1; }' >"$d/local.c"
  echo 'int ld_origin(void) { return 2; }' >"$d/origin.c"
  printf '%s\n' '#include <stdio.h>' 'int ld_local(void); int ld_origin(void);' \
    'int main(void) { printf("%d\n", ld_local() + ld_origin()); return 0; }' >"$d/app.c"
  gcc -shared -fPIC -nostdlib -Wl,-soname,libldlocal.so.1 -o "$d/libldlocal.so.1" "$d/local.c"
  gcc -shared -fPIC -nostdlib -Wl,-soname,libldorigin.so.1 -o "$d/libldorigin.so.1" "$d/origin.c"
  gcc -o "$d/ldapp" "$d/app.c" "$d/libldlocal.so.1" "$d/libldorigin.so.1" \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib'
}

install_fixtures() {
  local root=$1 d=$TMP/fixtures
  mkdir -p "$root/usr/local/lib" "$root/opt/ldapp/bin" "$root/opt/ldapp/lib"
  cp "$d/libldlocal.so.1" "$root/usr/local/lib/"
  cp "$d/libldorigin.so.1" "$root/opt/ldapp/lib/"
  cp "$d/ldapp" "$root/opt/ldapp/bin/"
  # Copies in a glibc-hwcaps subdir (glibc >= 2.33 takes it) and in the legacy x86_64 subdir
  # (glibc < 2.37 tries it after the hwcaps dirs, bullseye's 2.31 only that one).
  mkdir -p "$root/opt/ldapp/lib/glibc-hwcaps/x86-64-v2" "$root/opt/ldapp/lib/x86_64"
  cp "$d/libldorigin.so.1" "$root/opt/ldapp/lib/glibc-hwcaps/x86-64-v2/"
  cp "$d/libldorigin.so.1" "$root/opt/ldapp/lib/x86_64/"
  ln -s /opt/ldapp/bin/ldapp "$root/usr/local/bin/ldapp"
}

# Lists the ELF executables and shared objects of a root (absolute paths inside it).
list_elfs() {
  python3 - "$1" <<'PY'
import os, sys
root = sys.argv[1]
for dirpath, dirs, files in os.walk(root):
    dirs.sort()
    for f in sorted(files):
        p = os.path.join(dirpath, f)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        try:
            with open(p, 'rb') as fh:
                head = fh.read(18)
        except OSError:
            continue
        if len(head) == 18 and head[:4] == b'\x7fELF' and head[16] in (2, 3) and head[17] == 0:
            print(p[len(root):])
PY
}

compare_root() {
  local name=$1 root=$2
  local out=$TMP/$name
  mkdir -p "$out"
  list_elfs "$root" >"$out/elfs"
  log "$name: $(wc -l <"$out/elfs") ELF files; the loader in trace mode on each (chroot)"
  cp "$out/elfs" "$root/tmp/.ldd_elfs"
  chroot "$root" /usr/bin/env -i /bin/sh -c '
    while read -r f; do
      echo "=== $f"
      LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 "$f" 2>&1
      echo "=== rc $?"
    done < /tmp/.ldd_elfs' >"$out/ldso.txt"
  rm -f "$root/tmp/.ldd_elfs"
  log "$name: coroner ldd rootfs:$root --all --x86-64-level $LEVEL"
  "$CORONER" ldd "rootfs:$root" --all --x86-64-level "$LEVEL" >"$out/coroner.jsonl" || true
  python3 "$HERE/tools/ldd_compare.py" "$root" "$out/ldso.txt" "$out/coroner.jsonl" "$name"
  "$CORONER" ldd "rootfs:$root" /usr/local/bin/ldapp --x86-64-level "$LEVEL" | sed "s/^/$name: /" || true
}

build_fixtures
FAIL=0
for suite in bookworm bullseye; do
  CORONER_SUITE=$suite base_tar
  log "$suite: $BASE_TAR"
  root=$TMP/root-$suite
  mkdir -p "$root"
  tar -xf "$BASE_TAR" -C "$root" --exclude='./dev/*'
  install_fixtures "$root"
  compare_root "$suite" "$root" || FAIL=1
  [ "$suite" = bookworm ] && BOOKWORM_TAR=$BASE_TAR BOOKWORM_ROOT=$root
done

# Speed: coroner on the image tar vs ldd on every ELF inside a chroot.
log "speed: hyperfine (bookworm)"
list_elfs "$BOOKWORM_ROOT" >"$BOOKWORM_ROOT/tmp/.ldd_elfs"
hyperfine --runs 3 --warmup 1 --export-json "$TMP/hyperfine.json" \
  -n coroner "$CORONER ldd tar:$BOOKWORM_TAR --all >/dev/null || true" \
  -n ldd-chroot "chroot $BOOKWORM_ROOT /bin/sh -c 'while read -r f; do ldd \"\$f\" >/dev/null 2>&1; done < /tmp/.ldd_elfs'" \
  >&2
python3 - "$TMP/hyperfine.json" <<'PY' || FAIL=1
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
ratio = r["ldd-chroot"] / r["coroner"]
print(f"speed: coroner ldd --all {r['coroner']:.3f} s, ldd in chroot {r['ldd-chroot']:.3f} s, "
      f"ratio {ratio:.1f}x (need >= 10x)")
sys.exit(0 if ratio >= 10 else 1)
PY
exit $FAIL
