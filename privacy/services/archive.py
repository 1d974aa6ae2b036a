"""Everything the app holds about one Self, in every congregation, as one zip."""

from __future__ import annotations

from datetime import datetime

from congregations.models import Self


def export_self_data(*, self_: Self, now: datetime | None = None) -> bytes:
    raise NotImplementedError
