#!/usr/bin/env bash
# Opens the HTML reports of report_e2e_test.sh (REPORT_DIR/*.html) in real headless Chromium
# (Debian's chromium) over file:// and checks, after the page's JavaScript ran:
#  - the verdict and the findings are rendered (the DOM as Chromium dumps it);
#  - the treemap drew boxes (div.tm-box elements exist only once the script ran);
#  - no request left the page: Chromium's NetLog (--log-net-log) records every URL request with
#    its network isolation key; a request made by a file:// page carries "file://" there, the
#    browser's own background traffic (component updater, time sync) carries none. A control page
#    with an <img> and a fetch() to 127.0.0.1:9 must show exactly those two requests, so the
#    check is known to see page requests; each report must show none;
#  - no Content-Security-Policy violation was logged (the page never even tried).
# Usage: html_chromium_test.sh REPORT_DIR   (exit 77: chromium missing)
set -euo pipefail
dir=${1:?usage: html_chromium_test.sh REPORT_DIR}
chromium=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chromium" ] || { echo "SKIP: chromium missing (apt-get install chromium)"; exit 77; }
py=/usr/bin/python3
[ -x "$py" ] || py=python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# load FILE TAG: dumps the DOM to $work/TAG.dom, the NetLog to $work/TAG.net, stderr to .log
load() {
  mkdir -p "$work/profile-$2"
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile-$2" --enable-logging=stderr --v=0 \
    --log-net-log="$work/$2.net" --window-size=1200,1600 \
    --dump-dom "file://$1" >"$work/$2.dom" 2>"$work/$2.log" || fail "$1: chromium exit $?"
}

# page_requests NETLOG: the URLs of requests a file:// page started, one per line.
page_requests() {
  "$py" - "$1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
names = {v: k for k, v in d["constants"]["logEventTypes"].items()}
for e in d["events"]:
    if names.get(e["type"]) != "URL_REQUEST_START_JOB":
        continue
    p = e.get("params", {})
    if "file://" in p.get("network_isolation_key", "") or p.get("initiator") not in (None, "not an origin"):
        print(p.get("url"))
PY
}

# The control: the detector must see what a leaky page does.
cat >"$work/control.html" <<'HTML'
<!DOCTYPE html><html><body><p>control</p><img src="http://127.0.0.1:9/probe.png">
<script>fetch("http://127.0.0.1:9/probe2").catch(function(){});</script></body></html>
HTML
load "$work/control.html" control
n=$(page_requests "$work/control.net" | grep -c '127.0.0.1:9' || true)
[ "$n" -eq 2 ] || fail "control page: $n requests seen in the NetLog, want 2 (detector broken?)"

count=0
for html in "$dir"/*.html; do
  name=$(basename "$html" .html)
  load "$html" "$name"
  dom="$work/$name.dom"
  grep -q 'id="verdict"' "$dom" || fail "$name: no verdict section"
  grep -Eq '<h2>The container (starts|will not start)</h2>' "$dom" || fail "$name: no verdict text"
  boxes=$(grep -o 'class="tm-box' "$dom" | wc -l)
  [ "$boxes" -gt 0 ] || fail "$name: the treemap drew nothing (did the script run?)"
  leaks=$(page_requests "$work/$name.net")
  [ -z "$leaks" ] || fail "$name: the page made requests: $leaks"
  ! grep -q 'Content Security Policy' "$work/$name.log" ||
    fail "$name: CSP violation: $(grep 'Content Security Policy' "$work/$name.log" | head -1)"
  case $name in
    crlf)
      grep -q 'The container will not start' "$dom" || fail "crlf: verdict"
      grep -q 'exec /app/entry.sh: no such file or directory' "$dom" || fail "crlf: error text"
      grep -q '<tr class="finding"><td class="sev sev-error">error</td><td><code>shebang-crlf' \
        "$dom" || fail "crlf: the shebang-crlf finding row"
      grep -q 'COPY app/ /app/' "$dom" || fail "crlf: layer step"
      [ "$(grep -o '<tr class="layer">' "$dom" | wc -l)" -eq 3 ] || fail "crlf: 3 layer rows" ;;
    warn)
      grep -q '<code>stale-pid-file</code>' "$dom" || fail "warn: stale-pid-file row" ;;
    healthy)
      grep -q '<h2>The container starts</h2>' "$dom" || fail "healthy: verdict" ;;
  esac
  echo "$name: verdict, findings, $boxes treemap boxes, 0 requests"
  count=$((count + 1))
done
[ "$count" -ge 1 ] || fail "no HTML reports in $dir"
echo "html chromium: ok ($count pages)"
