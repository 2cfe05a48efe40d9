# Small images for the diagnosis tests (sourced, bash, root): a busybox-static base that costs a
# few MB per vfs copy instead of ~100 MB, and images built over it from
# tests/integration/images/zoo-*/Dockerfile.
#   zoo_busybox_base            → imports coroner-test/zoo-busybox:base into the running daemon
#                                  (starts one if needed): /bin/busybox from Debian's
#                                  busybox-static, a symlink per applet, /etc/passwd and group
#                                  (root, app 1000, nobody), /tmp 1777, CMD ["/bin/sh"]
#   zoo_build NAME              → DOCKER_BUILDKIT=0 build of images/zoo-NAME as coroner-test/zoo-NAME
#   zoo_run_error NAME          → prints `docker run`'s exit code and stderr (what we predict)
# Example: source lib/fixtures.sh; zoo_build crlf; zoo_run_error crlf
#   → "1 exec /entry.sh: no such file or directory"
[ -n "${_CORONER_FIXTURES_SH:-}" ] && return 0
_CORONER_FIXTURES_SH=1
source "$(dirname "${BASH_SOURCE[0]}")/images.sh"

ZOO_BUSYBOX=${ZOO_BUSYBOX:-/bin/busybox}

zoo_busybox_base() {
  _ensure_dockerd
  dk image inspect coroner-test/zoo-busybox:base >/dev/null 2>&1 && return 0
  [ -x "$ZOO_BUSYBOX" ] && file_is_static "$ZOO_BUSYBOX" ||
    die "$ZOO_BUSYBOX is not a static busybox (apt-get install busybox-static)"
  local d applet
  make_tmpdir
  d=$TMP_DIR
  mkdir -p "$d/root"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/app,dev,proc,sys}
  cp "$ZOO_BUSYBOX" "$d/root/bin/busybox"
  for applet in $("$ZOO_BUSYBOX" --list-full); do
    [ -e "$d/root/$applet" ] || ln -s /bin/busybox "$d/root/$applet"
  done
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'app:x:1000:1000:app:/home/app:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$d/root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'app:x:1000:' 'nogroup:x:65534:' >"$d/root/etc/group"
  chmod 1777 "$d/root/tmp"
  chown 1000:1000 "$d/root/home/app"
  tar --numeric-owner --xattrs -C "$d/root" -cf "$d/busybox.tar" .
  log "docker import busybox-static ($(dpkg-query -W -f '${Version}' busybox-static 2>/dev/null || echo '?'))"
  dk import --change 'CMD ["/bin/sh"]' "$d/busybox.tar" coroner-test/zoo-busybox:base >/dev/null
}

file_is_static() { ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'INTERP'; }

zoo_build() {
  local name=$1
  [ -f "$CORONER_IMAGES_SRC/zoo-$name/Dockerfile" ] || die "no images/zoo-$name/Dockerfile"
  zoo_busybox_base
  DOCKER_BUILDKIT=0 dk build --network none -q -t "coroner-test/zoo-$name" \
    "$CORONER_IMAGES_SRC/zoo-$name" >/dev/null || die "docker build zoo-$name failed"
}

zoo_run_error() {
  local name=$1 err rc=0
  err=$(dk run --rm --network none "coroner-test/zoo-$name" 2>&1 >/dev/null) || rc=$?
  printf '%s %s\n' "$rc" "$err"
}
