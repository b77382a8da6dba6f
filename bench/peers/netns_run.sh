#!/usr/bin/env bash
# Runs inside a private mount + network namespace (bench/run.sh starts it with `unshare -m -n`):
# brings up loopback, bind-mounts a private resolv.conf (nameserver 127.0.0.1) over /etc/resolv.conf -- in this
# namespace only; the machine's file is never touched -- and starts a second knotd on 127.0.0.1:53 for the same zones.
# Then, for each "NAME[:RUNS] COMMAND" pair given after --, runs COMMAND RUNS times (default 1) with
# bench/repeat.py and records the UDP datagrams the namespace sent per run (from /proc/net/snmp, which is per network
# namespace): a query and its answer are two datagrams, so queries = (OutDatagrams delta) / 2 as long as every query
# is answered over UDP. COMMAND is what follows RUNS TIMEFILE on repeat.py's command line, as one string of shell
# words (`[--stdout FILE] [--stderr FILE] [--] PROGRAM [ARG...]`): no shell and no redirection is timed.
# Usage: netns_run.sh WORKDIR ZONEDIR -- NAME[:RUNS] 'COMMAND' [NAME[:RUNS] 'COMMAND']...
# Writes WORKDIR/NAME.time (the median run, in time -v's format), NAME.time.runs and WORKDIR/NAME.udp (datagrams
# sent, received, per run).
set -euo pipefail
work=$1 zones=$2
shift 2
[ "${1:-}" = "--" ] && shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
knotdir="$work/knot53"

ip link set lo up
printf 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n' >"$work/resolv.conf"
mount --bind "$work/resolv.conf" /etc/resolv.conf

cleanup() { /usr/bin/python3 "$root/tests/integration/knot/knot_server.py" stop --dir "$knotdir" || true; }
trap cleanup EXIT
rm -rf "$knotdir"
# knot_server.py picks a free port; the libc resolver only knows port 53, so pin it.
/usr/bin/python3 - "$root/tests/integration/knot" "$knotdir" "$zones" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import knot_server
knot_server.free_port = lambda: 53
zones = [knot_server.parse_zone_argument(line.strip()) for line in open(f"{sys.argv[3]}/zones.txt") if line.strip()]
port, pid = knot_server.start(zones, sys.argv[2])
print(f"netns: knotd on 127.0.0.1:{port} (pid {pid})", file=sys.stderr)
PY

udp() { awk '/^Udp:/ { if (++n == 2) print $5, $2 }' /proc/net/snmp; }
while [ $# -ge 2 ]; do
  name=${1%%:*} cmd=$2 runs=1
  [ "$1" != "$name" ] && runs=${1#*:}
  shift 2
  read -r out0 in0 < <(udp)
  eval "words=($cmd)"
  /usr/bin/python3 "$root/bench/repeat.py" "$runs" "$work/$name.time" "${words[@]}" ||
    echo "netns: $name exited with $?" >&2
  read -r out1 in1 < <(udp)
  echo "$(((out1 - out0) / runs)) $(((in1 - in0) / runs))" >"$work/$name.udp"
done
