#!/usr/bin/env bash
# Usage: check_man_page.sh MAN_PAGE SENDCHECK_BINARY
# The man page renders without a warning, `man -l` shows it, it names every long option of `--help`, and its
# version is the binary's.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
page=$1
binary=$2
[ -f "$page" ] || fail "no man page at $page"
command -v groff >/dev/null || skip "groff is not installed (Debian package groff-base)"

warnings=$(groff -man -ww -z "$page" 2>&1) || fail "groff exited with an error: $warnings"
[ -z "$warnings" ] || fail "groff warns about $page:"$'\n'"$warnings"
echo "ok: groff -man -ww -z prints nothing"

if command -v man >/dev/null; then
  rendered=$(MANWIDTH=80 man -l "$page" 2>&1) || fail "man -l $page failed: $rendered"
  for section in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES; do
    grep -qx "$section" <<<"$rendered" || fail "man -l shows no $section section"
  done
  echo "ok: man -l renders every section"
fi

# The source with roff's \- turned into '-', so that "\-\-json" reads "--json".
source_text=$(sed 's/\\-/-/g' "$page")
missing=()
while read -r option; do
  grep -qE -- "(^|[^a-z0-9-])${option}([^a-z0-9-]|$)" <<<"$source_text" || missing+=("$option")
done < <(long_options "$binary")
[ ${#missing[@]} -eq 0 ] || fail "options of --help missing from the man page: ${missing[*]}"
echo "ok: every long option of --help is in the man page ($(long_options "$binary" | wc -l) options)"

# Each option the man page describes in OPTIONS (.BI/.BR/.B lines starting an item) must exist in --help.
documented=$(grep -A1 '^\.TP' "$page" | sed 's/\\-/-/g' | grep -oE -- '^\.[BIR]+ --[a-z][a-z0-9-]*' \
  | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
help_options=$(long_options "$binary")
stale=$(comm -23 <(echo "$documented") <(echo "$help_options"))
[ -z "$stale" ] || fail "the man page documents options --help does not know: $stale"
echo "ok: the man page documents no option that --help lacks"

version=$("$binary" --version | head -1 | awk '{print $2}')
grep -q "^\.TH SENDCHECK 1 .*\"sendcheck $version\"" "$page" \
  || fail "the man page's .TH line does not say version $version: $(grep '^\.TH' "$page")"
echo "ok: the man page is for version $version"
