#!/usr/bin/env bash
# Makes sure the programs the tests drive for real are installed.
#
#   scripts/test-deps.sh redis-server nginx caddy chromium
#
# A missing program is installed from the OS packages when possible
# (apt-get, as root or with sudo). If it is still missing: with CI set,
# this fails loudly; otherwise it warns, and the tests that need it skip
# with a message naming it.
set -euo pipefail

command -v go >/dev/null || { echo "test-deps: Go is required (https://go.dev/dl/)" >&2; exit 1; }

# have reports whether a dependency is present: a program on PATH, or
# pyjwt, the Python JWT library (Debian's python3-jwt) that the assertion
# test verifies with.
have() {
  case "$1" in
    pyjwt) /usr/bin/python3 -c 'import jwt' >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}

missing=()
for tool in "$@"; do
  have "$tool" || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Debian package names for each program.
pkg_for() {
  case "$1" in
    redis-server) echo redis-server ;;
    redis-cli) echo redis-tools ;;
    chromium) echo chromium ;;
    node) echo nodejs ;;
    pyjwt) echo python3-jwt ;;
    *) echo "$1" ;;
  esac
}

if command -v apt-get >/dev/null 2>&1; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo -n"
  pkgs=$(for t in "${missing[@]}"; do pkg_for "$t"; done | sort -u | tr '\n' ' ')
  echo "test-deps: installing $pkgs" >&2
  if ! { $sudo apt-get install -y -q --no-install-recommends $pkgs >/dev/null ||
         { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends $pkgs >/dev/null; }; }; then
    echo "test-deps: could not install $pkgs" >&2
  fi
fi

still=()
for tool in "${missing[@]}"; do
  have "$tool" || still+=("$tool")
done
[ ${#still[@]} -eq 0 ] && exit 0
if [ -n "${CI:-}" ]; then
  echo "test-deps: FAIL: missing ${still[*]} and CI is set; install them (Debian: apt-get install $(for t in "${still[@]}"; do pkg_for "$t"; done | tr '\n' ' '))" >&2
  exit 1
fi
echo "test-deps: WARNING: missing ${still[*]}; the tests that need them will be skipped" >&2
