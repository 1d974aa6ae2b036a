from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from django.utils.functional import SimpleLazyObject

T = TypeVar("T")


def lazy(compute: Callable[[], T]) -> T:
    """A value computed on first use: a page passes what only a cache miss renders, so a
    cached page skips the queries behind it."""
    return cast(T, SimpleLazyObject(compute))
