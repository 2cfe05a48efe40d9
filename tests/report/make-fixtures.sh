#!/usr/bin/env bash
# Builds the report tests' fixture images without any daemon (busybox-static + umoci + skopeo),
# next to the bundled example (examples/make-example.sh, a CRLF entrypoint):
#   healthy  busybox root, ENTRYPOINT ["/bin/sh", "-c", "echo ok"]: starts, no findings
#   warn     starts as USER app, but EXPOSE 80 (privileged-port-nonroot) and a baked-in
#            /run/app.pid (stale-pid-file): warnings only
#   ghost    USER ghost, which /etc/passwd does not have (user-unknown, the daemon refuses: 125)
# Usage: make-fixtures.sh OUTDIR  → OUTDIR/<name>.tar (docker-archive) for each name
set -euo pipefail
out=${1:?usage: make-fixtures.sh OUTDIR}
busybox=${BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || { echo "make-fixtures: $busybox missing (busybox-static)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# base IMG: layer 0, a busybox root with root and app users.
base() {
  local img=$1
  rm -rf "$img"
  umoci init --layout "$img"
  umoci new --image "$img:x"
  umoci unpack --rootless --image "$img:x" "$work/b" >/dev/null
  local root="$work/b/rootfs"
  mkdir -p "$root"/{bin,etc,tmp,run,root,home/app}
  cp "$busybox" "$root/bin/busybox"
  for a in sh ls cat echo env id; do ln -s busybox "$root/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\napp:x:1000:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  chown -R "$(id -u):$(id -g)" "$root/home/app"
  umoci repack --image "$img:x" --history.created_by "ADD busybox rootfs /" "$work/b"
  rm -rf "$work/b"
}

save() { skopeo copy --quiet "oci:$1:x" "docker-archive:$out/$2.tar:coroner-test/$2:latest"; }

env_path=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

base "$work/healthy"
umoci config --image "$work/healthy:x" --config.env "$env_path" \
  --config.entrypoint /bin/sh --config.entrypoint -c --config.entrypoint 'echo ok' \
  --history.created_by 'ENTRYPOINT ["/bin/sh", "-c", "echo ok"]'
save "$work/healthy" healthy

base "$work/warn"
umoci unpack --rootless --image "$work/warn:x" "$work/b" >/dev/null
echo 7 >"$work/b/rootfs/run/app.pid"
umoci repack --image "$work/warn:x" --history.created_by "RUN app --init && echo 7 > /run/app.pid" \
  "$work/b"
rm -rf "$work/b"
umoci config --image "$work/warn:x" --config.env "$env_path" --config.user app \
  --config.exposedports 80/tcp --config.cmd /bin/sh --config.cmd -c --config.cmd 'echo ok' \
  --history.created_by 'USER app EXPOSE 80 CMD ["/bin/sh", "-c", "echo ok"]'
save "$work/warn" warn

base "$work/ghost"
umoci config --image "$work/ghost:x" --config.env "$env_path" --config.user ghost \
  --config.cmd /bin/sh --history.created_by 'USER ghost CMD ["/bin/sh"]'
save "$work/ghost" ghost
echo "fixtures: $out/{healthy,warn,ghost}.tar"
