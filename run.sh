#!/usr/bin/env bash
# Usage: ./run.sh [sendcheck options] DOMAIN...
# Installs what is missing (Debian 12), builds when the sources changed, then runs sendcheck with the arguments.
set -euo pipefail
SENDCHECK_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$SENDCHECK_ROOT/scripts/setup.sh"

sendcheck_install_packages "${SENDCHECK_BUILD_PACKAGES[@]}"
sendcheck_build "$SENDCHECK_ROOT/build"
exec "$SENDCHECK_ROOT/build/sendcheck" "$@"
