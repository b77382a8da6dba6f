#!/usr/bin/env bash
# Usage: check_bash_completion.sh COMPLETION_FILE [--without-helpers]
# Loads the bash completion in a non-interactive bash (with the bash-completion package's helpers when they are
# installed, as an interactive shell would have them, unless --without-helpers) and checks the replies for typical
# command lines.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
completion=$1
with_helpers=yes
[ "${2:-}" = --without-helpers ] && with_helpers=no
[ -f "$completion" ] || fail "no completion file at $completion"

# complete_words WORD...: sets COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT for the words (the last one is being
# completed), calls the function registered for sendcheck, and prints COMPREPLY one a line.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE="${COMP_WORDS[*]}"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "$function" sendcheck "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}"
}

# expect_reply DESCRIPTION EXPECTED WORD...: the replies for WORD... include EXPECTED.
expect_reply() {
  local description=$1 expected=$2
  shift 2
  local replies
  replies=$(complete_words "$@")
  grep -qxF -- "$expected" <<<"$replies" || fail "$description: '$*' does not offer '$expected'; replies: [$replies]"
  echo "ok: $description"
}

# expect_exactly DESCRIPTION EXPECTED WORD...: the replies for WORD..., sorted and joined by spaces, are EXPECTED.
expect_exactly() {
  local description=$1 expected=$2
  shift 2
  local replies
  replies=$(complete_words "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$replies" = "$expected" ] || fail "$description: '$*' offers [$replies], expected [$expected]"
  echo "ok: $description"
}

for helpers in /usr/share/bash-completion/bash_completion; do
  if [ $with_helpers = yes ] && [ -f "$helpers" ]; then
    # bash_completion expects an interactive shell's settings; it is sourced here only for its helpers.
    # shellcheck disable=SC1090
    source "$helpers" || fail "cannot source $helpers"
    echo "note: using the helpers of $helpers"
  fi
done
# shellcheck disable=SC1090
source "$completion" || fail "cannot source $completion"
function=$(complete -p sendcheck 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')
[ -n "$function" ] || fail "$completion registers no completion function for sendcheck"

expect_exactly "--su offers --suggest and --suggest=" "--suggest --suggest=" sendcheck --su
expect_reply "--suggest is offered" --suggest sendcheck --su
expect_exactly "--suggest= offers the modes" "record zone" sendcheck --suggest = ""
expect_exactly "--suggest=z completes the mode" "zone" sendcheck --suggest = z
expect_exactly "--js offers --json and --json=" "--json --json=" sendcheck --js
expect_exactly "--json= offers the forms" "indented lines" sendcheck --json = ""
expect_exactly "--json=l completes the form" "lines" sendcheck --json = l
expect_exactly "--color offers its values" "always auto never" sendcheck --color ""
expect_exactly "--color=al completes" "always" sendcheck --color = al
expect_exactly "--ip-style offers its values" "a auto ip4" sendcheck --ip-style ""
expect_exactly "--format offers its values" "cidr json nftables plain postfix" sendcheck --format ""
expect_exactly "--server offers nothing" "" sendcheck --server ""
expect_exactly "a domain argument offers nothing" "" sendcheck example.ee --json ex
expect_reply "--no-b completes" --no-bulk sendcheck example.ee --no-b
expect_reply "-- lists --offline" --offline sendcheck --

# Files: -f, --file and --zone complete file names in the current directory.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
touch "$work/domains.txt" "$work/demo.zone" "$work/other.txt"
mkdir "$work/zones"
cd "$work" || fail "cannot enter $work"
expect_reply "-f completes a file" domains.txt sendcheck -f ""
expect_reply "-f offers - (standard input)" - sendcheck -f ""
expect_reply "-f d completes a file" domains.txt sendcheck -f d
expect_reply "--file completes a file" other.txt sendcheck --file o
expect_reply "--zone completes a file" demo.zone sendcheck --zone de
expect_reply "--zone completes a directory" zones sendcheck --zone zo
replies=$(complete_words sendcheck -f d)
if grep -qx other.txt <<<"$replies"; then
  fail "-f d offers other.txt"
fi
echo "ok: file replies match the typed prefix"
