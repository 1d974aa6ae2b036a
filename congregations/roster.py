"""A version for each congregation's roster — who is in it, their roles, their profiles,
its crews, who is in them and who is asked to join them — so pages can cache what they
render of it (``versions`` says how)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from . import versions
from .models import Membership, Self
from .selectors import congregations_ever_joined


def roster_key(congregation_id: int) -> str:
    """The roster's key among ``versions``, for a page that reads it with others."""
    return f"roster-version:{congregation_id}"


def roster_version(congregation_id: int) -> str:
    return versions.current(roster_key(congregation_id))


def roster_changed(congregation_ids: Iterable[int]) -> None:
    versions.changed(*(roster_key(pk) for pk in set(congregation_ids)))


def on_membership_saved(sender: Any, instance: Membership, **kwargs: Any) -> None:
    roster_changed([instance.congregation_id])


# What a Self keeps that nobody else sees on a roster page.
UNSEEN = {"last_login", "password", "language", "browser_language"}


def on_self_saved(sender: Any, instance: Self, update_fields: Any = None, **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= UNSEEN:
        return  # signing in, or choosing a language, changes nothing anyone else sees
    # Congregations they left too: the scores of a crew they were in still name them, and
    # erasing them (by then a member of none) must not leave their name cached there.
    roster_changed(congregations_ever_joined(self_=instance))
