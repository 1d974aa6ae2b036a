#!/usr/bin/env sh
# Compiles each translation catalogue, locale/<language>/LC_MESSAGES/django.po, into the
# .mo file Django reads (GNU gettext's msgfmt; `--check` refuses a translation whose
# placeholders differ from its English). Used by `make` and the Dockerfile; the .mo files
# are built, never committed.
set -eu
cd "$(dirname "$0")/.."
for po in locale/*/LC_MESSAGES/django.po; do
  msgfmt --check -o "${po%.po}.mo" "$po"
done
