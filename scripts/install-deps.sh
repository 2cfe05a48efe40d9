#!/usr/bin/env bash
# Installs what coroner needs to build, test and run its demo on Debian 12, from Debian's
# packages only. Idempotent; as root (or via sudo). Set CORONER_DEPS=build for the build-only set.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libarchive-dev nlohmann-json3-dev libcli11-dev libfmt-dev libssl-dev libzstd-dev libisal-dev
  libcurl4-openssl-dev libhyperscan-dev libsqlite3-dev zlib1g-dev
)
# Demo: builds a small image without any daemon (busybox-static + umoci) and converts it with skopeo.
demo_pkgs=(busybox-static umoci skopeo)
test_pkgs=(
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev clang-format
  musl-tools gcc-aarch64-linux-gnu gcc-i686-linux-gnu python3
  docker.io mmdebstrap skopeo umoci uidmap libarchive-tools zstd isal
  busybox-static libcap2-bin time hyperfine python3-jsonschema chromium rpm
  podman
  db5.3-util curl xz-utils docker-registry openssl
)

case "${CORONER_DEPS:-all}" in
  build) pkgs=("${build_pkgs[@]}") ;;
  demo) pkgs=("${build_pkgs[@]}" "${demo_pkgs[@]}") ;;
  *)
    pkgs=("${build_pkgs[@]}" "${demo_pkgs[@]}" "${test_pkgs[@]}")
    # The SARIF test fetches the official schema with `npm pack`; Debian's npm only where no other
    # Node.js distribution already provides one (it would conflict with nodesource's nodejs).
    command -v npm >/dev/null || pkgs+=(npm)
    ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
