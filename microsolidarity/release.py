"""A name for the code being served, which what pages cache and share is kept under
(settings.CACHES[RENDERED]): fragments are kept with no expiry, until a version of what
they show moves, so without it a deploy that changed a template, a translation or the code
behind them would go on serving what the code before it had rendered, an escaping fix
included, for as long as nothing in a crew or meeting changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

# What a rendered fragment is made from: the apps' code, the templates and the
# translations (compiled and not). Migrations and tests render nothing.
SOURCES = (
    "congregations",
    "crews",
    "reciprocity",
    "privacy",
    "microsolidarity",
    "templates",
    "locale",
)
SUFFIXES = (".py", ".html", ".txt", ".po", ".mo")
SKIPPED = {"migrations", "__pycache__"}
# The cache alias of what pages render and share.
RENDERED = "rendered"


def fingerprint(base: Path) -> str:
    """A digest of the files under ``base`` that SOURCES names: the same for the same code
    on every replica, another for any change to it."""
    paths = []
    for source in SOURCES:
        for folder, subfolders, files in os.walk(base / source):
            subfolders[:] = [name for name in subfolders if name not in SKIPPED]
            paths += [Path(folder, name) for name in files if name.endswith(SUFFIXES)]
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(paths):
        digest.update(str(path.relative_to(base)).encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()
