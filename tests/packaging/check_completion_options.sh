#!/usr/bin/env bash
# Usage: check_completion_options.sh SENDCHECK_BINARY BASH_FILE ZSH_FILE FISH_FILE
# Every long option of `sendcheck --help` is offered by each of the three completion files, so they cannot drift
# apart from the command line.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
binary=$1
bash_file=$2
zsh_file=$3
fish_file=$4
for file in "$bash_file" "$zsh_file" "$fish_file"; do
  [ -f "$file" ] || fail "no completion file at $file"
done

options=$(long_options "$binary")
[ -n "$options" ] || fail "$binary --help names no long option"
missing=()
while read -r option; do
  name=${option#--}
  # bash and zsh spell the option out; fish declares it as `-l name`.
  grep -qE -- "(^|[^a-z0-9-])${option}([^a-z0-9-]|$)" "$bash_file" || missing+=("bash:$option")
  grep -qE -- "(^|[^a-z0-9-])${option}([^a-z0-9-]|$)" "$zsh_file" || missing+=("zsh:$option")
  grep -qE -- "(^| )-l ${name}( |$)" "$fish_file" || missing+=("fish:$option")
done <<<"$options"
[ ${#missing[@]} -eq 0 ] || fail "options of --help missing from the completions: ${missing[*]}"
echo "ok: the bash, zsh and fish completions offer all $(wc -l <<<"$options") long options of --help"
