#!/usr/bin/env bash
# The demo: installs what it needs, builds coroner, builds the bundled example image without any
# daemon (examples/make-example.sh), and examines it.
set -euo pipefail
cd "$(dirname "$0")/.."
CORONER_DEPS=demo scripts/install-deps.sh
BUILD_DIR=build scripts/build.sh -DCORONER_TESTS=OFF
examples/make-example.sh build/example >/dev/null
coroner=build/src/cli/coroner
image=docker-archive:build/example/demo.tar
run() {
  echo
  echo "\$ coroner $*"
  "$coroner" "$@" || true
}
run diagnose "$image"
run layers "$image"
run find "$image" / -perm /111 -type f
run ls "$image" /app -l
run cat "$image" /var/log/app.log
