#!/usr/bin/env bash
# Usage: bench/fuzz.sh [SECONDS]
# Builds every libFuzzer target with clang (in build-fuzz/) and runs each for SECONDS (default: $SENDCHECK_FUZZ_SECONDS,
# else 30), starting from seed corpora generated from the test data (fuzz/make_corpora.py). Prints per target the
# executions run and whether anything was found; crash inputs are kept in build-fuzz/fuzz-findings/<target>/.
# Warnings are not errors here (the GCC build enforces them; clang 14 warns about other things).
# Exits 1 when a target found something, 2 when a target did not build, 0 otherwise.
# Environment: SENDCHECK_FUZZ_SECONDS (default seconds), SENDCHECK_FUZZ_BUILD (build dir), SENDCHECK_FUZZ_JOBS.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
seconds=${1:-${SENDCHECK_FUZZ_SECONDS:-30}}
build=${SENDCHECK_FUZZ_BUILD:-$root/build-fuzz}

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found (Debian: clang libclang-rt-14-dev); skipped" >&2
  exit 0
fi
log="$build/fuzz-build.log"
mkdir -p "$build"
if [ ! -f "$build/build.ninja" ]; then
  if ! CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DSENDCHECK_WERROR=OFF -DSENDCHECK_FUZZ=ON \
      -DSENDCHECK_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz: configure failed" >&2
    exit 2
  fi
fi
# -k 0: a module that does not build with clang stops only the targets that link it. The binaries are removed first
# so that a stale one from an earlier build is never run.
rm -f "$build"/fuzz/fuzz_*
build_failed=0
if ! cmake --build "$build" --target fuzz_all -- -k 0 ${SENDCHECK_FUZZ_JOBS:+-j "$SENDCHECK_FUZZ_JOBS"} >"$log" 2>&1; then
  grep -E '^FAILED|error:' "$log" | head -20 >&2
  echo "fuzz: some targets did not build (log: $log)" >&2
  build_failed=1
fi

corpora="$build/fuzz-corpora"
findings="$build/fuzz-findings"
rm -rf "$corpora"
/usr/bin/python3 "$root/fuzz/make_corpora.py" "$root" "$corpora" >/dev/null

status=0
printf '%-16s %12s  %s\n' target executions result
for target in $(sed -n 's/^sendcheck_fuzz_target(\([a-z_]*\) .*/\1/p' "$root/fuzz/CMakeLists.txt"); do
  binary="$build/fuzz/fuzz_$target"
  if [ ! -x "$binary" ]; then
    printf '%-16s %12s  %s\n' "$target" - "NOT BUILT (see $log)"
    status=2
    continue
  fi
  mkdir -p "$findings/$target"
  run_log="$build/fuzz-$target.log"
  set +e
  "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$findings/$target/" "$corpora/$target" >"$run_log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$run_log" | tail -1)
  if [ -z "$runs" ]; then
    runs=$(grep -o 'DONE *[0-9]*\|#[0-9]*' "$run_log" | tail -1 | tr -dc 0-9)
  fi
  if [ "$rc" -eq 0 ]; then
    result="nothing found"
  else
    artifact=$(grep -o "$findings/$target/[a-z-]*[0-9a-f]*" "$run_log" | tail -1)
    result="FOUND (exit $rc): ${artifact:-see $run_log}"
    [ "$status" = 0 ] && status=1
  fi
  printf '%-16s %12s  %s\n' "$target" "${runs:-?}" "$result"
done
exit "$status"
