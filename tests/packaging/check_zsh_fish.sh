#!/usr/bin/env bash
# Usage: check_zsh_fish.sh ZSH_FILE FISH_FILE
# Syntax checks of the zsh and fish completions, and fish's replies for a few command lines. Each shell is checked
# only when it is installed (neither is a dependency); with neither installed the test is skipped (exit 77).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
zsh_file=$1
fish_file=$2
checked=0

if command -v zsh >/dev/null; then
  head -1 "$zsh_file" | grep -qx '#compdef sendcheck' || fail "$zsh_file does not start with '#compdef sendcheck'"
  output=$(zsh -n "$zsh_file" 2>&1) || fail "zsh -n $zsh_file: $output"
  echo "ok: zsh -n accepts $zsh_file"
  # Completion in an interactive zsh on a pseudo-terminal: LINE<TAB> must show EXPECTED (within 30 seconds).
  zsh_dir=$(cd "$(dirname "$zsh_file")" && pwd)
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  files=$(mktemp -d)
  touch "$files/domains.txt"
  for case in "sendcheck --form|--format" "sendcheck --format=|nftables" "sendcheck --color=|always" \
    "sendcheck --ip-style=|ip4" "sendcheck --suggest=|zone" "sendcheck --show-p|--show-profile" \
    "sendcheck -f dom|domains.txt"; do
    line=${case%%|*}
    expected=${case#*|}
    (cd "$files" && timeout 30 zsh -f "$here/zsh_complete.zsh" "$zsh_dir" "$line" \
      "$expected" >/dev/null 2>&1) || { rm -rf "$files"; fail "zsh does not offer '$expected' for '$line'"; }
    echo "ok: zsh completes '$line' with '$expected'"
  done
  rm -rf "$files"
  checked=$((checked + 1))
else
  echo "note: zsh is not installed; $zsh_file not checked"
fi

if command -v fish >/dev/null; then
  output=$(fish --no-execute "$fish_file" 2>&1) || fail "fish --no-execute $fish_file: $output"
  echo "ok: fish --no-execute accepts $fish_file"
  # fish_replies LINE: the candidates (without descriptions) fish offers for the command line LINE.
  fish_replies() {
    HOME=$(mktemp -d) fish --no-config -c "source '$fish_file'; complete -C'$1'" | cut -f1 | sort | tr '\n' ' '
  }
  for case in "sendcheck --su|--suggest " "sendcheck --suggest=|--suggest=record --suggest=zone " \
    "sendcheck --color |always auto never " "sendcheck --format=n|--format=nftables " \
    "sendcheck --ip-style |a auto ip4 "; do
    line=${case%%|*}
    expected=${case#*|}
    replies=$(fish_replies "$line")
    [ "$replies" = "$expected" ] || fail "fish offers [$replies] for '$line', expected [$expected]"
    echo "ok: fish completes '$line'"
  done
  checked=$((checked + 1))
else
  echo "note: fish is not installed; $fish_file not checked"
fi

[ $checked -gt 0 ] || skip "neither zsh nor fish is installed"
