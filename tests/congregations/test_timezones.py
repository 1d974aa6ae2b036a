"""The timezone a person chooses: one name per place, grouped by region, wherever a
timezone is asked for; an old name posted anyway is read as the place it names."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django import forms

from congregations.forms import ProfileForm, WelcomeForm
from congregations.timezones import TimeZoneChoiceField, zones
from crews.forms import ProposeCrewForm

from ..factories import SelfFactory

pytestmark = pytest.mark.embedded

ALIASES = ["GB-Eire", "localtime", "US/Pacific", "Etc/UCT", "UCT", "Asia/Calcutta", "GMT"]


def offered(field: forms.Field) -> dict[str, dict[str, str]]:
    """The field's options, value to label, by group ("" for those outside any)."""
    groups: dict[str, dict[str, str]] = {}
    assert isinstance(field, forms.ChoiceField)
    choices: list[tuple[str, Any]] = list(field.choices)  # type: ignore[arg-type]
    for value, label in choices:
        if isinstance(label, list | tuple):
            groups[value] = dict(label)
        else:
            groups.setdefault("", {})[value] = label
    return groups


def timezone_fields() -> list[forms.Field]:
    return [
        form_class.base_fields["timezone"]
        for form_class in (ProfileForm, WelcomeForm, ProposeCrewForm)
    ]


@pytest.mark.parametrize("field", timezone_fields())
def test_every_timezone_field_offers_places_not_aliases(field: forms.Field) -> None:
    groups = offered(field)
    names = {zone for group in groups.values() for zone in group}

    assert not names & set(ALIASES)
    assert {"Europe/London", "Pacific/Auckland", "America/Los_Angeles", "UTC"} <= names
    assert groups[""] == {"UTC": "UTC"}
    assert {"Europe", "America", "Asia", "Africa", "Pacific"} <= set(groups)
    assert all(
        zone.startswith(f"{region}/")
        for region, group in groups.items()
        if region
        for zone in group
    )
    assert len(names) == len(zones()) < 450  # not the 598 files of the database


def test_each_zone_is_shown_by_its_place() -> None:
    groups = offered(TimeZoneChoiceField())

    assert groups["Europe"]["Europe/London"] == "London"
    assert groups["America"]["America/Argentina/Buenos_Aires"] == "Argentina/Buenos Aires"


@pytest.mark.parametrize(
    ("posted", "read"),
    [
        ("Europe/London", "Europe/London"),
        ("GB-Eire", "Europe/London"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Asia/Calcutta", "Asia/Kolkata"),  # as Chromium still names it
        ("Etc/UCT", "UTC"),
        ("Europe/Oslo", "Europe/Oslo"),  # a place of its own, though the clocks are Berlin's
    ],
)
def test_an_old_name_is_read_as_the_place_it_names(posted: str, read: str) -> None:
    assert TimeZoneChoiceField().clean(posted) == ZoneInfo(read)


@pytest.mark.parametrize("posted", ["localtime", "Factory", "Etc/GMT+5", "Mars/Olympus_Mons", ""])
@pytest.mark.django_db
def test_a_name_that_is_no_place_is_refused(posted: str) -> None:
    form = WelcomeForm({"timezone": posted}, self_=SelfFactory.create())

    assert not form.is_valid()
    assert list(form.errors) == ["timezone"]


@pytest.mark.django_db
def test_a_stored_old_name_shows_as_its_place() -> None:
    # Saved before the list was: the profile shows it as the place, and saves it so.
    form = ProfileForm(self_=SelfFactory.create(timezone="US/Pacific"))

    assert 'value="America/Los_Angeles" selected' in str(form["timezone"])
