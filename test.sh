#!/usr/bin/env bash
# Usage: ./test.sh [--sanitize | --threads] [ctest arguments...]
# Installs what is missing (Debian 12), builds, and runs every test through CTest.
#   --sanitize   build with AddressSanitizer and UndefinedBehaviorSanitizer (in build-sanitize/) and run the suite
#   --threads    build with ThreadSanitizer (in build-tsan/) and run the command-line tests, which run several
#                worker threads (--jobs); any data race fails them
set -euo pipefail
SENDCHECK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SENDCHECK_ROOT/scripts/setup.sh"

build_dir="$SENDCHECK_ROOT/build"
cmake_args=()
threads=0
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_dir="$SENDCHECK_ROOT/build-sanitize"
  cmake_args+=(-DSENDCHECK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
elif [ "${1:-}" = "--threads" ]; then
  shift
  threads=1
  build_dir="$SENDCHECK_ROOT/build-tsan"
  cmake_args+=(-DSENDCHECK_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi

sendcheck_install_packages "${SENDCHECK_BUILD_PACKAGES[@]}" "${SENDCHECK_TEST_PACKAGES[@]}"
sendcheck_build "$build_dir" "${cmake_args[@]}"
cd "$build_dir"
if [ "$threads" = 1 ]; then
  # A race report makes sendcheck exit 66, which no test expects.
  export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
  ctest --output-on-failure -j "$(nproc)" -R '^(integration\.cli\.knot|hostile\.cli|unit\.cli_options)$' "$@"
  exit 0
fi
ctest --output-on-failure -j "$(nproc)" "$@"
# A short fuzz run of every libFuzzer target when clang is present (SENDCHECK_FUZZ_SECONDS per target, default 30;
# 0 skips it). Builds in build-fuzz/.
fuzz_seconds=${SENDCHECK_FUZZ_SECONDS:-30}
if [ "$fuzz_seconds" != 0 ] && command -v clang++ >/dev/null; then
  "$SENDCHECK_ROOT/bench/fuzz.sh" "$fuzz_seconds"
fi
