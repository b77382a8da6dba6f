# Shared helpers of the packaging tests. Sourced, not executed.

# fail MESSAGE...: prints the message and exits 1.
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# skip MESSAGE...: prints why and exits 77 (CTest SKIP_RETURN_CODE).
skip() {
  echo "SKIP: $*"
  exit 77
}

# long_options BINARY: every long option named in `BINARY --help`, one a line, sorted, without duplicates.
long_options() {
  local help
  help=$("$1" --help) || fail "$1 --help exited with status $?"
  grep -oE -- '--[a-z][a-z0-9-]*' <<<"$help" | sort -u
}
