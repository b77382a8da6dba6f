#!/bin/bash
# Self-test of knot.sh: knot_start/knot_stop and the EXIT trap.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
zone="$here/../../zones/knot-test.zone"

# In a subshell that fails: the trap must stop knotd.
pid_file="$(mktemp)"
(
  source "$here/knot.sh"
  knot_start "$zone:knot.test"
  echo "$KNOT_PID $KNOT_DIR" >"$pid_file"
  python3 -c "import sys; sys.path.insert(0, '$here'); import knot_server; sys.exit(0 if knot_server.soa_query('knot.test.', $KNOT_PORT) else 1)"
  false
) && { echo "FAIL: the subshell should have failed"; exit 1; }
read -r pid dir <"$pid_file"
rm -f "$pid_file"
sleep 0.2
if [[ -d "$dir" ]]; then
  echo "FAIL: $dir still exists"
  exit 1
fi
state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo gone)"
if [[ "$state" != "gone" && "$state" != "Z" ]]; then
  echo "FAIL: knotd $pid still runs after the failing test"
  exit 1
fi
echo "ok: knot.sh stops knotd when the test fails"
