"""Versions of what pages cache, so they can cache what they render of it: a random token in
the cache for each thing a page is rendered from (a congregation's roster, a crew's meetings).

Any change to the thing forgets its token once the change commits, so the next page renders
afresh under a new token. Receivers of the models' save signals call ``changed``, so no
service can forget to. With more than one web process the cache must be shared (CACHE_URL
pointing at Redis), or a process would go on showing what it cached before another
process's change."""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction


def current(*keys: str) -> str:
    """The versions of ``keys`` as one, read in one round trip to the cache; a key that has
    none yet gets one."""
    found = cache.get_many(keys)
    missing = [key for key in keys if key not in found]
    if missing:
        fresh = {key: secrets.token_hex(8) for key in missing}
        for key, token in fresh.items():
            cache.add(key, token, None)
        # Another process may have added its token first: theirs is the version. If a change
        # forgot it meanwhile, ours names a version nobody else will find, never a stale one.
        found.update({**fresh, **cache.get_many(missing)})
    return ".".join(str(found[key]) for key in keys)


def changed(*keys: str) -> None:
    cache.delete_many(keys)
    # Again after commit: a page rendered meanwhile may have cached what was there before.
    transaction.on_commit(lambda: cache.delete_many(keys))
