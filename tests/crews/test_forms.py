"""Reading a wall-clock time in a crew's timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from crews.forms import local_instant

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_a_summer_evening_in_amsterdam() -> None:
    assert local_instant(date(2030, 7, 7), time(19, 0), AMSTERDAM) == datetime(
        2030, 7, 7, 17, 0, tzinfo=UTC
    )


def test_a_winter_evening_in_amsterdam() -> None:
    assert local_instant(date(2030, 1, 7), time(19, 0), AMSTERDAM) == datetime(
        2030, 1, 7, 18, 0, tzinfo=UTC
    )


def test_a_time_the_clocks_skip_names_no_instant() -> None:
    with pytest.raises(ValidationError, match="02:30 does not exist on 31 March"):
        local_instant(date(2030, 3, 31), time(2, 30), AMSTERDAM)


def test_a_time_that_happens_twice_is_the_first() -> None:
    # On 27 October 2030 the clocks go back from 03:00 to 02:00: 02:30 is summer time first.
    assert local_instant(date(2030, 10, 27), time(2, 30), AMSTERDAM) == datetime(
        2030, 10, 27, 0, 30, tzinfo=UTC
    )
