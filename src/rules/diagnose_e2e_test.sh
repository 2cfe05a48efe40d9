#!/usr/bin/env bash
# End-to-end check of `coroner diagnose` on the bundled, daemon-free example image
# (examples/make-example.sh: /app/entry.sh saved with CRLF line endings). The verdict must be
# shebang-crlf with the text Docker prints, blamed on layer 1 (COPY app/ /app/), in text and
# JSON, for the docker-archive and the OCI layout, and the exit status must be 1.
# Usage: diagnose_e2e_test.sh CORONER SOURCE_DIR   (exit 77: a tool is missing, skipped)
set -euo pipefail
coroner=${1:?usage: diagnose_e2e_test.sh CORONER SOURCE_DIR}
src=${2:?usage: diagnose_e2e_test.sh CORONER SOURCE_DIR}
for tool in umoci skopeo python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool missing"; exit 77; }
done
[ -x "${BUSYBOX:-/bin/busybox}" ] || { echo "SKIP: busybox-static missing"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$src/examples/make-example.sh" "$out" >/dev/null

want='The container will not start: Docker prints "exec /app/entry.sh: no such file or directory" (exit code 1) [shebang-crlf].'
for ref in "docker-archive:$out/demo.tar" "oci:$out/demo-oci:demo"; do
  set +e
  text=$("$coroner" diagnose "$ref")
  rc=$?
  json=$("$coroner" diagnose --format json "$ref")
  set -e
  [ "$rc" -eq 1 ] || fail "$ref: exit $rc, want 1"
  [ "$(printf '%s\n' "$text" | head -1)" = "$want" ] || fail "$ref: first line: $(printf '%s\n' "$text" | head -1)"
  printf '%s\n' "$text" | sed -n 2p | grep -qF '/app/entry.sh → /bin/sh\r → ' ||
    fail "$ref: chain line: $(printf '%s\n' "$text" | sed -n 2p)"
  printf '%s\n' "$text" | sed -n 2p | grep -qF 'added in layer 1 (COPY app/ /app/)' ||
    fail "$ref: layer attribution missing"
  printf '%s' "$json" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == "coroner/diagnosis/v1", d["schema"]
v = d["verdict"]
assert v["starts"] is False and v["reason"] == "shebang-crlf", v
assert v["predicted_error"] == "exec /app/entry.sh: no such file or directory", v
assert v["exec_chain"] == ["/app/entry.sh", "/bin/sh\r"], v["exec_chain"]
f = [x for x in d["findings"] if x["rule"] == "shebang-crlf"][0]
assert f["severity"] == "error" and f["path"] == "/app/entry.sh", f
assert f["layer_index"] == 1 and f["created_by"] == "COPY app/ /app/", f
assert f["layer_digest"].startswith("sha256:"), f
assert d["image"]["entrypoint"] == ["/app/entry.sh"] and d["image"]["user"] == "app", d["image"]
' || fail "$ref: JSON"
done

# A `docker run` override that fixes it: run the shell directly.
"$coroner" diagnose "docker-archive:$out/demo.tar" --entrypoint /bin/sh -- -c 'exec env' \
  >/dev/null || fail "override: exit $?"
# Bad usage is exit 2.
set +e
"$coroner" diagnose "docker-archive:$out/demo.tar" --runtime nomad >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad --runtime: exit $rc, want 2"
echo "diagnose e2e: ok"
