#!/usr/bin/env bash
# `coroner packages --verify` against `dpkg --verify --root` on a real Debian bookworm minbase
# root (mmdebstrap, cached). The root is extracted, then changed the ways images drift: a
# conffile edited, a conffile and a binary deleted, a binary appended to, one replaced by a
# symlink to an identical copy, one by a dangling symlink, one hardlinked to another file, a
# library directory replaced by a file (ENOTDIR below it), a directory tree deleted, modes and
# owners changed (dpkg --verify ignores those). Both outputs are sorted and must be identical,
# line for line (dpkg prints in hash order, coroner by package). Then the same as tar:.
# Also prints the one-run timing of --verify against md5sum over the package-owned files.
# Usage: packages_test.sh CORONER_BINARY   (root; needs dpkg, mmdebstrap or the cache)
set -euo pipefail
CORONER=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/images.sh"
[ "$(id -u)" = 0 ] || die "needs root (file owners)"
command -v dpkg >/dev/null || die "dpkg missing"

make_tmpdir
TMP=$TMP_DIR
base_tar
ROOT=$TMP/root
mkdir -p "$ROOT"
tar -xf "$BASE_TAR" -C "$ROOT" --exclude='./dev/*'

# The changes (every path exists in bookworm minbase; a missing one fails the test).
R=$ROOT
echo "# local change" >>"$R/etc/login.defs"            # conffile modified: ??5?????? c
rm "$R/etc/debian_version"                             # conffile missing: missing   c
rm "$R/usr/bin/cut"                                    # missing
echo x >>"$R/usr/bin/tail"                             # ??5
cp "$R/usr/bin/nice" "$R/usr/bin/nice.copy"
rm "$R/usr/bin/nice" && ln -s nice.copy "$R/usr/bin/nice"  # ?M.
ln -sf /nonexistent "$R/usr/bin/tac"                   # ?M??? (no digest)
rm "$R/usr/bin/paste" && ln "$R/usr/bin/pr" "$R/usr/bin/paste"  # ??5 (hardlink to pr)
rm -rf "$R/usr/lib/x86_64-linux-gnu/gconv" && touch "$R/usr/lib/x86_64-linux-gnu/gconv"
rm -rf "$R/usr/share/zoneinfo/America"                 # a deleted tree: dirs too
chmod 000 "$R/usr/bin/nohup"; chown 1234:1234 "$R/usr/bin/nproc"; chmod 4755 "$R/usr/bin/od"

log "dpkg --verify --root=$ROOT"
dpkg --verify --root="$ROOT" >"$TMP/dpkg.txt" 2>"$TMP/dpkg.err" || true
[ -s "$TMP/dpkg.err" ] && { cat "$TMP/dpkg.err" >&2; die "dpkg --verify wrote errors"; }
FAIL=0
compare() {
  local name=$1 out=$2
  LC_ALL=C sort "$TMP/dpkg.txt" >"$TMP/dpkg.sorted"
  LC_ALL=C sort "$out" >"$out.sorted"
  if cmp -s "$TMP/dpkg.sorted" "$out.sorted"; then
    log "$name: identical to dpkg --verify ($(wc -l <"$out") lines)"
  else
    log "$name: DIFFERS from dpkg --verify (< dpkg, > coroner):"
    diff "$TMP/dpkg.sorted" "$out.sorted" | head -40 >&2
    FAIL=1
  fi
}
log "coroner packages rootfs:$ROOT --verify"
"$CORONER" packages "rootfs:$ROOT" --verify >"$TMP/rootfs.txt" 2>"$TMP/rootfs.err" || true
cat "$TMP/rootfs.err" >&2
compare rootfs "$TMP/rootfs.txt"

log "tar of the changed root → coroner packages tar:"
tar -C "$ROOT" -cf "$TMP/changed.tar" .
"$CORONER" packages "tar:$TMP/changed.tar" --verify >"$TMP/tar.txt" 2>"$TMP/tar.err" || true
compare tar "$TMP/tar.txt"

# Counts by kind, from dpkg's own output.
printf 'counts: %s lines; missing %s (conffiles %s); changed %s (conffiles %s); not-a-dir %s\n' \
  "$(wc -l <"$TMP/dpkg.txt")" "$(grep -c '^missing' "$TMP/dpkg.txt" || true)" \
  "$(grep -c '^missing   c' "$TMP/dpkg.txt" || true)" "$(grep -vc '^missing' "$TMP/dpkg.txt" || true)" \
  "$(grep -v '^missing' "$TMP/dpkg.txt" | grep -c ' c /' || true)" \
  "$(grep -c '(Not a directory)' "$TMP/dpkg.txt" || true)"

# Inventory: every installed package of dpkg-query, same version.
dpkg-query --admindir="$ROOT/var/lib/dpkg" -W -f '${db:Status-Abbrev}${Package} ${Version}\n' |
  awk '$1=="ii"{print $2, $3}' | LC_ALL=C sort >"$TMP/query.txt"
"$CORONER" packages "tar:$TMP/changed.tar" --json |
  python3 -c 'import json,sys; [print(p["name"], p["version"]) for p in json.load(sys.stdin)["packages"] if p["ok"]]' |
  LC_ALL=C sort >"$TMP/inv.txt"
if cmp -s "$TMP/query.txt" "$TMP/inv.txt"; then
  log "inventory: $(wc -l <"$TMP/inv.txt") packages, same as dpkg-query"
else
  diff "$TMP/query.txt" "$TMP/inv.txt" | head >&2
  FAIL=1
fi

# The audit reports the same changes as findings: each file the test deleted or modified, by
# rule, with the package that owns it (conffiles changed apart, as info).
log "coroner audit tar: --format json"
"$CORONER" audit "tar:$TMP/changed.tar" --format json --fail-on never >"$TMP/audit.json"
python3 - "$TMP/audit.json" <<'PY' || FAIL=1
import json, sys
doc = json.load(open(sys.argv[1]))
got = {}
for f in doc["findings"]:
    got.setdefault(f["rule"], {})[f["path"]] = f
want = {
    "package-file-missing": {"/usr/bin/cut": "coreutils"},
    "config-missing": {"/etc/debian_version": "base-files"},
    "package-file-modified": {"/usr/bin/tail": "coreutils", "/usr/bin/paste": "coreutils",
                              "/usr/bin/nice": "coreutils"},
    "conffile-modified": {"/etc/login.defs": "login"},
}
bad = 0
for rule, paths in want.items():
    for path, package in paths.items():
        f = got.get(rule, {}).get(path)
        if f is None:
            print(f"audit: no {rule} finding for {path}", file=sys.stderr); bad = 1
        elif package not in f["message"] or f["layer_index"] != 0:
            print(f"audit: {rule} {path}: {f['message']} (layer {f['layer_index']})",
                  file=sys.stderr); bad = 1
sev = {f["rule"]: f["severity"] for f in doc["findings"]}
if sev.get("conffile-modified") != "info" or sev.get("package-file-missing") != "warning":
    print(f"audit: severities {sev}", file=sys.stderr); bad = 1
n = {r: len(p) for r, p in got.items() if r in want}
print(f"audit: findings {n}")
sys.exit(bad)
PY

# Performance note (one run each, not a pass/fail criterion): --verify on the tar vs md5sum over
# the package-owned bytes of the extracted root.
python3 - "$ROOT" >"$TMP/owned.txt" <<'PY'
import glob, os, sys
root = sys.argv[1]
seen = set()
for f in glob.glob(root + "/var/lib/dpkg/info/*.md5sums"):
    for line in open(f, errors="replace"):
        p = os.path.join(root, line[34:].rstrip("\n"))
        if p not in seen and os.path.isfile(p):
            seen.add(p); print(p)
PY
t0=$(date +%s.%N)
"$CORONER" packages "tar:$TMP/changed.tar" --verify >/dev/null 2>&1 || true
t1=$(date +%s.%N)
tr '\n' '\0' <"$TMP/owned.txt" | xargs -0 cat >/dev/null  # warm the page cache as coroner's run did
t2=$(date +%s.%N)
tr '\n' '\0' <"$TMP/owned.txt" | xargs -0 md5sum >/dev/null
t3=$(date +%s.%N)
python3 -c "import sys; c=$t1-$t0; m=$t3-$t2; print(f'perf: coroner packages --verify (tar, whole scan) {c:.2f} s; md5sum over {sys.argv[1]} package-owned files {m:.2f} s; ratio {c/m:.1f}x')" "$(wc -l <"$TMP/owned.txt")"
exit $FAIL
