"""The timezones a person chooses from: one name per place, grouped by region.

``zoneinfo.available_timezones()`` names every file of the database, old names and
aliases included (``GB-Eire``, ``US/Pacific``, ``localtime``). The list offered here is
the tz database's own ``zone.tab``, as the ``tzdata`` package ships it: the zones its
maintainers list for choosing by country, each under its current name (Europe/Oslo
beside Europe/Berlin, Europe/Kyiv and not Europe/Kiev), kept up to date with every
tzdata release rather than by hand; plus ``UTC``. (``zone1970.tab`` is shorter but
folds whole countries into a neighbour's zone since 1970: a person in Oslo would have to
choose Berlin.)

An old name that the database links to a listed zone is read as that zone (the clocks
are the same; Chromium still reports Asia/Calcutta, and rows saved before this list
may hold an alias), so nobody is refused for a spelling; any other name is refused.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

UTC = "UTC"
_DATA = files("tzdata") / "zoneinfo"


@cache
def zones() -> frozenset[str]:
    listed = (
        line.split("\t")[2]
        for line in (_DATA / "zone.tab").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return frozenset([*listed, UTC])


@cache
def _links() -> dict[str, str]:
    """Each old name and alias, and the zone it names (``L target alias`` in tzdata.zi)."""
    lines = (_DATA / "tzdata.zi").read_text().splitlines()
    return {
        alias: target for _, target, alias in (line.split() for line in lines if line[:2] == "L ")
    }


def canonical(name: str) -> str | None:
    """The listed zone ``name`` stands for, or None."""
    if name in zones():
        return name
    target = _links().get(name, name)
    if target in ("Etc/UTC", "Etc/GMT"):  # GMT, Greenwich: the same clock as UTC
        return UTC
    return target if target in zones() else None


@cache
def without_region() -> dict[str, str]:
    """Each zone name without a region ("CET", "EET", "Japan") and the listed zone it
    stands for. PostgreSQL reads such a name as one of its abbreviations first where it
    has one, and its CET is an hour ahead all year where the zone keeps summer time: SQL
    converts a stored name through this (reciprocity.reasons_sql.clock)."""
    return {
        name: zone
        for name in available_timezones()
        if "/" not in name and (zone := canonical(name)) is not None and zone != name
    }


@cache
def grouped_choices() -> list[tuple[str, Any]]:
    """``UTC``, then one group per region ("Europe", "America" …), each place by its name
    within the region (Buenos Aires, not Buenos_Aires)."""
    regions: dict[str, list[tuple[str, str]]] = {}
    for zone in sorted(zones() - {UTC}):
        region, place = zone.split("/", 1)
        regions.setdefault(region, []).append((zone, place.replace("_", " ")))
    return [(UTC, UTC), *sorted(regions.items())]


class TimeZoneSelect(forms.Select):
    """The select, carrying the two texts static/js/timezones.js writes around it, in the
    page's language: the script has no catalogue of its own."""

    class Media:
        js = ["js/timezones.js"]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        texts = {
            "data-device-label": _("Your device’s timezone"),
            "data-filter-label": _("Find your timezone: type a city or region"),
        }
        return super().get_context(name, value, {**texts, **(attrs or {})})


class TimeZoneChoiceField(forms.ChoiceField):
    """A timezone from the list above, as a ``ZoneInfo``. The select is marked for
    static/js/timezones.js, which adds type-to-filter and puts the browser's zone first;
    without JavaScript it is a plain grouped select."""

    default_error_messages = {
        "invalid_choice": _(
            "%(value)s is not a timezone on the list: choose the place nearest you, or UTC."
        ),
    }

    widget = TimeZoneSelect

    def __init__(self, *, prefill: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Timezone"))
        super().__init__(choices=grouped_choices, **kwargs)
        # "prefill": choose the browser's zone too, not only list it first.
        self.widget.attrs["data-timezone"] = "prefill" if prefill else ""

    def keep(self, saved: Any) -> None:
        """Offer ``saved`` too where it names no place on the list (Etc/GMT-3, EST5EDT:
        chosen before there was a list), so saving the rest of a form neither refuses its
        owner nor moves them to whatever zone the browser sends instead."""
        name = str(getattr(saved, "key", saved or ""))
        if name and canonical(name) is None:
            self.choices = [(name, name), *grouped_choices()]

    def prepare_value(self, value: Any) -> Any:
        name = str(getattr(value, "key", value or ""))
        return canonical(name) or name

    def to_python(self, value: Any) -> str:
        name = super().to_python(value)
        return canonical(name) or name

    def clean(self, value: Any) -> ZoneInfo | None:
        name = super().clean(value)
        return ZoneInfo(name) if name else None


def moment_in(moment: datetime, zone: Any) -> str:
    """``moment`` on ``zone``'s clock, naming the zone: "Sunday 13 December 2026, 19:46
    CET". A zone whose clock has no lettered abbreviation (America/Sao_Paulo's is "-03")
    is named by its place: "…, 19:46 (America/Sao_Paulo)"."""
    zone = zone if isinstance(zone, tzinfo) else ZoneInfo(str(zone))
    local = moment.astimezone(zone)
    # Translators: how a moment reads in emails and deadlines, in the letters of Django's
    # date filter (https://docs.djangoproject.com/en/5.2/ref/templates/builtins/#date):
    # "Sunday 13 December 2026, 19:46". Escape literal letters with a backslash.
    written = pgettext("moment", "l j F Y, H:i")
    return f"{date_format(local, written)} {zone_name(local)}"


def zone_name(local: datetime) -> str:
    """How a time on ``local``'s clock names its zone: "CET", or "(America/Sao_Paulo)"
    where the clock has no lettered abbreviation."""
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return f"({getattr(local.tzinfo, 'key', local.tzinfo)})"


# For a subject or notification written later in its reader's language (outbox.Outgoing).
moment_in_lazy = lazy(moment_in, str)
