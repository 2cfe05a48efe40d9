#!/usr/bin/env bash
# coroner's rpm support against the real rpm (Debian's rpm 4.18 package): two tiny packages (and
# 40 one-file subpackages of a third spec) are
# built with rpmbuild and installed with `rpm --root --dbpath /var/lib/rpm -i --nodeps` and the
# sqlite backend into a temp root (nothing is committed: the database is made here). Then:
# `coroner packages` == `rpm -qa`; after the test changes files (a %config edited, a file
# deleted, a chmod, a symlink retargeted, an mtime changed, a file grown, a chown, a chgrp, a
# device node remade with another minor, a file's capabilities changed with setcap), `coroner
# packages --verify` == `rpm -V -a` line for line (rootfs: and tar:); `coroner audit --format
# json` names the changed files; the same root with the Fedora layout (/usr/lib/sysimage/rpm, and
# /var/lib/rpm a symlink to it) lists the same packages; the same headers written by Berkeley
# DB's own db5.3_load into a hash `Packages` (512-byte pages: overflow pages and several bucket
# pages) are read by Debian's rpm (bdb_ro backend) and by coroner alike (packages, --verify on
# rootfs: and tar:, and an audit without package-db-unread); the same headers written by rpm's
# own ndb code (rpmpkg.c from Debian's rpm source, which Debian builds without ndb) into SUSE's
# Packages.db are listed and verified alike, and one cut short is named by the audit;
# a `Packages` that is no Berkeley DB is a note.
# Usage: rpm_test.sh CORONER_BINARY   (root; needs rpm, rpmbuild, setcap, db5.3_load, gcc, curl;
# exit 77 without them; fetches rpm's source tarball once from $CORONER_MIRROR into the cache)
set -euo pipefail
CORONER=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
[ "$(id -u)" = 0 ] || die "needs root (file owners)"
for tool in rpm rpmbuild setcap db5.3_load gcc curl; do
  if ! command -v $tool >/dev/null; then
    echo "$tool missing (apt-get install rpm libcap2-bin db5.3-util gcc curl): skipped" >&2
    exit 77
  fi
done

make_tmpdir
TMP=$TMP_DIR
TOP=$TMP/rpmbuild
mkdir -p "$TOP/SPECS"
cat >"$TOP/SPECS/hello-coroner.spec" <<'EOF'
Name: hello-coroner
Version: 1.2
Release: 3
Summary: coroner test package
License: MIT
BuildArch: noarch
%description
Test package for coroner's rpm integration test.
%install
mkdir -p %{buildroot}/usr/bin %{buildroot}/etc %{buildroot}/usr/share/hello-coroner
printf '#!/bin/sh\necho hi\n' >%{buildroot}/usr/bin/hello-coroner
chmod 755 %{buildroot}/usr/bin/hello-coroner
echo 'greeting=hi' >%{buildroot}/etc/hello-coroner.conf
echo data >%{buildroot}/usr/share/hello-coroner/data
echo more >%{buildroot}/usr/share/hello-coroner/more
echo keep >%{buildroot}/usr/share/hello-coroner/keep
for f in owned chowned chgrped; do echo $f >%{buildroot}/usr/share/hello-coroner/$f; done
ln -s hello-coroner %{buildroot}/usr/bin/hello-link
printf '#!/bin/sh\n' >%{buildroot}/usr/bin/hello-caps
printf '#!/bin/sh\n\n' >%{buildroot}/usr/bin/hello-caps-kept
chmod 755 %{buildroot}/usr/bin/hello-caps %{buildroot}/usr/bin/hello-caps-kept
%files
%dir /usr/share/hello-coroner
/usr/bin/hello-coroner
/usr/bin/hello-link
/usr/share/hello-coroner/data
/usr/share/hello-coroner/more
/usr/share/hello-coroner/keep
%attr(0644,coroner,coroner) /usr/share/hello-coroner/owned
/usr/share/hello-coroner/chowned
/usr/share/hello-coroner/chgrped
%caps(cap_net_bind_service=ep) /usr/bin/hello-caps
%caps(cap_net_raw,cap_net_admin+p) /usr/bin/hello-caps-kept
%attr(0666,root,root) %dev(c,1,3) /dev/hello-coroner-null
%attr(0660,root,root) %dev(b,7,0) /dev/hello-coroner-loop
%config(noreplace) /etc/hello-coroner.conf
EOF
cat >"$TOP/SPECS/epoch-coroner.spec" <<'EOF'
Name: epoch-coroner
Epoch: 4
Version: 0.9
Release: 1.el9
Summary: coroner test package with an epoch
License: GPL-2.0-or-later
BuildArch: noarch
%description
Second test package.
%install
mkdir -p %{buildroot}/usr/lib/epoch-coroner
head -c 70000 /dev/zero | tr '\0' 'e' >%{buildroot}/usr/lib/epoch-coroner/blob
%files
/usr/lib/epoch-coroner/blob
EOF
# Many small packages (subpackages of one spec): enough keys for the BerkeleyDB hash to split
# into several buckets.
{
  printf 'Name: many-coroner\nVersion: 1\nRelease: 1\nSummary: filler\nLicense: MIT\n'
  printf 'BuildArch: noarch\n%%description\nfiller\n%%install\nmkdir -p %%{buildroot}/usr/share/many\n'
  for i in $(seq 1 40); do printf 'echo %s >%%{buildroot}/usr/share/many/f%s\n' "$i" "$i"; done
  for i in $(seq 1 40); do
    printf '%%package -n many-coroner-%s\nSummary: filler %s\n%%description -n many-coroner-%s\nfiller\n' "$i" "$i" "$i"
    printf '%%files -n many-coroner-%s\n/usr/share/many/f%s\n' "$i" "$i"
  done
} >"$TOP/SPECS/many-coroner.spec"
for spec in hello-coroner epoch-coroner many-coroner; do
  rpmbuild --quiet --define "_topdir $TOP" --define '_build_id_links none' \
    -bb "$TOP/SPECS/$spec.spec" >"$TMP/rpmbuild.log" 2>&1 || { cat "$TMP/rpmbuild.log" >&2; die "rpmbuild $spec"; }
done

ROOT=$TMP/root
RPM=(rpm --root "$ROOT" --dbpath /var/lib/rpm --define '_db_backend sqlite')
mkdir -p "$ROOT/etc"
# The root's own users: rpm -V compares owners by name through them (coroner too).
printf 'root:x:0:0:root:/root:/bin/sh\ncoroner:x:4242:4242::/:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\ncoroner:x:4242:\n' >"$ROOT/etc/group"
"${RPM[@]}" --initdb
"${RPM[@]}" -i --nodeps "$TOP"/RPMS/noarch/*.rpm 2>"$TMP/rpm-i.err" || { cat "$TMP/rpm-i.err" >&2; die "rpm -i"; }
[ -s "$ROOT/var/lib/rpm/rpmdb.sqlite" ] || die "rpm did not write $ROOT/var/lib/rpm/rpmdb.sqlite"
[ ! -e "$ROOT/var/lib/rpm/Packages" ] || die "rpm wrote a BerkeleyDB Packages, not sqlite"
log "rpm installed $("${RPM[@]}" -qa | wc -l) packages into $ROOT (sqlite rpmdb)"
FAIL=0

# Inventory: rpm -qa (name, [epoch:]version-release, arch) == coroner packages --json.
inventory() {  # REF OUT
  "$CORONER" packages "$1" --json | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["manager"] == "rpm": print(p["name"], p["version"], p["arch"], p["source"], p["installed_size"])
' | LC_ALL=C sort >"$2"
}
"${RPM[@]}" -qa --qf '%{NAME} %|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM} %{SIZE}\n' |
  sed -E 's/ ([^ ]+)-[^- ]+-[^- ]+\.src\.rpm / \1 /' | LC_ALL=C sort >"$TMP/rpm-qa.txt"
inventory "rootfs:$ROOT" "$TMP/inv.txt"
if cmp -s "$TMP/rpm-qa.txt" "$TMP/inv.txt"; then
  log "inventory: $(wc -l <"$TMP/inv.txt") packages, same as rpm -qa"
else
  log "inventory DIFFERS (< rpm -qa, > coroner):"; diff "$TMP/rpm-qa.txt" "$TMP/inv.txt" >&2 || true
  FAIL=1
fi

# The changes.
R=$ROOT
echo "greeting=hello" >>"$R/etc/hello-coroner.conf"     # S.5....T.  c
rm "$R/usr/share/hello-coroner/data"                   # missing
chmod 700 "$R/usr/bin/hello-coroner"                    # .M.......
ln -sfn /bin/true "$R/usr/bin/hello-link"               # ....L....
touch -d '2001-02-03 04:05:06' "$R/usr/share/hello-coroner/keep"  # .......T.
printf 'x' >>"$R/usr/lib/epoch-coroner/blob"            # S.5....T.
echo more >"$R/usr/share/hello-coroner/more"            # same content, new mtime: .......T.
chown 4242 "$R/usr/share/hello-coroner/chowned"         # .....U...
chgrp 4242 "$R/usr/share/hello-coroner/chgrped"         # ......G..
rm "$R/dev/hello-coroner-null"; mknod -m 0666 "$R/dev/hello-coroner-null" c 1 5  # ...D.....
setcap cap_net_admin=ep "$R/usr/bin/hello-caps"         # ........P
getcap "$R/usr/bin/hello-caps-kept" | grep -q cap_net_raw || die "rpm did not set %caps (no xattr support?)"

"${RPM[@]}" -V --nodeps -a >"$TMP/rpm-V.txt" 2>"$TMP/rpm-V.err" || true
[ -s "$TMP/rpm-V.err" ] && { cat "$TMP/rpm-V.err" >&2; die "rpm -V wrote errors"; }
compare() {  # NAME FILE
  LC_ALL=C sort "$TMP/rpm-V.txt" >"$TMP/rpm-V.sorted"
  LC_ALL=C sort "$2" >"$2.sorted"
  if cmp -s "$TMP/rpm-V.sorted" "$2.sorted"; then
    log "$1: identical to rpm -V ($(wc -l <"$2") lines)"
  else
    log "$1: DIFFERS from rpm -V (< rpm, > coroner):"; diff "$TMP/rpm-V.sorted" "$2.sorted" >&2 || true
    FAIL=1
  fi
}
# Another database format for the same packages, in ROOT: coroner's inventory equals rpm -qa of
# the sqlite root, and packages --verify equals its rpm -V on ROOT and on a tar of it; the audit
# of the tar goes to $TMP/KEY-audit.json.
same_as_sqlite_root() {  # NAME KEY ROOT
  local name=$1 key=$2 root=$3
  inventory "rootfs:$root" "$TMP/inv-$key.txt"
  if cmp -s "$TMP/rpm-qa.txt" "$TMP/inv-$key.txt"; then
    log "$name: coroner packages lists the same $(wc -l <"$TMP/inv-$key.txt") packages as rpm -qa"
  else
    log "$name: coroner packages DIFFERS (< rpm -qa, > coroner):"
    diff "$TMP/rpm-qa.txt" "$TMP/inv-$key.txt" >&2 || true; FAIL=1
  fi
  "$CORONER" packages "rootfs:$root" --verify >"$TMP/$key-verify.txt" 2>"$TMP/$key-verify.err" ||
    true
  cat "$TMP/$key-verify.err" >&2
  compare "$name rootfs" "$TMP/$key-verify.txt"
  tar --xattrs --xattrs-include='*' -C "$root" -cf "$TMP/$key.tar" .
  "$CORONER" packages "tar:$TMP/$key.tar" --verify >"$TMP/$key-tar.txt" 2>/dev/null || true
  compare "$name tar" "$TMP/$key-tar.txt"
  "$CORONER" audit "tar:$TMP/$key.tar" --format json --fail-on never >"$TMP/$key-audit.json"
}
"$CORONER" packages "rootfs:$ROOT" --verify >"$TMP/rootfs.txt" 2>"$TMP/rootfs.err" || true
cat "$TMP/rootfs.err" >&2
compare rootfs "$TMP/rootfs.txt"
tar --xattrs --xattrs-include='*' -C "$ROOT" -cf "$TMP/changed.tar" .
"$CORONER" packages "tar:$TMP/changed.tar" --verify >"$TMP/tar.txt" 2>/dev/null || true
compare tar "$TMP/tar.txt"
cat "$TMP/rpm-V.txt" >&2

# With dnf's config in the layer ahead of usr/ (tar --sort=name: image layers are in name
# order), the scan's pass already takes rpm's sha256 of each package file (pkg::DigestHint), so
# verify reads none of them a second time; the result is rpm -V's all the same.
mkdir -p "$ROOT/etc/dnf"
printf '[main]\ngpgcheck=1\n' >"$ROOT/etc/dnf/dnf.conf"
tar --sort=name --xattrs --xattrs-include='*' -C "$ROOT" -cf "$TMP/dnf.tar" .
"$CORONER" packages "tar:$TMP/dnf.tar" --verify >"$TMP/dnf.txt" 2>"$TMP/dnf.err" || true
compare "tar with etc/dnf" "$TMP/dnf.txt"
if grep -q ", 0 files hashed (0 bytes)" "$TMP/dnf.err"; then
  log "tar with etc/dnf: no package file read twice ($(grep -o '[0-9]* paths checked' "$TMP/dnf.err"))"
else
  cat "$TMP/dnf.err" >&2; log "tar with etc/dnf: verify read package files again"; FAIL=1
fi
grep -o "[0-9]* files hashed ([0-9]* bytes)" "$TMP/rootfs.err" | sed 's/^/  without the hint (rootfs:): /' >&2

# The audit names the changed files, by rule, with their package.
"$CORONER" audit "tar:$TMP/changed.tar" --format json --fail-on never >"$TMP/audit.json"
python3 - "$TMP/audit.json" <<'PY' || FAIL=1
import json, sys
got = {(f["rule"], f["path"]): f for f in json.load(open(sys.argv[1]))["findings"]}
want = [("package-file-missing", "/usr/share/hello-coroner/data", "hello-coroner"),
        ("package-file-modified", "/usr/bin/hello-coroner", "hello-coroner"),
        ("package-file-modified", "/usr/bin/hello-link", "hello-coroner"),
        ("package-file-modified", "/usr/lib/epoch-coroner/blob", "epoch-coroner"),
        ("conffile-modified", "/etc/hello-coroner.conf", "hello-coroner")]
bad = 0
for rule, path, pkg in want:
    f = got.get((rule, path))
    if not f or pkg not in f["message"] or "(rpm)" not in f["message"]:
        print(f"audit: no {rule} for {path} ({pkg}): {f}", file=sys.stderr); bad = 1
print(f"audit: {len(want) - bad if not bad else 'MISSING'} expected rpm findings present")
sys.exit(bad)
PY

# Fedora layout: the database in /usr/lib/sysimage/rpm, /var/lib/rpm a symlink to it.
FED=$TMP/fedora
cp -a "$ROOT" "$FED"
mkdir -p "$FED/usr/lib/sysimage"
mv "$FED/var/lib/rpm" "$FED/usr/lib/sysimage/rpm"
ln -s ../../usr/lib/sysimage/rpm "$FED/var/lib/rpm"
inventory "rootfs:$FED" "$TMP/inv-fedora.txt"
if cmp -s "$TMP/rpm-qa.txt" "$TMP/inv-fedora.txt"; then
  log "fedora layout: same packages"
else
  diff "$TMP/rpm-qa.txt" "$TMP/inv-fedora.txt" >&2 || true; FAIL=1
fi

# The BerkeleyDB rpmdb of CentOS/RHEL 7 and 8: the same headers (from the sqlite Packages table)
# written by Berkeley DB's own db5.3_load (db_dump's bytevalue format: key = the header number,
# 4 bytes little-endian as rpm on x86 writes it; value = the header blob) into a hash database
# with 512-byte pages, so that the headers go to overflow pages and the keys to several buckets.
BDB=$TMP/bdb
cp -a "$ROOT" "$BDB"
rm -rf "$BDB/var/lib/rpm"
mkdir -p "$BDB/var/lib/rpm"
python3 - "$ROOT/var/lib/rpm/rpmdb.sqlite" >"$TMP/packages.dump" <<'PY'
import sqlite3, struct, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print("VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize=512\nh_ffactor=4\nHEADER=END")
for hnum, blob in db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum"):
    print(" " + struct.pack("<I", hnum).hex())
    print(" " + bytes(blob).hex())
print("DATA=END")
PY
db5.3_load -f "$TMP/packages.dump" "$BDB/var/lib/rpm/Packages"
db5.3_stat -d "$BDB/var/lib/rpm/Packages" >"$TMP/bdb-stat.txt"
grep -E "Number of (keys|hash buckets|big pages|overflow pages|bucket overflow pages)|Underlying database page size" \
  "$TMP/bdb-stat.txt" | sed 's/^/  db5.3_stat: /' >&2
BDBRPM=(rpm --root "$BDB" --dbpath /var/lib/rpm --define '_db_backend bdb_ro')
"${BDBRPM[@]}" -qa --qf '%{NAME} %|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE} %{ARCH} %{SOURCERPM} %{SIZE}\n' 2>"$TMP/bdb-qa.err" |
  sed -E 's/ ([^ ]+)-[^- ]+-[^- ]+\.src\.rpm / \1 /' | LC_ALL=C sort >"$TMP/bdb-rpm-qa.txt"
if cmp -s "$TMP/rpm-qa.txt" "$TMP/bdb-rpm-qa.txt"; then
  log "BerkeleyDB: Debian's rpm (bdb_ro) reads the db5.3_load Packages: $(wc -l <"$TMP/bdb-rpm-qa.txt") packages, same as the sqlite root"
else
  log "BerkeleyDB: rpm (bdb_ro) DIFFERS from the sqlite root:"; cat "$TMP/bdb-qa.err" >&2
  diff "$TMP/rpm-qa.txt" "$TMP/bdb-rpm-qa.txt" >&2 || true; FAIL=1
fi
same_as_sqlite_root BerkeleyDB bdb "$BDB"
python3 - "$TMP/bdb-audit.json" <<'PY' || FAIL=1
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
unread = [x for x in f if x["rule"] == "package-db-unread"]
mods = [x for x in f if x["rule"] == "package-file-modified" and "(rpm)" in x["message"]]
print(f"BerkeleyDB audit: {len(unread)} package-db-unread, {len(mods)} rpm package-file-modified")
sys.exit(1 if unread or not mods else 0)
PY
"${BDBRPM[@]}" -V --nodeps -a >"$TMP/bdb-rpm-V.txt" 2>/dev/null || true
if cmp -s <(LC_ALL=C sort "$TMP/rpm-V.txt") <(LC_ALL=C sort "$TMP/bdb-rpm-V.txt"); then
  log "BerkeleyDB: rpm -V (bdb_ro) prints the same as on the sqlite root"
else
  diff <(LC_ALL=C sort "$TMP/rpm-V.txt") <(LC_ALL=C sort "$TMP/bdb-rpm-V.txt") >&2 || true; FAIL=1
fi

# SUSE's ndb Packages.db: the same headers written by rpm's own ndb code. Debian builds rpm
# without its ndb backend, so lib/backend/ndb/rpmpkg.c is taken from the source of the very rpm
# installed here (Debian's orig tarball, checked against its sha256 from the archive's Sources
# index, cached like the base tars) and compiled with ndb/ndb_put.c and a shim for rpm's logging
# and allocation. ndb_put puts 300 decoys (two slot pages, moved blobs), deletes half of them,
# puts the real headers (into the holes that fit), then deletes the other decoys: free slots,
# holes, and blobs out of package order. coroner must list and verify what rpm -qa and rpm -V
# give for the sqlite root, and its audit must not call the database unread.
RPM_ORIG=rpm_4.18.0+dfsg.orig.tar.xz
RPM_ORIG_SHA256=d0d9c58c036bc6308de6e195e898c10bf53eaef6f962c48b403e7cd262f4eb4d
fetch_rpm_orig() {
  local out=$CORONER_CACHE/src/$RPM_ORIG try
  mkdir -p "$CORONER_CACHE/src"
  if ! echo "$RPM_ORIG_SHA256  $out" | sha256sum -c --quiet 2>/dev/null; then
    for try in 1 2; do
      log "fetching $RPM_ORIG (try $try) from ${CORONER_MIRROR:-http://deb.debian.org/debian}"
      curl -fsS --retry 2 -o "$out.tmp.$$" \
        "${CORONER_MIRROR:-http://deb.debian.org/debian}/pool/main/r/rpm/$RPM_ORIG" || continue
      if echo "$RPM_ORIG_SHA256  $out.tmp.$$" | sha256sum -c --quiet; then
        mv "$out.tmp.$$" "$out"
        break
      fi
    done
    rm -f "$out.tmp.$$"
  fi
  echo "$RPM_ORIG_SHA256  $out" | sha256sum -c --quiet || die "cannot fetch $RPM_ORIG"
  tar -xJf "$out" -C "$TMP" rpm-4.18.0/lib/backend/ndb
}
with_lock "$CORONER_CACHE/.rpm-src.lock" fetch_rpm_orig
NDBSRC=$TMP/rpm-4.18.0/lib/backend/ndb
gcc -std=gnu11 -O1 -I "$HERE/ndb/shim" -I "$NDBSRC" -o "$TMP/ndb_put" "$HERE/ndb/ndb_put.c" \
  "$NDBSRC/rpmpkg.c"
NDB=$TMP/ndb
cp -a "$ROOT" "$NDB"
rm -rf "$NDB/var/lib/rpm"
mkdir -p "$NDB/usr/lib/sysimage/rpm" "$TMP/blobs"
ln -s ../../usr/lib/sysimage/rpm "$NDB/var/lib/rpm"
python3 - "$ROOT/var/lib/rpm/rpmdb.sqlite" "$TMP/blobs" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
for hnum, blob in db.execute("SELECT hnum, blob FROM Packages ORDER BY hnum"):
    open(f"{sys.argv[2]}/{hnum:05d}", "wb").write(blob)
PY
"$TMP/ndb_put" "$NDB/usr/lib/sysimage/rpm/Packages.db" 300 "$TMP/blobs"/* >"$TMP/ndb-list.txt"
log "ndb: rpmpkg.c wrote $(($(wc -l <"$TMP/ndb-list.txt") - 1)) packages, $(head -1 "$TMP/ndb-list.txt"), $(stat -c %s "$NDB/usr/lib/sysimage/rpm/Packages.db") bytes"
if [ "$(head -1 "$TMP/ndb-list.txt")" = "slot pages: 1" ]; then
  log "ndb: the decoys did not grow the slot pages"; FAIL=1
fi
if tail -n +2 "$TMP/ndb-list.txt" | sort -n -C; then
  log "ndb: the blobs are in package order: the holes were not used"; FAIL=1
fi
same_as_sqlite_root ndb ndb "$NDB"
# The same Packages.db cut short: a note, and the audit names it unread.
truncate -s 100 "$NDB/usr/lib/sysimage/rpm/Packages.db"
"$CORONER" audit "rootfs:$NDB" --format json --fail-on never >"$TMP/ndb-cut-audit.json" 2>/dev/null
python3 - "$TMP/ndb-audit.json" "$TMP/ndb-cut-audit.json" <<'PY' || FAIL=1
import json, sys
f = json.load(open(sys.argv[1]))["findings"]
unread = [x for x in f if x["rule"] == "package-db-unread"]
mods = [x for x in f if x["rule"] == "package-file-modified" and "(rpm)" in x["message"]]
print(f"ndb audit: {len(unread)} package-db-unread, {len(mods)} rpm package-file-modified")
cut = [x for x in json.load(open(sys.argv[2]))["findings"] if x["rule"] == "package-db-unread"]
print(f"ndb audit of a Packages.db cut to 100 bytes: {[(x['path'], x['message']) for x in cut]}")
ok = (not unread and mods and len(cut) == 1 and cut[0]["path"] == "/usr/lib/sysimage/rpm/Packages.db"
      and "slot pages of 4096 bytes, the file has 100 bytes" in cut[0]["message"])
sys.exit(0 if ok else 1)
PY

# A Packages that is no Berkeley DB hash database is a note, not a crash.
OLD=$TMP/old
mkdir -p "$OLD/var/lib/rpm"
printf '\0\0\0\0\x61\x15\x06\0' >"$OLD/var/lib/rpm/Packages"  # hash db magic, nothing else
"$CORONER" packages "rootfs:$OLD" >/dev/null 2>"$TMP/old.err" || true
if grep -q '/var/lib/rpm/Packages: rpmdb Packages (BerkeleyDB): metadata page: 8 bytes' "$TMP/old.err"; then
  log "BerkeleyDB: a broken Packages is a note: $(grep -o 'rpmdb Packages.*' "$TMP/old.err" | head -1)"
else
  cat "$TMP/old.err" >&2; FAIL=1
fi
exit $FAIL
