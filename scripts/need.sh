#!/usr/bin/env bash
# Installs each Debian package named that is missing, e.g. `scripts/need.sh pgbouncer
# chromium` (what `make test` needs beyond PostgreSQL and Redis). Says nothing when all are
# there; stops with a message saying what to install when it cannot install them itself
# (no dpkg or apt-get, or not root).
set -euo pipefail

missing=()
if command -v dpkg-query >/dev/null; then
  for package in "$@"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
else
  echo "need.sh: this is not a Debian system; install these yourself: $*" >&2
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "need.sh: missing ${missing[*]}, and there is no apt-get to install them." >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "need.sh: missing ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "need.sh: installing ${missing[*]}"
# A fresh container has no package lists yet.
if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
  echo "need.sh: could not install ${missing[*]} (see apt-get's message above)." >&2
  exit 1
fi
