# Builds the real images of the integration tests, cached under $CORONER_CACHE (sourced, bash,
# root). Every step runs a real tool: mmdebstrap, docker import/build/save/create/export, skopeo,
# umoci. Parallel ctest jobs share the cache through flock.
# They set globals rather than print, so that a daemon they start belongs to the calling shell
# (a $(...) subshell would lose its EXIT cleanup):
#   base_tar                      → BASE_TAR, the cached bookworm minbase tar (built once)
#   image_artifacts NAME          → IMAGE_DIR, the cache dir of tests/integration/images/NAME:
#       save.tar          `docker save` of coroner-test/NAME:latest
#       oci-gzip/ oci-zstd/  `skopeo copy` into OCI layouts (tag "test"), gzip and zstd layers
#       docker-export.tar `docker export` of a created (never started) container
#       meta              what made them (versions, digests)
#   umoci_unpack OCIDIR TAG DEST  → DEST/rootfs is the unpacked root
# The cache key of an image covers its Dockerfile dir, this file and the base key; set
# CORONER_REFRESH=1 to rebuild anyway. dockerd is started only when something must be built.
[ -n "${_CORONER_IMAGES_SH:-}" ] && return 0
_CORONER_IMAGES_SH=1
_CORONER_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$_CORONER_LIB/dockerd.sh"

CORONER_IMAGES_SRC=${CORONER_IMAGES_SRC:-$(dirname "$_CORONER_LIB")/images}
# Bump when _build_image_artifacts changes what it makes (part of every image cache key).
CORONER_IMAGES_RECIPE=2
CORONER_SUITE=bookworm
CORONER_MIRROR=${CORONER_MIRROR:-http://deb.debian.org/debian}
# libcap2-bin for setcap (security.capability); docs, man pages and locales left out to keep each
# vfs copy small.
CORONER_BASE_OPTS=(--variant=minbase --include=libcap2-bin
  --dpkgopt=path-exclude=/usr/share/doc/* --dpkgopt=path-exclude=/usr/share/man/*
  --dpkgopt=path-exclude=/usr/share/locale/* --dpkgopt=path-exclude=/usr/share/info/*)

_sha() { sha256sum | cut -c1-16; }

base_key() { printf '%s\n' "$CORONER_SUITE" "${CORONER_BASE_OPTS[@]}" | _sha; }

_build_base_tar() {
  local out=$1 tmp try
  [ -s "$out" ] && [ -z "${CORONER_REFRESH:-}" ] && return 0
  command -v mmdebstrap >/dev/null || die "mmdebstrap missing (apt-get install mmdebstrap)"
  tmp="$out.tmp.$$"
  cleanup_push "rm -f '$tmp' '$tmp.log'"
  for try in 1 2; do
    log "mmdebstrap $CORONER_SUITE minbase (try $try) → $out"
    if mmdebstrap --quiet "${CORONER_BASE_OPTS[@]}" --format=tar "$CORONER_SUITE" "$tmp" \
      "$CORONER_MIRROR" >"$tmp.log" 2>&1; then
      mv "$tmp" "$out"
      rm -f "$tmp.log"
      return 0
    fi
    tail -20 "$tmp.log" >&2
    rm -f "$tmp"
  done
  rm -f "$tmp.log"
  die "mmdebstrap failed twice"
}

base_tar() {
  BASE_TAR="$CORONER_CACHE/$CORONER_SUITE-minbase-$(base_key).tar"
  with_lock "$CORONER_CACHE/.base.lock" _build_base_tar "$BASE_TAR"
}

# Key of an image: its source dir (names, modes, contents), this file, the base key.
image_key() {
  local name=$1
  {
    base_key
    echo "recipe $CORONER_IMAGES_RECIPE"
    (cd "$CORONER_IMAGES_SRC/$name" && find . -printf '%p %y %m\n' | LC_ALL=C sort &&
      find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | _sha
}

_ensure_dockerd() { [ -n "$DOCKERD_DIR" ] || dockerd_start; }

# Imports the base tar as coroner-test/bookworm:base in the running daemon.
import_base() {
  base_tar
  _ensure_dockerd
  dk image inspect coroner-test/bookworm:base >/dev/null 2>&1 && return 0
  log "docker import $BASE_TAR"
  dk import "$BASE_TAR" coroner-test/bookworm:base >/dev/null
}

_build_image_artifacts() {
  local name=$1 dir=$2 tmp cid
  local ref="coroner-test/$name:latest"
  [ -f "$dir/complete" ] && [ -z "${CORONER_REFRESH:-}" ] && return 0
  rm -rf "$dir"
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cleanup_push "rm -rf '$tmp'"
  import_base
  log "docker build $ref (DOCKER_BUILDKIT=0)"
  DOCKER_BUILDKIT=0 dk build --network none -q -t "$ref" "$CORONER_IMAGES_SRC/$name" >"$tmp/build.log" 2>&1 ||
    {
      cat "$tmp/build.log" >&2
      die "docker build $ref failed"
    }
  local extra="$CORONER_IMAGES_SRC/$name/extra_layer.py"
  if [ -f "$extra" ]; then
    # A crafted last layer (opaque dirs, whiteouts), loaded so that dockerd applies it itself.
    log "docker load of $ref + the layer of images/$name/extra_layer.py"
    dk save -o "$tmp/built.tar" "$ref" || die "docker save $ref failed"
    python3 "$extra" "$tmp/extra.tar" || die "$extra failed"
    python3 "$_CORONER_LIB/../tools/add_layer.py" "$tmp/built.tar" "$tmp/extra.tar" \
      "$tmp/full.tar" "$ref" "crafted: images/$name/extra_layer.py" || die "add_layer failed"
    dk load -q -i "$tmp/full.tar" >/dev/null || die "docker load failed"
    rm -f "$tmp/built.tar" "$tmp/extra.tar" "$tmp/full.tar"
  fi
  log "docker save $ref"
  dk save -o "$tmp/save.tar" "$ref" || die "docker save $ref failed"
  log "docker create + export $ref"
  cid=$(dk create --network none "$ref") || die "docker create $ref failed"
  cleanup_push "dk rm -f $cid >/dev/null 2>&1 || true"
  dk export -o "$tmp/docker-export.tar" "$cid" || die "docker export $cid failed"
  dk rm -v "$cid" >/dev/null || die "docker rm $cid failed"
  log "skopeo copy → oci (gzip, zstd)"
  skopeo copy --quiet --dest-compress --dest-compress-format gzip \
    "docker-archive:$tmp/save.tar" "oci:$tmp/oci-gzip:test" || die "skopeo copy (gzip) failed"
  skopeo copy --quiet --dest-compress --dest-compress-format zstd \
    "docker-archive:$tmp/save.tar" "oci:$tmp/oci-zstd:test" || die "skopeo copy (zstd) failed"
  _check_layer_media "$tmp/oci-gzip" 'tar+gzip'
  _check_layer_media "$tmp/oci-zstd" 'tar+zstd'
  {
    echo "image: $ref $(dk image inspect -f '{{.Id}}' "$ref")"
    echo "layers: $(dk image inspect -f '{{len .RootFS.Layers}}' "$ref")"
    echo "dockerd: $(dk version -f '{{.Server.Version}}') storage vfs"
    echo "skopeo: $(skopeo --version)"
    echo "built: $(date -u +%FT%TZ)"
  } >"$tmp/meta"
  touch "$tmp/complete"
  mv "$tmp" "$dir"
}

# Fails unless every layer of the OCI layout's single manifest has the media type suffix.
_check_layer_media() {
  local layout=$1 want=$2 mdigest
  mdigest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"].split(":")[1])' "$layout/index.json")
  python3 - "$layout/blobs/sha256/$mdigest" "$want" <<'PY' || die "$layout: layers are not $want"
import json, sys
m = json.load(open(sys.argv[1]))
bad = [l["mediaType"] for l in m["layers"] if not l["mediaType"].endswith(sys.argv[2])]
sys.exit(1 if bad or not m["layers"] else 0)
PY
}

image_artifacts() {
  local name=$1
  [ -f "$CORONER_IMAGES_SRC/$name/Dockerfile" ] || die "no image $name in $CORONER_IMAGES_SRC"
  IMAGE_DIR="$CORONER_CACHE/images/$name-$(image_key "$name")"
  with_lock "$CORONER_CACHE/.images.lock" _build_image_artifacts "$name" "$IMAGE_DIR"
}

umoci_unpack() {
  local layout=$1 tag=$2 dest=$3
  umoci unpack --image "$layout:$tag" "$dest" >/dev/null || die "umoci unpack $layout:$tag failed"
}

# Prints the config digest of LAYOUT:test after checking that each layer blob matches its
# digest and decompresses (gzip -dc / zstd -dc, by media type) to the config's diff_id. This is
# how the zstd layout is tied to the references: umoci 0.4.7 cannot unpack zstd layers.
verify_layout() {
  local layout=$1
  python3 - "$layout" <<'PY' || die "$layout: layer digests or diff_ids do not match"
import hashlib, json, subprocess, sys
root = sys.argv[1]
blob = lambda d: "%s/blobs/sha256/%s" % (root, d.split(":", 1)[1])
def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
index = json.load(open(root + "/index.json"))
manifest = json.load(open(blob(index["manifests"][0]["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
diff_ids = config["rootfs"]["diff_ids"]
assert len(diff_ids) == len(manifest["layers"]), "layer count != diff_ids count"
for layer, diff_id in zip(manifest["layers"], diff_ids):
    assert sha(blob(layer["digest"])) == layer["digest"], "blob digest " + layer["digest"]
    tool = {"gzip": "gzip", "zstd": "zstd"}[layer["mediaType"].rsplit("+", 1)[1]]
    p = subprocess.Popen([tool, "-dc", blob(layer["digest"])], stdout=subprocess.PIPE)
    h = hashlib.sha256()
    for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
        h.update(chunk)
    assert p.wait() == 0, tool + " -dc failed"
    assert "sha256:" + h.hexdigest() == diff_id, "diff_id %s of %s" % (diff_id, layer["digest"])
print(manifest["config"]["digest"], len(diff_ids))
PY
}
