#!/usr/bin/env bash
# coroner's BerkeleyDB rpmdb reader on real databases: the ten `Packages` files that Debian's
# golang-github-knqyf263-go-rpmdb-dev ships as test data (written by the rpm of CentOS 5, 6, 7
# and 8 images: 5-33 MB, 110-518 packages, hash versions 8 and 9). For each, in a root with
# nothing but /var/lib/rpm/Packages (so every file is missing): `coroner packages` lists what
# Debian's rpm (bdb_ro backend) lists with -qa, and `coroner packages --verify` prints what
# `rpm -V -a` prints, line for line (every file's path, and its %doc/%config/%ghost/noreplace/
# artifact marker). The largest is read from a tar: too (a capture over 16 MiB), and its
# CycloneDX SBOM validates against the official CycloneDX 1.5 schema, its SPDX one defines every
# LicenseRef it uses.
# Usage: rpm_real_db_test.sh CORONER_BINARY   (root; exit 77 without rpm; downloads the Debian
# package once from this machine's apt archive into $CORONER_CACHE)
set -euo pipefail
CORONER=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
if ! command -v rpm >/dev/null; then
  echo "rpm missing (apt-get install rpm): skipped" >&2
  exit 77
fi
# Unpacked into the cache (lib/common.sh debian_data), not installed.
debian_data golang-github-knqyf263-go-rpmdb-dev
DATA=$DEB_ROOT/usr/share/gocode/src/github.com/knqyf263/go-rpmdb/pkg/testdata
compgen -G "$DATA/*/Packages" >/dev/null || die "$DATA: no Packages in the package"
make_tmpdir
TMP=$TMP_DIR
FAIL=0
same() {  # WHAT WANT GOT
  if cmp -s "$2" "$3"; then
    log "$1: identical ($(wc -l <"$2") lines)"
  else
    log "$1: DIFFERS (< rpm, > coroner):"; diff "$2" "$3" | head -20 >&2 || true; FAIL=1
  fi
}
largest=$(ls -S "$DATA"/*/Packages | head -1)
for db in "$DATA"/*/Packages; do
  name=$(basename "$(dirname "$db")")
  root=$TMP/$name
  mkdir -p "$root/var/lib/rpm"
  cp "$db" "$root/var/lib/rpm/Packages"
  RPM=(rpm --root "$root" --dbpath /var/lib/rpm --define '_db_backend bdb_ro')
  # rpm prints "(none)" for the arch of gpg-pubkey pseudo-packages; coroner leaves it empty.
  "${RPM[@]}" -qa --qf '%{NAME} %|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE} %{ARCH}\n' 2>/dev/null |
    sed 's/ (none)$/ /' | LC_ALL=C sort >"$TMP/$name.qa"
  "$CORONER" packages "rootfs:$root" --json 2>"$TMP/$name.err" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]: print(p["name"], p["version"], p["arch"])' |
    LC_ALL=C sort >"$TMP/$name.inv"
  cat "$TMP/$name.err" >&2
  same "$name ($(stat -c %s "$db") bytes): packages vs rpm -qa" "$TMP/$name.qa" "$TMP/$name.inv"
  "${RPM[@]}" -V -a --nodeps 2>/dev/null | LC_ALL=C sort >"$TMP/$name.V" || true
  "$CORONER" packages "rootfs:$root" --verify 2>/dev/null | LC_ALL=C sort >"$TMP/$name.cV" || true
  same "$name: packages --verify vs rpm -V -a" "$TMP/$name.V" "$TMP/$name.cV"
  if [ "$db" = "$largest" ]; then
    tar -C "$root" -cf "$TMP/$name.tar" .
    "$CORONER" packages "tar:$TMP/$name.tar" --verify 2>/dev/null | LC_ALL=C sort >"$TMP/$name.tV" ||
      true
    same "$name from a tar: packages --verify vs rpm -V -a" "$TMP/$name.V" "$TMP/$name.tV"
  fi
  [ ! -s "$TMP/$name.qa" ] && { log "$name: rpm -qa listed nothing"; FAIL=1; }
done
# The SBOMs of the largest root: CycloneDX validates against the official 1.5 schema (from the
# npm package @cyclonedx/cyclonedx-library 6.13.1, fetched once into the cache), and in the SPDX
# 2.3 document every license is an SPDX expression, NOASSERTION, or a LicenseRef- defined in
# hasExtractedLicensingInfos (CentOS's "GPLv2+" is a name, not an expression).
cdx_cache=$CORONER_CACHE/cyclonedx-library-6.13.1
if [ ! -s "$cdx_cache/bom-1.5.SNAPSHOT.schema.json" ]; then
  command -v npm >/dev/null || die "npm missing and $cdx_cache not cached"
  mkdir -p "$TMP/npm" "$cdx_cache"
  (cd "$TMP/npm" && npm pack --silent @cyclonedx/cyclonedx-library@6.13.1 >/dev/null) ||
    die "npm pack @cyclonedx/cyclonedx-library@6.13.1 failed"
  tar -xzf "$TMP"/npm/*.tgz -C "$TMP/npm" package/res/schema
  cp "$TMP"/npm/package/res/schema/{bom-1.5,spdx,jsf-0.82}.SNAPSHOT.schema.json "$cdx_cache/"
fi
name=$(basename "$(dirname "$largest")")
"$CORONER" packages "rootfs:$TMP/$name" --format cyclonedx >"$TMP/cdx.json"
"$CORONER" packages "rootfs:$TMP/$name" --format spdx >"$TMP/spdx.json"
python3 - "$cdx_cache" "$TMP/cdx.json" "$TMP/spdx.json" <<'PY' || FAIL=1
import json, sys, warnings
import jsonschema
warnings.simplefilter("ignore", DeprecationWarning)
d, cdx_path, spdx_path = sys.argv[1:]
store = {}
for f in ["bom-1.5", "spdx", "jsf-0.82"]:
    s = json.load(open(f"{d}/{f}.SNAPSHOT.schema.json"))
    store[s["$id"]] = s
    store[s["$id"].rsplit("/", 1)[1]] = s
bom = store["http://cyclonedx.org/schema/bom-1.5.schema.json"]
validator = jsonschema.Draft7Validator(bom, resolver=jsonschema.RefResolver.from_schema(bom, store=store))
cdx = json.load(open(cdx_path))
errors = list(validator.iter_errors(cdx))
for e in errors[:5]:
    print("CycloneDX:", list(e.path), e.message[:200])
names = sum(1 for c in cdx["components"] for l in c.get("licenses", []) if "license" in l)
exprs = sum(1 for c in cdx["components"] for l in c.get("licenses", []) if "expression" in l)
print(f"CycloneDX 1.5 schema: {len(errors)} errors; {len(cdx['components'])} components, "
      f"{exprs} license expressions, {names} license names")
spdx = json.load(open(spdx_path))
refs = {i["licenseId"] for i in spdx.get("hasExtractedLicensingInfos", [])}
bad = [p["licenseDeclared"] for p in spdx["packages"]
       if p["licenseDeclared"].startswith("LicenseRef-") and p["licenseDeclared"] not in refs]
print(f"SPDX 2.3: {len(spdx['packages'])} packages, {len(refs)} LicenseRefs, {len(bad)} undefined")
sys.exit(1 if errors or bad or not names or not refs else 0)
PY
exit $FAIL
