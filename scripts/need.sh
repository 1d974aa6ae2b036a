#!/usr/bin/env bash
# Installs each Debian package named that is missing, e.g. `scripts/need.sh pgbouncer
# chromium` (what `make test` needs beyond PostgreSQL and Redis). Says nothing when all are
# there; stops with a message saying what to install when it cannot install them itself
# (no dpkg or apt-get, or not root).
#
# One need is no Debian package: `vnu`, the Nu HTML Checker (npm's vnu-jar, pinned here),
# installed under var/vnu/ and run with Java; Java (and npm) come from Debian when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VNU_VERSION=26.9.27
VNU_JAR=var/vnu/node_modules/vnu-jar/build/dist/vnu.jar

packages=()
vnu=false
for need in "$@"; do
  if [ "$need" = vnu ]; then
    vnu=true
    command -v java >/dev/null || packages+=(default-jre-headless)
    [ -f "$VNU_JAR" ] || command -v npm >/dev/null || packages+=(npm)
  else
    packages+=("$need")
  fi
done

install_vnu() {
  [ -f "$VNU_JAR" ] && return 0
  echo "need.sh: installing vnu-jar@$VNU_VERSION under var/vnu"
  # --ignore-scripts: its postinstall would download a Java of its own; ours is Debian's.
  if ! npm install --prefix var/vnu --ignore-scripts --no-audit --no-fund --silent \
    "vnu-jar@$VNU_VERSION" || [ ! -f "$VNU_JAR" ]; then
    echo "need.sh: could not install vnu-jar@$VNU_VERSION with npm (see its message above)." >&2
    exit 1
  fi
}

missing=()
if command -v dpkg-query >/dev/null; then
  for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    [ "$status" = "install ok installed" ] || missing+=("$package")
  done
else
  echo "need.sh: this is not a Debian system; install these yourself: $*" >&2
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  if $vnu; then install_vnu; fi
  exit 0
fi

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
if $vnu; then install_vnu; fi
