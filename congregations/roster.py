"""A version for each congregation's roster — who is in it, their roles, their profiles,
its crews and who is in them — so pages can cache what they render of it.

The version is a random token in the cache; any change to the roster forgets it once the
change commits, so the next page renders afresh under a new token. Receivers of the
models' save signals call ``roster_changed``, so no service can forget to. With more than
one web process the cache must be shared (CACHE_URL pointing at Redis), or a process
would go on showing what it cached before another process's change."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.cache import cache
from django.db import transaction

from .models import Membership, Self
from .selectors import memberships_of


def _key(congregation_id: int) -> str:
    return f"roster-version:{congregation_id}"


def roster_version(congregation_id: int) -> str:
    return str(cache.get_or_set(_key(congregation_id), lambda: secrets.token_hex(8), None))


def roster_changed(congregation_ids: Iterable[int]) -> None:
    keys = [_key(pk) for pk in set(congregation_ids)]
    cache.delete_many(keys)
    # Again after commit: a page rendered meanwhile may have cached what was there before.
    transaction.on_commit(lambda: cache.delete_many(keys))


def on_membership_saved(sender: Any, instance: Membership, **kwargs: Any) -> None:
    roster_changed([instance.congregation_id])


# What a Self keeps that nobody else sees on a roster page.
UNSEEN = {"last_login", "password", "language", "browser_language"}


def on_self_saved(sender: Any, instance: Self, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= UNSEEN:
        return  # signing in, or choosing a language, changes nothing anyone else sees
    roster_changed([membership.congregation_id for membership in memberships_of(self_=instance)])
