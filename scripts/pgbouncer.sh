#!/usr/bin/env bash
# Prints the path of a PgBouncer that keeps prepared statements in transaction pooling
# (1.22 or later), as docker-compose.yml's image does, for `make bench`'s load run.
#
# That is the installed one when it is new enough. Debian bookworm's package is 1.18,
# which does not keep them; then this builds PgBouncer 1.24.1 from the source Debian
# trixie ships (its checksum pinned here) under var/pgbouncer/, once, and prints that.
# The build needs a C compiler, libevent and OpenSSL's headers: installed from Debian's
# packages when missing (scripts/need.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=1.24.1
SOURCE=pgbouncer_$VERSION.orig.tar.gz
SOURCE_URL=http://deb.debian.org/debian/pool/main/p/pgbouncer/$SOURCE
SOURCE_SHA256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
BUILT=var/pgbouncer/bin/pgbouncer

keeps_prepared() {
  # "PgBouncer 1.18.0" → is 1.18.0 at least 1.22?
  local version
  version=$("$1" --version 2>/dev/null | head -1 | cut -d' ' -f2) || return 1
  [ -n "$version" ] && [ "$(printf '%s\n1.22\n' "$version" | sort -V | head -1)" = 1.22 ]
}

installed=${PGBOUNCER:-/usr/sbin/pgbouncer}
for candidate in "$installed" "$PWD/$BUILT"; do
  if [ -x "$candidate" ] && keeps_prepared "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done

echo "pgbouncer.sh: building PgBouncer $VERSION under var/pgbouncer (the installed one" \
  "does not keep prepared statements)" >&2
scripts/need.sh gcc make pkg-config libevent-dev libssl-dev >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
curl -fsSL "$SOURCE_URL" -o "$work/$SOURCE"
echo "$SOURCE_SHA256  $work/$SOURCE" | sha256sum --check --quiet
tar -xzf "$work/$SOURCE" -C "$work"
(
  cd "$work/pgbouncer-$VERSION"
  ./configure --prefix="$OLDPWD/var/pgbouncer" --without-cares --without-pam \
    --without-systemd >"$work/build.log" 2>&1 &&
    make -j"$(nproc)" >>"$work/build.log" 2>&1 &&
    make install >>"$work/build.log" 2>&1
) || {
  echo "pgbouncer.sh: could not build PgBouncer $VERSION:" >&2
  tail -20 "$work/build.log" >&2
  exit 1
}
echo "$PWD/$BUILT"
