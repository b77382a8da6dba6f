#!/usr/bin/env bash
# Usage: bench/run.sh [N]            (default N = 1000)
# The side-by-side SPF benchmark (issue 8): generates a synthetic zone with N customer domains (bench/gen_zone.py),
# serves it with knotd on a free loopback port, and runs the job "for every domain, the SPF result for each of the
# five Directo IPs (sender postmaster@<domain>)" with sendcheck, pyspf, Mail::SPF and libspf2's spfquery. Then it
# measures knotd's own query rate with dnsperf on the distinct queries the job needs, compares every (domain, IP)
# result with the RFC 7208 oracle, and writes bench/RESULTS.md (and bench/out/N/: zone, results, disagreements.tsv).
# Also: the latency of one single-domain check through a forwarder that delays every answer (bench/latency.py), peak
# RSS over a 100,000-domain run, start-up time (bench/startup.py), and a Targets section computed from this run.
#
# Installs what it needs with apt-get when missing (knot, python3-spf, libmail-spf-perl, spfquery, dnsperf, time).
# Needs root (or sudo) for apt-get and for `unshare -m -n` (libspf2 uses the libc resolver, port 53 only: it runs with
# a second knotd on 127.0.0.1:53 inside a private mount+network namespace with a bind-mounted resolv.conf; the
# machine's /etc/resolv.conf is never edited).
#
# Environment:
#   SENDCHECK_BIN          sendcheck binary (default: build-bench/sendcheck, built Release, brought up to date)
#   BENCH_PEER_DOMAINS     domains given to pyspf and Mail::SPF (default 500: they are slow; a prefix of the list)
#   BENCH_SPFQUERY_DOMAINS domains given to spfquery (default: all N)
#   BENCH_CONCURRENCY      sendcheck --concurrency (default: none given, so sendcheck's own default, 64)
#   BENCH_RUNS             timed runs of sendcheck (both forms) and spfquery; the median run is reported (default 5:
#                          one 0.35 s run varies by about 10% on a shared machine)
#   BENCH_DNSPERF_SECONDS  dnsperf run length (default 10)
#   BENCH_LATENCY_DELAY_MS the forwarder's delay per answer in the latency step (default 20; a run at 0 follows)
#   BENCH_LATENCY_RUNS     timed runs per latency variant (default 9; the median is reported; 0 skips the step)
#   BENCH_MEMORY_N         domains in the peak-RSS run (default 100000; a zone of its own; 0 skips the step)
#   BENCH_STARTUP_RUNS     runs per command in the start-up step (default 200; 0 skips the step)
set -euo pipefail
n=${1:-1000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench="$root/bench"
out="$bench/out/$n"
peer_domains=${BENCH_PEER_DOMAINS:-500}
spfquery_domains=${BENCH_SPFQUERY_DOMAINS:-$n}
# sendcheck runs with its own defaults (--concurrency 64; --jobs: one worker per CPU, at most 4) unless
# BENCH_CONCURRENCY is set.
concurrency_args=()
concurrency_note="sendcheck's default --concurrency and --jobs"
if [ -n "${BENCH_CONCURRENCY:-}" ]; then
  concurrency_args=(--concurrency "$BENCH_CONCURRENCY")
  concurrency_note="--concurrency $BENCH_CONCURRENCY"
fi
throughput_runs=${BENCH_RUNS:-5}
dnsperf_seconds=${BENCH_DNSPERF_SECONDS:-10}
latency_delay=${BENCH_LATENCY_DELAY_MS:-20}
latency_runs=${BENCH_LATENCY_RUNS:-9}
memory_n=${BENCH_MEMORY_N:-100000}
startup_runs=${BENCH_STARTUP_RUNS:-200}
py=/usr/bin/python3 # Debian's python: python3-spf and python3-dnspython live there, not in a pyenv
sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

say() { printf '== %s\n' "$*" >&2; }

# --- 1. what it needs --------------------------------------------------------------------------------------------
missing=()
for pkg in knot python3-spf python3-dnspython libmail-spf-perl libnet-dns-perl spfquery dnsperf time iproute2; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
    { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi

sendcheck=${SENDCHECK_BIN:-$root/build-bench/sendcheck}
if [ -z "${SENDCHECK_BIN:-}" ]; then
  # Built every time (a no-op when up to date), so that the source measured is the source checked out.
  if [ ! -f "$root/build-bench/build.ninja" ]; then
    say "configuring sendcheck (Release) in $root/build-bench"
    cmake -S "$root" -B "$root/build-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSENDCHECK_BUILD_TESTS=OFF \
      -DSENDCHECK_WERROR=OFF >/dev/null
  fi
  say "building sendcheck (Release) in $root/build-bench"
  cmake --build "$root/build-bench" --target sendcheck >/dev/null
fi

# --- 2. the zone and the server ----------------------------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
say "generating $n domains"
$py "$bench/gen_zone.py" "$n" --out "$out" >&2
head -n "$peer_domains" "$out/domains.txt" >"$out/domains-peers.txt"
head -n "$spfquery_domains" "$out/domains.txt" >"$out/domains-spfquery.txt"
peer_n=$(wc -l <"$out/domains-peers.txt")
spfquery_n=$(wc -l <"$out/domains-spfquery.txt")

knot_dir="$out/knot"
stop_knot() { $py "$root/tests/integration/knot/knot_server.py" stop --dir "$knot_dir" >/dev/null 2>&1 || true; }
trap stop_knot EXIT
zone_args=()
while read -r zone; do zone_args+=(--zone "$zone"); done <"$out/zones.txt"
read -r port knot_pid < <($py "$root/tests/integration/knot/knot_server.py" start --dir "$knot_dir" "${zone_args[@]}")
say "knotd on 127.0.0.1:$port (pid $knot_pid)"

{
  echo "date:     $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "machine:  $(uname -srm); $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory:   $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, at start)"
  echo "sendcheck: $("$sendcheck" --version 2>&1 | head -1) ($sendcheck)"
  echo "source:   $(git -C "$root" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' 2>/dev/null || echo '?')$(
    git -C "$root" status --porcelain -- src include CMakeLists.txt 2>/dev/null | grep -q . &&
      echo ' + uncommitted changes in src/include')"
  echo "peers:    python3-spf $(dpkg-query -W -f '${Version}' python3-spf), libmail-spf-perl $(dpkg-query -W -f '${Version}' libmail-spf-perl), spfquery $(dpkg-query -W -f '${Version}' spfquery), knot $(dpkg-query -W -f '${Version}' knot), dnsperf $(dpkg-query -W -f '${Version}' dnsperf)"
} >"$out/machine.txt"

runs="$out/runs.tsv"
: >"$runs"

# --- 3. the tools --------------------------------------------------------------------------------------------------
# sendcheck's JSON -> "domain<TAB>ip<TAB>result" rows.
sendcheck_tsv() {
  $py - "$1" "$2" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for domain in doc.get("domains", []):
        name = domain.get("domain") or ""
        spf = domain.get("spf") or {}
        rows = spf.get("results") or []
        # A domain that does not exist (NXDOMAIN) is reported as "not_found" without per-IP rows; RFC 7208 4.3 calls
        # that result "none", so it is counted as "none" for each IP.
        if not rows and (spf.get("lookup") or {}).get("status") == "nxdomain":
            rows = [{"ip": ip, "result": "none"} for ip in
                    ("90.190.150.210", "90.190.150.211", "90.190.150.212", "90.190.150.213", "90.190.150.82")]
        for row in rows:
            out.write(f"{name}\t{row.get('ip')}\t{row.get('result')}\n")
PY
}
# `--only spf` (SPF alone: the job exactly as the peers do it) when this sendcheck has the option.
has_only=0
"$sendcheck" --help 2>&1 | grep -q -- '--only' && has_only=1

say "sendcheck: $n domains, $throughput_runs runs"
$py "$bench/repeat.py" "$throughput_runs" "$out/sendcheck.time" --stdout "$out/sendcheck.json" \
  --stderr "$out/sendcheck.err" -- "$sendcheck" --json --server "127.0.0.1:$port" "${concurrency_args[@]}" \
  -f "$out/domains.txt" || true
sendcheck_tsv "$out/sendcheck.json" "$out/sendcheck.tsv"
printf 'sendcheck\t%s\t%s\t%s\t%s\t%s\n' "$out/sendcheck.tsv" "$out/sendcheck.time" "$n" "$out/sendcheck.udp" \
  "$concurrency_note; the full check: also DKIM + DMARC per domain" >>"$runs"
if [ "$has_only" = 1 ]; then
  say "sendcheck --only spf: $n domains, $throughput_runs runs"
  $py "$bench/repeat.py" "$throughput_runs" "$out/sendcheck-spf.time" --stdout "$out/sendcheck-spf.json" \
    --stderr "$out/sendcheck-spf.err" -- "$sendcheck" --json --only spf --server "127.0.0.1:$port" \
    "${concurrency_args[@]}" -f "$out/domains.txt" || true
  sendcheck_tsv "$out/sendcheck-spf.json" "$out/sendcheck-spf.tsv"
  printf 'sendcheck --only spf\t%s\t%s\t%s\t%s\t%s\n' "$out/sendcheck-spf.tsv" "$out/sendcheck-spf.time" "$n" \
    "$out/sendcheck-spf.udp" "--json --only spf, $concurrency_note: SPF alone, the peers' job" >>"$runs"
else
  say "sendcheck --help does not list --only: no SPF-only run"
fi

say "pyspf: $peer_n domains"
/usr/bin/time -v -o "$out/pyspf.time" $py "$bench/peers/pyspf_peer.py" "$port" "$out/domains-peers.txt" \
  "$out/pyspf.tsv" "$out/pyspf-queries.txt" 2>"$out/pyspf.err" || true
printf 'pyspf\t%s\t%s\t%s\t-\t%s\n' "$out/pyspf.tsv" "$out/pyspf.time" "$peer_n" \
  "python3-spf + dnspython, sequential$([ "$peer_n" -lt "$n" ] && echo ", first $peer_n domains")" >>"$runs"

say "Mail::SPF: $peer_n domains"
/usr/bin/time -v -o "$out/mailspf.time" perl "$bench/peers/mailspf_peer.pl" "$port" "$out/domains-peers.txt" \
  "$out/mailspf.tsv" 2>"$out/mailspf.err" || true
printf 'Mail::SPF\t%s\t%s\t%s\t-\t%s\n' "$out/mailspf.tsv" "$out/mailspf.time" "$peer_n" \
  "Net::DNS, sequential$([ "$peer_n" -lt "$n" ] && echo ", first $peer_n domains")" >>"$runs"

# libspf2 and the query counts: inside a private mount + network namespace with its own knotd on 127.0.0.1:53.
say "spfquery (libspf2): $spfquery_n domains, in a private network namespace; query counts"
awk '{ for (i = 0; i < 5; i++) print ip[i] " postmaster@" $1 " " $1 }
     BEGIN { split("90.190.150.210 90.190.150.211 90.190.150.212 90.190.150.213 90.190.150.82", a, " ");
             for (i = 0; i < 5; i++) ip[i] = a[i + 1] }' "$out/domains-spfquery.txt" >"$out/spfquery.in"
ns="$out/netns"
mkdir -p "$ns"
spfquery_cmd="--stdout '$out/spfquery.out' --stderr '$out/spfquery.err' -- spfquery -file '$out/spfquery.in'"
spf_only_ns=() paired_ns=()
if [ "$has_only" = 1 ]; then
  spf_only_ns=(sendcheck-spf
    "'$sendcheck' --json --only spf --server 127.0.0.1:53 ${concurrency_args[*]} -f '$out/domains.txt'")
  # The ratio to libspf2, measured in alternation against this one server (bench/interleave.py): each tool's
  # output goes to a file, as in the runs above.
  paired_ns=(paired "/usr/bin/python3 '$bench/interleave.py' $throughput_runs '$out' \
    spfquery-paired \"--stdout '$out/spfquery-paired.out' -- spfquery -file '$out/spfquery.in'\" \
    sendcheck-spf-paired \"--stdout '$out/sendcheck-spf-paired.json' -- '$sendcheck' --json --only spf \
      --server 127.0.0.1:53 ${concurrency_args[*]} -f '$out/domains.txt'\"")
fi
$sudo unshare -m -n bash "$bench/peers/netns_run.sh" "$ns" "$out" -- \
  "spfquery:$throughput_runs" "$spfquery_cmd" \
  sendcheck "'$sendcheck' --json --server 127.0.0.1:53 ${concurrency_args[*]} -f '$out/domains.txt'" \
  "${spf_only_ns[@]}" "${paired_ns[@]}" || say "namespace run failed (spfquery skipped)"
cp "$ns/spfquery.time" "$ns/spfquery.time.runs" "$out/" 2>/dev/null || true
for name in spfquery sendcheck sendcheck-spf; do
  cp "$ns/$name.udp" "$out/$name.udp" 2>/dev/null || true
done
# spfquery prints four lines per query (result, SMTP comment, header comment, Received-SPF), in input order, with
# "StartError ... EndError" blocks in between; a record it cannot compile gives the result "(invalid)".
$py - "$out/spfquery.in" "$out/spfquery.out" "$out/spfquery.tsv" <<'PY'
import sys
queries = [line.split() for line in open(sys.argv[1], encoding="utf-8")]
lines, skipping = [], False
for line in open(sys.argv[2], encoding="utf-8", errors="replace"):
    line = line.rstrip("\n")
    if line == "StartError":
        skipping = True
    elif line == "EndError":
        skipping = False
    elif not skipping:
        lines.append(line)
with open(sys.argv[3], "w", encoding="utf-8") as out:
    for (ip, _, domain), result in zip(queries, lines[0::4]):
        out.write(f"{domain}\t{ip}\t{result}\n")
PY
printf 'spfquery (libspf2)\t%s\t%s\t%s\t%s\t%s\n' "$out/spfquery.tsv" "$out/spfquery.time" "$spfquery_n" \
  "$out/spfquery.udp" "one process, -file input, libc resolver$([ "$spfquery_n" -lt "$n" ] && echo ", first $spfquery_n domains")" >>"$runs"

# --- 4. the ceiling ------------------------------------------------------------------------------------------------
say "dnsperf: $(wc -l <"$out/queries.txt") distinct queries, ${dnsperf_seconds}s"
# knotd's own CPU time (utime + stime, clock ticks: fields 14 and 15 of /proc/PID/stat) around the dnsperf run.
knot_ticks() { awk '{ print $14 + $15 }' "/proc/$knot_pid/stat" 2>/dev/null || echo 0; }
ticks0=$(knot_ticks)
/usr/bin/time -v -o "$out/dnsperf.time" dnsperf -s 127.0.0.1 -p "$port" -d "$out/queries.txt" -l "$dnsperf_seconds" \
  -c 4 -q 256 -T 1 >"$out/dnsperf.txt" 2>&1 || true
echo "$ticks0 $(knot_ticks) $(getconf CLK_TCK)" >"$out/knot-cpu.txt"

# --- 5. latency: one domain, every DNS answer delayed ---------------------------------------------------------------
if [ "$latency_runs" -gt 0 ]; then
  delays=$latency_delay
  [ "$latency_delay" != 0 ] && delays="$latency_delay,0"
  say "latency: $(sed -n 's/.*"domain": "\(.*\)".*/\1/p' "$out/latency.json") through a forwarder, delays $delays ms"
  $py "$bench/latency.py" "$out" "$port" "$sendcheck" --runs "$latency_runs" --delays "$delays" ||
    say "latency step failed"
fi

stop_knot
trap - EXIT

# --- 6. memory: peak RSS over BENCH_MEMORY_N domains ---------------------------------------------------------------
if [ "$memory_n" -gt 0 ]; then
  mem="$bench/out/memory-$memory_n"
  if [ ! -s "$mem/domains.txt" ] || [ "$mem/domains.txt" -ot "$bench/gen_zone.py" ]; then
    say "memory: generating $memory_n domains (once; kept in $mem)"
    rm -rf "$mem"
    mkdir -p "$mem"
    $py "$bench/gen_zone.py" "$memory_n" --out "$mem" >&2
  fi
  mem_knot="$mem/knot"
  stop_mem_knot() { $py "$root/tests/integration/knot/knot_server.py" stop --dir "$mem_knot" >/dev/null 2>&1 || true; }
  trap stop_mem_knot EXIT
  mem_zone_args=()
  while read -r zone; do mem_zone_args+=(--zone "$zone"); done <"$mem/zones.txt"
  read -r mem_port _ < <($py "$root/tests/integration/knot/knot_server.py" start --dir "$mem_knot" "${mem_zone_args[@]}")
  say "memory: sendcheck --json over $memory_n domains (knotd on 127.0.0.1:$mem_port)"
  # The JSON goes through a pipe (only its end is kept: the summary says how many domains were reported).
  /usr/bin/time -v -o "$out/memory.time" "$sendcheck" --json --server "127.0.0.1:$mem_port" \
    "${concurrency_args[@]}" -f "$mem/domains.txt" 2>"$out/memory.err" | tail -c 4096 >"$out/memory.tail" || true
  echo "$memory_n" >"$out/memory.n"
  stop_mem_knot
  trap - EXIT
fi

# --- 7. start-up ----------------------------------------------------------------------------------------------------
if [ "$startup_runs" -gt 0 ]; then
  say "start-up: --version and one --offline --zone check, $startup_runs runs each"
  $py "$bench/startup.py" "$out/startup.tsv" "$sendcheck" "$root/examples/demo.zone" good-shop.example \
    --runs "$startup_runs" || say "start-up step failed"
fi

# --- 8. the report -------------------------------------------------------------------------------------------------
$py "$bench/compare.py" "$out" "$bench/RESULTS.md"
say "wrote $bench/RESULTS.md; every disagreeing row: $out/disagreements.tsv"
