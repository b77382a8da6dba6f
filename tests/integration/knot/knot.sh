# Bash helpers for integration tests that need knotd. Source this file, then:
#
#   knot_start ZONE_FILE[:ORIGIN]...   starts knotd in a fresh temporary directory; sets KNOT_PORT, KNOT_PID,
#                                      KNOT_DIR and KNOT_SERVER (127.0.0.1:PORT); installs an EXIT trap that stops it
#                                      even when the test fails or is interrupted
#   knot_stop                          stops it now (by PID) and removes the directory
#
# Example:
#   source tests/integration/knot/knot.sh
#   knot_start tests/zones/knot-test.zone:knot.test
#   ./build/sendcheck --server "$KNOT_SERVER" knot.test

KNOT_HARNESS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/knot_server.py"

knot_start() {
  local zone_args=() zone
  for zone in "$@"; do
    zone_args+=(--zone "$zone")
  done
  KNOT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sendcheck-knot-XXXXXX")" || return 1
  trap knot_stop EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local out
  if ! out="$(python3 "$KNOT_HARNESS" start "${zone_args[@]}" --dir "$KNOT_DIR")"; then
    echo "knot_start: knotd did not start; log in $KNOT_DIR/knotd.log" >&2
    return 1
  fi
  read -r KNOT_PORT KNOT_PID <<<"$out"
  KNOT_SERVER="127.0.0.1:$KNOT_PORT"
  export KNOT_PORT KNOT_PID KNOT_DIR KNOT_SERVER
}

knot_stop() {
  if [[ -n "${KNOT_DIR:-}" && -d "$KNOT_DIR" ]]; then
    python3 "$KNOT_HARNESS" stop --dir "$KNOT_DIR"
    rm -rf "$KNOT_DIR"
  fi
  KNOT_DIR=""
}
