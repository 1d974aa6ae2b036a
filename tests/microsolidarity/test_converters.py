"""Row ids in URLs: the largest a bigint holds still names a row; one past it names none and
matches no URL (a 404), on SQLite too, where looking it up overflowed."""

from __future__ import annotations

import pytest
from django.urls import Resolver404, resolve

from microsolidarity.converters import LARGEST_ID, RowId


def test_the_largest_bigint_is_an_id_and_one_past_it_is_not() -> None:
    assert RowId().to_python(str(LARGEST_ID)) == LARGEST_ID
    with pytest.raises(ValueError):
        RowId().to_python(str(LARGEST_ID + 1))


@pytest.mark.parametrize(
    "path",
    [
        "/c/kotahi/crews/{id}/",
        "/c/kotahi/crews/{id}/scores/",
        "/c/kotahi/crews/{id}/entries.csv",
        "/c/kotahi/meetings/{id}/",
    ],
)
def test_an_id_past_a_bigint_matches_no_url(path: str) -> None:
    assert resolve(path.format(id=LARGEST_ID)).kwargs
    with pytest.raises(Resolver404):
        resolve(path.format(id=LARGEST_ID + 1))
