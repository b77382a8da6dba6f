#!/usr/bin/env bash
# Usage: check_deb.sh BUILD_DIR
# Builds the Debian package with `cpack -G DEB` (into a temporary directory), checks its control fields and
# contents, unpacks it and runs the packaged binary (its runtime libraries are system ones).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
build=$1
command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
[ -f "$build/CPackConfig.cmake" ] || fail "no CPackConfig.cmake in $build (is cmake/Packaging.cmake included?)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

output=$(cd "$build" && cpack -G DEB -B "$work/out" 2>&1) || fail "cpack -G DEB failed:"$'\n'"$output"
shopt -s nullglob
debs=("$work"/out/sendcheck_*.deb)
[ ${#debs[@]} -eq 1 ] || fail "expected one sendcheck_*.deb, found: ${debs[*]:-none}"$'\n'"$output"
deb=${debs[0]}
echo "ok: cpack built $(basename "$deb")"

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = sendcheck ] || fail "Package is '$(field Package)'"
[ "$(field Section)" = net ] || fail "Section is '$(field Section)'"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
[ -n "$(field Description)" ] || fail "no Description"
binary_version=$("$build/sendcheck" --version | head -1 | awk '{print $2}')
case $(field Version) in
  "$binary_version" | "$binary_version"-*) ;;
  *) fail "package Version '$(field Version)' is not the binary's version $binary_version" ;;
esac
depends=$(field Depends)
libraries=(libc-ares2 libssl3 libidn2-0 libpsl5 libfmt9 libzscanner4)
# mimalloc when the binary is linked with it (SENDCHECK_MIMALLOC, the default outside sanitizer builds)
readelf -d "$build/sendcheck" | grep -q 'libmimalloc\.so' && libraries+=(libmimalloc2.0)
for library in "${libraries[@]}"; do
  grep -qE "(^|, )$library( |,|$)" <<<"$depends" || fail "Depends lacks $library: $depends"
done
echo "ok: control fields (Package sendcheck, Version $(field Version), Section net, Depends: $depends)"

# Contents.
listing=$(dpkg-deb -c "$deb")
for file in ./usr/bin/sendcheck ./usr/share/man/man1/sendcheck.1 ./usr/share/bash-completion/completions/sendcheck \
  ./usr/share/zsh/vendor-completions/_sendcheck ./usr/share/fish/vendor_completions.d/sendcheck.fish; do
  grep -qE " $file\$" <<<"$listing" || fail "the package does not hold $file:"$'\n'"$listing"
done
echo "ok: the package holds the binary, the man page and the three completions"

# The packaged binary runs with the system's libraries.
dpkg-deb -x "$deb" "$work/root"
version=$(env -u LD_LIBRARY_PATH "$work/root/usr/bin/sendcheck" --version) || fail "the packaged binary failed: $version"
head -1 <<<"$version" | grep -qx "sendcheck $binary_version" || fail "the packaged binary says: $version"
grep -q '^c-ares ' <<<"$version" || fail "--version names no c-ares version: $version"
grep -q '^OpenSSL ' <<<"$version" || fail "--version names no OpenSSL version: $version"
if command -v file >/dev/null; then
  file "$work/root/usr/bin/sendcheck" | grep -q 'not stripped' && fail "the packaged binary is not stripped"
fi
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$work/root/usr/share/man/man1/sendcheck.1" | grep -q '^NAME' \
    || fail "man -l cannot show the packaged man page"
fi
echo "ok: the packaged binary runs (sendcheck $binary_version) and its man page renders"
