#!/usr/bin/env bash
# End-to-end checks of `coroner diagnose` reports on four daemon-free fixture images
# (examples/make-example.sh: CRLF entrypoint; make-fixtures.sh: healthy, warn, ghost):
#  1. golden reports: text and JSON, normalised (no time, digests and refs masked), must match
#     tests/report/golden/<image>.{txt,json} exactly (UPDATE_GOLDEN=1 rewrites them);
#  2. every JSON report validates against docs/schema/diagnosis-v1.schema.json and every SARIF
#     report against the official SARIF 2.1.0 schema (sarif-2.1.0-rtm.5.json from the npm
#     package @microsoft/jest-sarif, fetched with `npm pack` into $CORONER_CACHE/sarif once);
#  3. exit codes for each --fail-on level (and 2 for a bad level);
#  4. --quiet prints the first line of the text report alone; -o writes the file.
# Usage: report_e2e_test.sh CORONER SOURCE_DIR [OUT_DIR]   (exit 77: a tool is missing)
# OUT_DIR keeps the reports (the HTML test reads OUT_DIR/*.html).
set -euo pipefail
coroner=${1:?usage: report_e2e_test.sh CORONER SOURCE_DIR [OUT_DIR]}
src=${2:?usage}
for tool in umoci skopeo; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
[ -x "${BUSYBOX:-/bin/busybox}" ] || { echo "SKIP: busybox-static missing"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" -c 'import jsonschema' 2>/dev/null || { echo "SKIP: python3-jsonschema missing"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${3:-$work/reports}
mkdir -p "$out"
fail() { echo "FAIL: $*" >&2; exit 1; }

# The SARIF schema: from the npm registry once, then from the cache.
cache=${CORONER_CACHE:-/var/cache/coroner-tests}/sarif
sarif_schema=$cache/sarif-2.1.0-rtm.5.json
if [ ! -s "$sarif_schema" ]; then
  command -v npm >/dev/null || fail "npm missing and $sarif_schema not cached"
  mkdir -p "$cache" "$work/npm"
  (cd "$work/npm" && npm pack --silent @microsoft/jest-sarif >/dev/null) ||
    fail "npm pack @microsoft/jest-sarif failed"
  tar -xzf "$work"/npm/*.tgz -C "$work/npm" package/lib/schemas/sarif-2.1.0-rtm.5.json
  mv "$work/npm/package/lib/schemas/sarif-2.1.0-rtm.5.json" "$sarif_schema"
fi
grep -q '"Static Analysis Results Format (SARIF) Version 2.1.0-rtm.5 JSON Schema"' \
  "$sarif_schema" || fail "$sarif_schema is not the SARIF 2.1.0-rtm.5 schema"

bash "$src/examples/make-example.sh" "$work/img" >/dev/null
bash "$src/tests/report/make-fixtures.sh" "$work/img" >/dev/null
cp "$work/img/demo.tar" "$work/img/crlf.tar"
images=(crlf healthy warn ghost)
# Exit code per image for --fail-on error, warning, never.
declare -A want=([crlf]="1 1 0" [healthy]="0 0 0" [warn]="0 1 0" [ghost]="1 1 0")

run() {  # run NAME ARGS... → stdout of coroner; sets rc
  set +e
  "$coroner" diagnose "$@"
  rc=$?
  set -e
}

# Masks what changes between builds of the same fixture: digests, the temp path, the time.
normalise_json() {
  "$py" -c '
import json, re, sys
d = json.load(sys.stdin)
assert d["stats"]["bytes"] > 0, d["stats"]
d["stats"]["seconds"] = 0
d["stats"]["bytes"] = 0  # the size of Debian busybox-static changes with its version
d["image"]["ref"] = re.sub(r".*/", "", d["image"]["ref"])
d["image"]["digest"] = "sha256:…" if d["image"]["digest"] else ""
for f in d["findings"]:
    f["layer_digest"] = "sha256:…" if f["layer_digest"] else ""
print(json.dumps(d, indent=2, ensure_ascii=False, sort_keys=False))'
}

for name in "${images[@]}"; do
  img="docker-archive:$work/img/$name.tar"
  run "$img" --format json >"$out/$name.json"
  run "$img" --format sarif -o "$out/$name.sarif"
  [ -s "$out/$name.sarif" ] || fail "$name: -o wrote nothing"
  run "$img" --format html -o "$out/$name.html"
  # More reports for the schema checks: other runtimes and overrides.
  run "$img" --format json --runtime kubernetes >"$out/$name-k8s.json"
  run "$img" --format sarif --runtime kubernetes >"$out/$name-k8s.sarif"
  run "$img" --format json --user 1000:1000 --entrypoint /bin/nope >"$out/$name-nope.json"
  run "$img" --format sarif --user 1000:1000 --entrypoint /bin/nope >"$out/$name-nope.sarif"
  run "$img" --format json --workdir /etc/passwd >"$out/$name-wd.json"

  # Golden text and JSON.
  text=$(run "$img"; echo "rc=$rc")
  text=$(printf '%s\n' "$text" | sed "s|$work/img/||g")
  json=$(normalise_json <"$out/$name.json")
  golden="$src/tests/report/golden"
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then
    mkdir -p "$golden"
    printf '%s\n' "$text" >"$golden/$name.txt"
    printf '%s\n' "$json" >"$golden/$name.json"
  fi
  diff -u "$golden/$name.txt" <(printf '%s\n' "$text") || fail "$name: text differs from golden"
  diff -u "$golden/$name.json" <(printf '%s\n' "$json") || fail "$name: JSON differs from golden"

  # --fail-on levels.
  read -r e w n <<<"${want[$name]}"
  run "$img" --fail-on error >/dev/null
  [ "$rc" -eq "$e" ] || fail "$name: --fail-on error: exit $rc, want $e"
  run "$img" --fail-on warning >/dev/null
  [ "$rc" -eq "$w" ] || fail "$name: --fail-on warning: exit $rc, want $w"
  run "$img" --fail-on never >/dev/null
  [ "$rc" -eq "$n" ] || fail "$name: --fail-on never: exit $rc, want $n"
  run "$img" >/dev/null
  [ "$rc" -eq "$e" ] || fail "$name: default --fail-on: exit $rc, want $e (error)"
  run "$img" --fail-on sometimes >/dev/null 2>&1
  [ "$rc" -eq 2 ] || fail "$name: --fail-on sometimes: exit $rc, want 2"
  echo "$name: --fail-on error/warning/never → $e/$w/$n ok"

  # --quiet: the verdict line alone.
  q=$(run "$img" -q)
  [ "$q" = "$(printf '%s\n' "$text" | head -1)" ] || fail "$name: --quiet: $q"
done

# On a terminal (script(1) gives the command a pty): colour unless NO_COLOR, progress on stderr.
if command -v script >/dev/null; then
  img="docker-archive:$work/img/warn.tar"
  tty_out=$(script -qc "'$coroner' diagnose -q '$img' 2>/dev/null" /dev/null)
  [[ "$tty_out" == *$'\e[1;32mThe container starts'* ]] || fail "no colour on a tty: $tty_out"
  tty_out=$(NO_COLOR=1 script -qc "'$coroner' diagnose -q '$img' 2>/dev/null" /dev/null)
  [[ "$tty_out" != *$'\e['* ]] || fail "colour despite NO_COLOR: $tty_out"
  tty_err=$(script -qc "'$coroner' diagnose -q '$img' >/dev/null" /dev/null)
  [[ "$tty_err" == *"layers "[0-2]"/2  "*" of "*"/s"* ]] || fail "no progress on a tty stderr: $tty_err"
  [[ "$tty_err" == *$'\r\e[K' ]] || fail "progress line not erased: $tty_err"
  err=$("$coroner" diagnose -q "$img" 2>&1 >/dev/null)
  [ -z "$err" ] || fail "progress or noise on a non-tty stderr: $err"
  echo "tty: colour, NO_COLOR, progress ok"
fi

"$py" "$src/tests/report/validate.py" "$src/docs/schema/diagnosis-v1.schema.json" "$out"/*.json ||
  fail "JSON reports do not match docs/schema/diagnosis-v1.schema.json"
"$py" "$src/tests/report/validate.py" "$sarif_schema" "$out"/*.sarif ||
  fail "SARIF reports do not match the SARIF 2.1.0 schema"
echo "report e2e: ok ($(ls "$out"/*.json | wc -l) JSON, $(ls "$out"/*.sarif | wc -l) SARIF reports validated)"
