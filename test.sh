#!/usr/bin/env bash
# Usage: ./test.sh [--sanitize] [ctest arguments...]
# Installs what is missing (Debian 12), builds, and runs every test through CTest.
#   --sanitize   build with AddressSanitizer and UndefinedBehaviorSanitizer (in build-sanitize/) and run the suite
set -euo pipefail
SENDCHECK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SENDCHECK_ROOT/scripts/setup.sh"

build_dir="$SENDCHECK_ROOT/build"
cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_dir="$SENDCHECK_ROOT/build-sanitize"
  cmake_args+=(-DSENDCHECK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
fi

sendcheck_install_packages "${SENDCHECK_BUILD_PACKAGES[@]}" "${SENDCHECK_TEST_PACKAGES[@]}"
sendcheck_build "$build_dir" "${cmake_args[@]}"
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" "$@"
# A short fuzz run of every libFuzzer target when clang is present (SENDCHECK_FUZZ_SECONDS per target, default 30;
# 0 skips it). Builds in build-fuzz/.
fuzz_seconds=${SENDCHECK_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ] && command -v clang++ >/dev/null; then
  "$SENDCHECK_ROOT/bench/fuzz.sh" "$fuzz_seconds"
fi
