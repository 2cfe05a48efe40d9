#!/usr/bin/env bash
# docker:// against real registries: Debian's docker-registry (distribution 2.8) on 127.0.0.1,
# filled with skopeo copy from the cached test image `layered` (lib/images.sh). Three registries:
#   open   no auth: a Docker v2 schema 2 image (gzip), a multi-platform OCI index (amd64, arm64
#          and an attestation manifest, made here from the OCI layout), then a damaged blob;
#   zstd   no auth, https: the OCI image with zstd layers (its own registry, because skopeo's
#          blob cache would put the gzip blobs of `open` in its manifest);
#   basic  htpasswd (bcrypt, made with libcrypt's crypt(3)): Basic auth;
#   token  token auth: bearer tokens from tools/token_server.py (RS256 JWTs that the registry
#          verifies against its rootcertbundle), for Basic credentials or an identity token; blob
#          GETs redirected to tools/blob_server.py, an object store that refuses Authorization
#          and drops the first transfer of each large blob halfway (resumed with a range).
# What must hold:
#   - export of each registry image == `docker export` of a created container of the image
#     (treecmp, without the files Docker injects), and `ls -lR` (with the layer of each entry)
#     == that of the docker-archive;
#   - --platform picks from the index (default: the host's), the attestation is skipped, and a
#     missing platform is an error listing those there are; by digest works, the digest is
#     checked;
#   - TLS is verified for a non-loopback registry (in a network namespace), with the CA from
#     /etc/docker/certs.d/HOST/ca.crt, or not with --insecure; a client certificate from there;
#   - credentials come from $DOCKER_CONFIG/config.json (auths, credHelpers); missing or wrong
#     ones, unknown tags, a damaged blob and an unreachable registry give one line and exit 2.
# Usage: registry_test.sh CORONER_BINARY   (root: the image cache may need dockerd to build)
set -euo pipefail
CORONER=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib/common.sh"
source "$HERE/lib/images.sh"
command -v docker-registry >/dev/null || die "docker-registry is missing (scripts/install-deps.sh)"
image_artifacts layered
SAVE=$IMAGE_DIR/save.tar
make_tmpdir
T=$TMP_DIR
FAIL=0
fail() {
  log "FAIL: $*"
  FAIL=1
}
cor() { "$CORONER" "$@"; }
treecmp() { python3 "$HERE/tools/treecmp.py" --quiet "$@"; }

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry NAME [YAML [SCHEME]]: sets PORT_<NAME>; storage under $T/NAME. YAML is added
# at the end of the config: under http: when it is indented (tls:), else at the top level (auth:).
start_registry() {
  local name=$1 auth=${2:-} scheme=${3:-http} port dir pid i
  dir=$T/$name
  mkdir -p "$dir"
  port=$(free_port)
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
http:
  addr: 127.0.0.1:$port
$auth
EOF
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  pid=$!
  cleanup_push "kill $pid 2>/dev/null || true"
  for i in $(seq 1 100); do
    curl -sk -o /dev/null "$scheme://127.0.0.1:$port/v2/" && break
    kill -0 "$pid" 2>/dev/null || {
      cat "$dir/log" >&2
      die "docker-registry $name did not start"
    }
    sleep 0.1
  done
  printf -v "PORT_$name" '%s' "$port"
  log "registry $name on 127.0.0.1:$port"
}

# start_server NAME SCRIPT ARGS... (ARGS include the port file, which is waited for).
start_server() {
  local name=$1 script=$2 pid i port_file=""
  shift 2
  for a in "$@"; do [[ $a == *.port ]] && port_file=$a; done
  python3 "$script" "$@" 2>"$T/$name.err" &
  pid=$!
  cleanup_push "kill $pid 2>/dev/null || true"
  for i in $(seq 1 100); do
    [ -s "$port_file" ] && return 0
    kill -0 "$pid" 2>/dev/null || die "$name server: $(cat "$T/$name.err")"
    sleep 0.1
  done
  die "$name server did not start"
}

push() { skopeo copy --quiet --dest-tls-verify=false "$@" || die "skopeo copy $* failed"; }

# expect_error LABEL PATTERN COMMAND...: exit 2 and one stderr line matching PATTERN (grep -E).
expect_error() {
  local label=$1 pattern=$2 rc=0
  shift 2
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne 2 ] || [ "$(wc -l <"$T/err")" -ne 1 ] || ! grep -Eq "$pattern" "$T/err"; then
    fail "$label: want exit 2 and one line matching /$pattern/, got exit $rc: $(head -c 600 "$T/err")"
  else
    log "ok $label: $(cat "$T/err")"
  fi
}

# --- the open registry -------------------------------------------------------------------------
start_registry open
R=127.0.0.1:$PORT_open
push --format v2s2 "docker-archive:$SAVE" "docker://$R/layered:v2s2"

# A multi-platform OCI index from the gzip layout: the image as amd64, the same layers under a
# config that says arm64 (a different image id), and an attestation manifest as buildx adds.
python3 - "$IMAGE_DIR/oci-gzip" "$T/multi" <<'PY'
import hashlib, json, os, shutil, sys
src, dst = sys.argv[1:]
shutil.copytree(src, dst)
def blob(d): return os.path.join(dst, "blobs", "sha256", d.split(":")[1])
def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(d), "wb").write(data)
    return d, len(data)
index = json.load(open(os.path.join(dst, "index.json")))
amd = index["manifests"][0]
manifest = json.load(open(blob(amd["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
config["architecture"] = "arm64"
config["variant"] = "v8"
cd, cs = put(config)
arm = dict(manifest, config=dict(manifest["config"], digest=cd, size=cs))
ad, asz = put(arm)
att_cfg = put({"architecture": "unknown", "os": "unknown"})
att = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                  "digest": att_cfg[0], "size": att_cfg[1]},
       "layers": []}
attd, atts = put(att)
mt = "application/vnd.oci.image.manifest.v1+json"
index["manifests"] = [
    {"mediaType": mt, "digest": amd["digest"], "size": amd["size"],
     "platform": {"os": "linux", "architecture": "amd64"}},
    {"mediaType": mt, "digest": ad, "size": asz,
     "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    {"mediaType": mt, "digest": attd, "size": atts,
     "platform": {"os": "unknown", "architecture": "unknown"},
     "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                     "vnd.docker.reference.digest": amd["digest"]}},
]
index["mediaType"] = "application/vnd.oci.image.index.v1+json"
nd, ns = put(index)  # the multi-platform index is a blob; index.json names it "multi"
top = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
       "manifests": [{"mediaType": index["mediaType"], "digest": nd, "size": ns,
                      "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}
json.dump(top, open(os.path.join(dst, "index.json"), "w"))
PY
push --all --format oci "oci:$T/multi:multi" "docker://$R/multi:1"

# --- the zstd registry, over https (a self-signed certificate: loopback is not verified) ---------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/tls.key" -out "$T/tls.crt" -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null || die "openssl req failed"
start_registry zstd "  tls:
    certificate: $T/tls.crt
    key: $T/tls.key" https
Z=127.0.0.1:$PORT_zstd
push --format oci "oci:$IMAGE_DIR/oci-zstd:test" "docker://$Z/layered:zstd"
curl -s --cacert "$T/tls.crt" -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
  "https://$Z/v2/layered/manifests/zstd" >"$T/zstd-manifest.json"
python3 - "$T/zstd-manifest.json" <<'PY' || die "the zstd registry's layers are not all zstd"
import json, sys
layers = json.load(open(sys.argv[1]))["layers"]
sys.exit(0 if layers and all(l["mediaType"].endswith("tar+zstd") for l in layers) else 1)
PY

# --- TLS verified: a registry on a non-loopback address ----------------------------------------
# Loopback registries are never verified (as in Docker), so this one listens on 10.99.0.1, an
# address given to lo in a network namespace of the test's own (coroner, like Docker, goes by the
# name: 127.0.0.0/8, ::1 and localhost are loopback), and serves the zstd registry's storage with
# a certificate for that address. A private mount namespace gives coroner a /etc/docker of the
# test's, whose certs.d is where Docker users put a registry's CA and their client certificate.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/v.key" -out "$T/v.crt" -days 2 \
  -subj /CN=coroner-test-verified -addext subjectAltName=IP:10.99.0.1 2>/dev/null ||
  die "openssl req failed"
# A second one on port 5444 also asks for a client certificate signed by a CA of the test's.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/cca.key" -out "$T/cca.crt" -days 2 \
  -subj /CN=coroner-test-client-ca 2>/dev/null &&
  openssl req -newkey rsa:2048 -nodes -keyout "$T/client.key" -out "$T/client.csr" \
    -subj /CN=coroner-test-client 2>/dev/null &&
  openssl x509 -req -in "$T/client.csr" -CA "$T/cca.crt" -CAkey "$T/cca.key" -CAcreateserial \
    -out "$T/client.cert" -days 2 2>/dev/null || die "openssl: the client certificate failed"
for port in 5443 5444; do
  cat >"$T/verified-$port.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $T/zstd/data
http:
  addr: 10.99.0.1:$port
  tls:
    certificate: $T/v.crt
    key: $T/v.key
EOF
done
printf '    clientcas:\n      - %s\n' "$T/cca.crt" >>"$T/verified-5444.yml"
unshare --net --mount --propagation private bash -s "$CORONER" "$T" >"$T/netns.log" 2>&1 <<'NS' ||
set -euo pipefail
CORONER=$1 T=$2
ip link set lo up
ip addr add 10.99.0.1/32 dev lo
mount -t tmpfs tmpfs /etc/docker
docker-registry serve "$T/verified-5443.yml" >"$T/verified-5443.log" 2>&1 &
docker-registry serve "$T/verified-5444.yml" >"$T/verified-5444.log" 2>&1 &
trap 'kill $(jobs -p)' EXIT
for i in $(seq 1 100); do
  curl -sk -o /dev/null https://10.99.0.1:5443/v2/ &&
    curl -sk --cert "$T/client.cert" --key "$T/client.key" -o /dev/null https://10.99.0.1:5444/v2/ &&
    break
  sleep 0.1
done
ref=docker://10.99.0.1:5443/layered:zstd
rc=0
"$CORONER" layers "$ref" >/dev/null 2>"$T/err" || rc=$?
echo "untrusted: exit $rc: $(cat "$T/err")"
[ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] &&
  grep -q 'certificate.*(a certificate coroner does not trust: put the registry.s CA in /etc/docker/certs.d/10.99.0.1:5443/ca.crt, or pass --insecure)$' "$T/err"
"$CORONER" layers --insecure "$ref" >/dev/null
echo "--insecure: ok"
mkdir -p /etc/docker/certs.d/10.99.0.1:5443
cp "$T/v.crt" /etc/docker/certs.d/10.99.0.1:5443/ca.crt
"$CORONER" layers "$ref" >/dev/null
echo "certs.d: ok"
ref=docker://10.99.0.1:5444/layered:zstd
mkdir -p /etc/docker/certs.d/10.99.0.1:5444
cp "$T/v.crt" /etc/docker/certs.d/10.99.0.1:5444/ca.crt
rc=0
"$CORONER" layers "$ref" >/dev/null 2>"$T/err" || rc=$?
echo "no client certificate: exit $rc: $(cat "$T/err")"
[ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ]
cp "$T/client.cert" "$T/client.key" /etc/docker/certs.d/10.99.0.1:5444/
"$CORONER" layers "$ref" >/dev/null
echo "client certificate from certs.d: ok"
NS
  fail "TLS verification: $(cat "$T/netns.log")"
log "TLS verification: $(tr '\n' ';' <"$T/netns.log")"

# --- exports and listings == the references ----------------------------------------------------
# ls -l shows each entry's layer and that layer's digest, which is the blob's: compressed in a
# registry, the diff_id in a legacy docker-archive. The layer index is compared, not the digest.
lslr() { "$CORONER" ls -lR "$@" / | sed -E 's/ [0-9a-f]{12} / /'; }
lslr "docker-archive:$SAVE" >"$T/ls-archive" || fail "ls of the docker-archive"
for ref in "docker://$R/layered:v2s2" "docker://$Z/layered:zstd" "docker://$R/multi:1"; do
  rm -rf "$T/x"
  if ! cor export "$ref" --dir "$T/x" >/dev/null; then
    fail "export $ref"
    continue
  fi
  out=$(treecmp --ignore-docker-injected "$T/x" "$IMAGE_DIR/docker-export.tar" 2>&1) ||
    fail "export $ref != docker export: $out"
  log "export $ref vs docker export: $out"
  lslr "$ref" >"$T/ls-reg" || fail "ls -lR $ref"
  cmp -s "$T/ls-archive" "$T/ls-reg" || fail "ls -lR $ref != the docker-archive's: $(diff "$T/ls-archive" "$T/ls-reg" | head -5)"
done
remove_in_background "$T/x"

# The same image from two registries (gzip Docker v2 and zstd OCI): diff finds nothing.
cor diff "docker://$R/layered:v2s2" "docker://$Z/layered:zstd" >"$T/diff.out" ||
  fail "diff of the v2s2 and zstd images: $(head -3 "$T/diff.out")"

# diagnose reads the registry image as it reads the archive: same verdict and rules.
rules() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(r.get("verdict"), sorted(f["rule"] for f in r.get("findings", [])))'; }
a=$(cor diagnose "docker-archive:$SAVE" --format json --fail-on never | rules)
b=$(cor diagnose "docker://$R/layered:v2s2" --format json --fail-on never | rules)
[ "$a" = "$b" ] || fail "diagnose: docker-archive says $a, the registry $b"
log "diagnose docker-archive and registry: $b"

# --- platforms, digests ------------------------------------------------------------------------
platform_of() { cor layers "$@" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["platform"])'; }
[ "$(platform_of "docker://$R/multi:1")" = linux/amd64 ] || fail "the host's platform is not the default"
[ "$(platform_of "docker://$R/multi:1" --platform linux/arm64)" = linux/arm64/v8 ] ||
  fail "--platform linux/arm64 did not pick the arm64 image"
expect_error "missing platform" 'manifest 1: no image for platform linux/s390x; available: linux/amd64, linux/arm64/v8 \(choose one with --platform\)$' \
  cor layers "docker://$R/multi:1" --platform linux/s390x
digest=$(curl -s -o /dev/null -w '%header{docker-content-digest}' \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$R/v2/layered/manifests/v2s2")
[[ $digest == sha256:* ]] || die "no Docker-Content-Digest from the registry"
cor ls "docker://$R/layered@$digest" /t >/dev/null || fail "ls by digest"
expect_error "unknown digest" 'MANIFEST_UNKNOWN' \
  cor ls "docker://$R/layered@sha256:$(printf '0%.0s' $(seq 64))" /
expect_error "unknown tag" "docker://$R/layered:nope: manifest nope: MANIFEST_UNKNOWN: manifest unknown \\(HTTP 404\\)" \
  cor ls "docker://$R/layered:nope" /
expect_error "unknown repository" 'NAME_UNKNOWN|MANIFEST_UNKNOWN' cor ls "docker://$R/nothing/here:1" /
port=$(free_port)
expect_error "unreachable" "docker://127.0.0.1:$port/a:1: not reachable at http://127.0.0.1:$port/v2/" \
  cor ls "docker://127.0.0.1:$port/a:1" /

# A layer blob damaged in the registry's storage (same size): the scan's digest check names it.
layer=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(min(m["layers"], key=lambda l: l["size"])["digest"])' \
  <(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "http://$R/v2/layered/manifests/v2s2"))
data=$T/open/data/docker/registry/v2/blobs/sha256/${layer:7:2}/${layer:7}/data
[ -f "$data" ] || die "$data: not where distribution stores blobs"
printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc status=none
expect_error "damaged blob" "${layer:7:12}|${layer}" cor ls "docker://$R/layered:v2s2" /

# --- Basic auth (htpasswd) ---------------------------------------------------------------------
gcc -o "$T/bcrypt" -x c - -lcrypt <<'C' || die "cannot build the bcrypt helper"
#include <crypt.h>
#include <stdio.h>
int main(int argc, char** argv) {
  const char* salt = crypt_gensalt("$2b$", 5, NULL, 0);
  const char* h = salt ? crypt(argv[1], salt) : NULL;
  if (!h || h[0] == '*') return 1;
  puts(h);
  return 0;
}
C
echo "alice:$("$T/bcrypt" 'wonder land')" >"$T/htpasswd"
start_registry basic "auth:
  htpasswd:
    realm: coroner-test
    path: $T/htpasswd"
B=127.0.0.1:$PORT_basic
push --dest-creds 'alice:wonder land' --format v2s2 "docker-archive:$SAVE" "docker://$B/private/app:1"
mkdir -p "$T/cfg-none" "$T/cfg-basic" "$T/cfg-wrong" "$T/cfg-helper" "$T/bin"
echo '{}' >"$T/cfg-none/config.json"
printf '{"auths": {"http://%s": {"auth": "%s"}}}' "$B" "$(printf 'alice:wonder land' | base64)" \
  >"$T/cfg-basic/config.json"
printf '{"auths": {"%s": {"auth": "%s"}}}' "$B" "$(printf 'alice:wrong' | base64)" \
  >"$T/cfg-wrong/config.json"
expect_error "basic, no credentials" "docker://$B/private/app:1: manifest 1: UNAUTHORIZED.*\\(HTTP 401\\) \\(no credentials for $B in config.json: docker login $B; or the repository does not exist\\)$" \
  env DOCKER_CONFIG="$T/cfg-none" "$CORONER" ls "docker://$B/private/app:1" /
expect_error "basic, wrong password" "UNAUTHORIZED.*were refused" \
  env DOCKER_CONFIG="$T/cfg-wrong" "$CORONER" ls "docker://$B/private/app:1" /
DOCKER_CONFIG=$T/cfg-basic lslr "docker://$B/private/app:1" >"$T/ls-reg" ||
  fail "ls with Basic credentials from config.json auths"
cmp -s "$T/ls-archive" "$T/ls-reg" || fail "ls -lR through Basic auth != the docker-archive's"

# A credential helper, run as the docker CLI runs it (server on stdin, JSON on stdout).
cat >"$T/bin/docker-credential-coroner-test" <<EOF
#!/bin/sh
[ "\$1" = get ] || exit 1
read -r server
echo "\$server" >>"$T/helper.log"
[ "\$server" = "$B" ] || { echo "credentials not found in native keychain"; exit 1; }
echo '{"ServerURL": "$B", "Username": "alice", "Secret": "wonder land"}'
EOF
chmod +x "$T/bin/docker-credential-coroner-test"
printf '{"credHelpers": {"%s": "coroner-test"}}' "$B" >"$T/cfg-helper/config.json"
PATH=$T/bin:$PATH DOCKER_CONFIG=$T/cfg-helper cor layers "docker://$B/private/app:1" >/dev/null ||
  fail "layers with a credential helper"
grep -qx "$B" "$T/helper.log" || fail "the credential helper was not asked for $B"

# --- token auth (bearer) -----------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/token.key" -out "$T/token.crt" -days 2 \
  -subj /CN=coroner-test-token 2>/dev/null || die "openssl req failed"
start_server token "$HERE/tools/token_server.py" "$T/token.port" "$T/token.key" "$T/token.crt" \
  coroner-test-issuer 'bob:build er' refresh-abc "$T/token.log"
# Blob GETs are redirected to an object store (as Docker Hub, GHCR and ECR do), which refuses a
# request carrying an Authorization header: the token must not follow the redirect.
mkdir -p "$T/token/data"
# It also drops the first GET of each large blob halfway: the layer must resume with a range.
start_server blobs "$HERE/tools/blob_server.py" "$T/token/data" "$T/blobs.port" "$T/blobs.log" flaky
start_registry token "auth:
  token:
    realm: http://127.0.0.1:$(cat "$T/token.port")/token
    service: coroner-test-registry
    issuer: coroner-test-issuer
    rootcertbundle: $T/token.crt
middleware:
  storage:
    - name: redirect
      options:
        baseurl: http://127.0.0.1:$(cat "$T/blobs.port")/"
K=127.0.0.1:$PORT_token
push --dest-creds 'bob:build er' --format v2s2 "docker-archive:$SAVE" "docker://$K/team/app:1"
mkdir -p "$T/cfg-tok" "$T/cfg-idt" "$T/cfg-tok-wrong"
printf '{"auths": {"%s": {"auth": "%s"}}}' "$K" "$(printf 'bob:build er' | base64)" >"$T/cfg-tok/config.json"
printf '{"auths": {"%s": {"auth": "%s"}}}' "$K" "$(printf 'bob:nope' | base64)" >"$T/cfg-tok-wrong/config.json"
printf '{"auths": {"%s": {"identitytoken": "refresh-abc"}}}' "$K" >"$T/cfg-idt/config.json"
: >"$T/token.log"
DOCKER_CONFIG=$T/cfg-tok lslr "docker://$K/team/app:1" >"$T/ls-reg" ||
  fail "ls with a bearer token (Basic credentials to the token server)"
cmp -s "$T/ls-archive" "$T/ls-reg" || fail "ls -lR through token auth != the docker-archive's"
grep -q '^GET basic /token' "$T/token.log" || fail "no token was fetched with Basic credentials"
grep -q ' /docker/registry/v2/blobs/sha256/.* 200$' "$T/blobs.log" || fail "no blob came through the redirect"
! grep -q ' 400$' "$T/blobs.log" || fail "the token followed the redirect to the object store"
grep -q ' cut$' "$T/blobs.log" || fail "no blob transfer was cut"
grep -q ' 206 bytes=[0-9]*-$' "$T/blobs.log" || fail "no cut transfer was resumed with a range"
: >"$T/token.log"
DOCKER_CONFIG=$T/cfg-idt cor layers "docker://$K/team/app:1" >/dev/null ||
  fail "layers with an identity token (OAuth2 refresh_token grant)"
grep -q '^POST refresh_token /token' "$T/token.log" || fail "the identity token was not traded"
expect_error "token, no credentials" "UNAUTHORIZED.*no credentials for $K in config.json" \
  env DOCKER_CONFIG="$T/cfg-none" "$CORONER" ls "docker://$K/team/app:1" /
expect_error "token, wrong password" "token server http://127.0.0.1:[0-9]+/token: UNAUTHORIZED: wrong user or password \\(HTTP 401\\) \\(the credentials from .* were refused\\)" \
  env DOCKER_CONFIG="$T/cfg-tok-wrong" "$CORONER" ls "docker://$K/team/app:1" /

[ "$FAIL" -eq 0 ] || die "registry: some checks failed"
log "registry: all checks passed"
