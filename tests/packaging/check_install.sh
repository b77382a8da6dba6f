#!/usr/bin/env bash
# Usage: check_install.sh BUILD_DIR
# `cmake --install` into a temporary prefix puts the binary, the man page and the three completions where the
# shells and man look for them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build=$1
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT

output=$(cmake --install "$build" --prefix "$prefix" 2>&1) || fail "cmake --install failed:"$'\n'"$output"
for file in bin/sendcheck share/man/man1/sendcheck.1 share/bash-completion/completions/sendcheck \
  share/zsh/vendor-completions/_sendcheck share/fish/vendor_completions.d/sendcheck.fish; do
  [ -f "$prefix/$file" ] || fail "cmake --install did not install $file; installed:"$'\n'"$(cd "$prefix" && find . -type f)"
done
[ -x "$prefix/bin/sendcheck" ] || fail "bin/sendcheck is not executable"
"$prefix/bin/sendcheck" --version | head -1 | grep -qE '^sendcheck [0-9]+\.[0-9]+\.[0-9]+$' \
  || fail "the installed binary's --version does not start with 'sendcheck X.Y.Z'"
unexpected=$(cd "$prefix" && find . -type f | sort | grep -vxF -e ./bin/sendcheck -e ./share/man/man1/sendcheck.1 \
  -e ./share/bash-completion/completions/sendcheck -e ./share/zsh/vendor-completions/_sendcheck \
  -e ./share/fish/vendor_completions.d/sendcheck.fish || true)
[ -z "$unexpected" ] || fail "cmake --install installed unexpected files: $unexpected"
echo "ok: cmake --install installs exactly the binary, the man page and the three completions"
