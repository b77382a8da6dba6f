#!/usr/bin/env bash
# Usage: bench/profile.sh [N] [DOMAINS]     (defaults: N = 2000 zone domains, DOMAINS = N)
# CPU cost of sendcheck per domain, counted in instructions by callgrind (stable on a loaded machine, unlike time).
# Generates the synthetic zone with bench/gen_zone.py N (bench/out/N/), then runs, without any network,
#   sendcheck --offline --zone <each zone file> [--json | (text) | -q] -f <first DOMAINS domains>  > /dev/null
# under `valgrind --tool=callgrind` and prints the total instructions (Ir) per domain for each mode. Loading the zone
# files is part of every run; the "1-domain" row (same zone, one domain) shows that fixed cost, and "marginal" is
# (Ir(DOMAINS) - Ir(1)) / (DOMAINS - 1), the cost of one more domain.
# The callgrind output files stay in bench/out/N/callgrind.<mode>.out: `callgrind_annotate --inclusive=yes FILE`.
#
# Environment: SENDCHECK_BIN (default build-perf/sendcheck; build it RelWithDebInfo first).
set -euo pipefail
n=${1:-2000}
count=${2:-$n}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SENDCHECK_BIN:-$root/build-perf/sendcheck}
out="$root/bench/out/$n"
[[ -x "$bin" ]] || { echo "profile.sh: $bin not found (cmake -B build-perf -DCMAKE_BUILD_TYPE=RelWithDebInfo)" >&2; exit 2; }
command -v valgrind > /dev/null || { echo "profile.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

[[ -f "$out/domains.txt" ]] || /usr/bin/python3 "$root/bench/gen_zone.py" "$n" > /dev/null
zones=()
for file in "$out"/*.zone; do
  zones+=(--zone "$file")
done
head -n "$count" "$out/domains.txt" > "$out/profile_domains.txt"
head -n 1 "$out/domains.txt" > "$out/profile_one.txt"

# Total Ir of one sendcheck run under callgrind: instructions ARGS...
instructions() {
  local file=$1
  shift
  # sendcheck exits 1 when a domain has problems (most do here): not an error for this script.
  valgrind --tool=callgrind --callgrind-out-file="$file" "$bin" --offline "${zones[@]}" "$@" > /dev/null 2> "$file.log" \
    || true
  grep -q '^totals:' "$file" || { echo "profile.sh: callgrind failed, see $file.log" >&2; exit 1; }
  awk '/^totals:/ { print $2 }' "$file"
}

echo "sendcheck $("$bin" --version | head -n 1); zone: $n domains; run: $count domains (bench/out/$n)"
printf '%-6s %16s %16s %14s %14s\n' mode "Ir(${count})" "Ir(1-domain)" "Ir/domain" "marginal"
for mode in json text quiet; do
  case $mode in
    json) args=(--json) ;;
    text) args=() ;;
    quiet) args=(-q) ;;
  esac
  total=$(instructions "$out/callgrind.$mode.out" "${args[@]}" -f "$out/profile_domains.txt")
  one=$(instructions "$out/callgrind.$mode.one.out" "${args[@]}" -f "$out/profile_one.txt")
  awk -v m="$mode" -v t="$total" -v o="$one" -v c="$count" 'BEGIN {
    printf "%-6s %16.0f %16.0f %14.0f %14.0f\n", m, t, o, t / c, (c > 1 ? (t - o) / (c - 1) : 0) }'
done
