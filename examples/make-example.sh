#!/usr/bin/env bash
# Builds the bundled example image without any daemon, from Debian's busybox-static, with umoci
# (OCI layout) and skopeo (docker-archive): a three-layer "app" image whose entrypoint script was
# saved with Windows line endings, the classic `exec /app/entry.sh: no such file or directory`.
#   layer 0  busybox rootfs: /bin/busybox, applet symlinks, /etc/passwd, /etc/group
#   layer 1  COPY app/ /app/   (entry.sh with CRLF, config.ini, a hardlink)
#   layer 2  RUN rm /app/config.ini && echo ... > /var/log/app.log   (a whiteout)
# Usage: make-example.sh OUTDIR   → OUTDIR/demo-oci (oci:...:demo), OUTDIR/demo.tar (docker-archive)
set -euo pipefail
out=${1:?usage: make-example.sh OUTDIR}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-example: $busybox missing (apt-get install busybox-static)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
rm -rf "$out/demo-oci" "$out/demo.tar"
img="$out/demo-oci"
umoci init --layout "$img"
umoci new --image "$img:demo"

# Layer 0: the busybox root. umoci repack diffs the unpacked bundle against the image.
umoci unpack --rootless --image "$img:demo" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
mkdir -p "$root"/{bin,etc,tmp,var/log,root,home/app}
cp "$busybox" "$root/bin/busybox"
for applet in sh ls cat echo env id; do ln -s busybox "$root/bin/$applet"; done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
umoci repack --image "$img:demo" --history.created_by "ADD busybox rootfs /" "$work/bundle"
umoci config --image "$img:demo" --config.user app --config.workingdir /app \
  --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --config.entrypoint /app/entry.sh --config.cmd serve \
  --history.created_by 'ENTRYPOINT ["/app/entry.sh"] CMD ["serve"]'
rm -rf "$work/bundle"

# Layer 1: the app, with an entrypoint script saved on Windows.
umoci unpack --rootless --image "$img:demo" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
mkdir -p "$root/app"
printf '#!/bin/sh\r\necho "starting $1"\r\nexec "$@"\r\n' >"$root/app/entry.sh"
chmod 755 "$root/app/entry.sh"
printf '[server]\nport = 8080\n' >"$root/app/config.ini"
ln "$root/app/config.ini" "$root/app/config.default.ini"
umoci repack --image "$img:demo" --history.created_by "COPY app/ /app/" "$work/bundle"
rm -rf "$work/bundle"

# Layer 2: delete a file from the layer below (a whiteout), leave a log behind.
umoci unpack --rootless --image "$img:demo" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
rm "$root/app/config.ini"
printf 'boot ok\nFATAL: config.ini not found\n' >"$root/var/log/app.log"
umoci repack --image "$img:demo" \
  --history.created_by "RUN rm /app/config.ini && /app/entry.sh selftest > /var/log/app.log" \
  "$work/bundle"
umoci gc --layout "$img"

skopeo copy --quiet "oci:$img:demo" "docker-archive:$out/demo.tar:example/demo:latest"
echo "example image: oci:$img:demo and docker-archive:$out/demo.tar"
