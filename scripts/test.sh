#!/usr/bin/env bash
# Installs what the tests need, builds with warnings as errors, and runs every test: unit tests,
# fuzz corpus replays and the integration tests (which start their own dockerd; root needed).
#   scripts/test.sh              the full suite (build/ci)
#   scripts/test.sh --sanitize   ASan+UBSan build (build/asan), unit tests and fuzz replays
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "${1:-}" = "--sanitize" ]; then
  BUILD_DIR=build/asan BUILD_TYPE=Debug scripts/build.sh -DCORONER_WERROR=ON \
    -DCORONER_SANITIZE=address,undefined
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  ctest --test-dir build/asan --output-on-failure -j2 -LE integration
  exit
fi
BUILD_DIR=build/ci scripts/build.sh -DCORONER_WERROR=ON
ctest --test-dir build/ci --output-on-failure -j2
