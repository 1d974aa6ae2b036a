"""Keep nothing longer than needed."""

from __future__ import annotations

from datetime import datetime


def forget_expired(*, now: datetime | None = None) -> None:
    raise NotImplementedError
