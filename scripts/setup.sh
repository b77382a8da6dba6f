# Shared set-up for run.sh and test.sh: installs missing Debian packages, then configures and builds.
# Sourced, not executed. Build output goes to stderr so that stdout belongs to sendcheck.

# Packages needed to build and run sendcheck.
SENDCHECK_BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libc-ares-dev libssl-dev libcli11-dev libfmt-dev
  nlohmann-json3-dev libidn2-dev libpsl-dev libknot-dev doctest-dev libyaml-cpp-dev libmimalloc-dev)
# Packages needed only by the tests: a real DNS server, the fuzzing compiler, a DNS toolkit for the hostile server.
SENDCHECK_TEST_PACKAGES=(knot clang libclang-rt-14-dev python3 python3-dnspython python3-jsonschema groff-base man-db bash-completion dpkg-dev)

sendcheck_missing_packages() {
  local package missing=()
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$package")
    fi
  done
  echo "${missing[@]}"
}

# sendcheck_install_packages PACKAGE...: installs the missing ones (as root) or says how and exits 2.
sendcheck_install_packages() {
  local missing
  missing=$(sendcheck_missing_packages "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "sendcheck needs these Debian packages: $missing" >&2
    echo "Install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y $missing" >&2
    exit 2
  fi
  echo "Installing: $missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing; } >&2 || {
    echo "apt-get failed to install: $missing" >&2
    exit 2
  }
}

# sendcheck_build BUILD_DIR [CMAKE_ARGS...]: configures when needed and builds, quietly unless it fails.
sendcheck_build() {
  local dir=$1
  shift
  local log="$dir/build.log"
  mkdir -p "$dir"
  if [ ! -f "$dir/build.ninja" ]; then
    if ! cmake -S "$SENDCHECK_ROOT" -B "$dir" -G Ninja -DSENDCHECK_WERROR=ON "$@" >"$log" 2>&1; then
      cat "$log" >&2
      echo "cmake configure failed (log: $log)" >&2
      exit 2
    fi
  fi
  if ! cmake --build "$dir" >"$log" 2>&1; then
    cat "$log" >&2
    echo "build failed (log: $log)" >&2
    exit 2
  fi
}
