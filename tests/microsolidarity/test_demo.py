"""The demo that `make run` loads shows every part of the product working, what waits
for people included."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from congregations.models import MembershipEvent, Self
from congregations.tenancy import tenant
from crews.models import Crew
from microsolidarity import demo
from reciprocity.models import LedgerEntry
from reciprocity.rules import Rule
from reciprocity.selectors import crew_breakdown
from reciprocity.selectors.waiting import waiting_for

pytestmark = pytest.mark.django_db


def test_the_demo_has_something_waiting_for_its_people() -> None:
    loaded = demo.load()
    selves = {s.email.split("@")[0]: s for s in Self.objects.filter(email__endswith="example.org")}

    def kinds(name: str) -> set[str]:
        return {item.kind for item in waiting_for(self_=selves[name], now=loaded.now)}

    assert {"co_ownership", "dispute", "invitations_lapsing", "without_crew"} <= kinds("ana")
    assert "crew_invitation" in kinds("gus")
    assert "conflict" in kinds("ira")
    assert "meeting_to_log" in kinds("kai")


def test_the_demo_shows_a_settings_change_and_a_correction_in_plain_words() -> None:
    loaded = demo.load()
    loaded.congregation.refresh_from_db()

    with tenant(loaded.congregation):
        change = MembershipEvent.objects.get(action=MembershipEvent.Action.SETTINGS)
        correction = LedgerEntry.objects.get(rule=Rule.REVERSAL)
    quota = loaded.congregation.invitation_quota
    assert change.described() == f"Invitations each member may send: {quota - 1} → {quota}"
    assert correction.reason.startswith("Reversed Ira Cohen’s −5 for “Missed the meeting: ")
    assert correction.reason.endswith("”: Ira was there, came in late, and the log missed it")


def test_seed_demo_prints_the_address_it_serves(settings: Any) -> None:
    settings.SITE_URL = "http://127.0.0.1:8123"  # what `make run PORT=8123` sets
    printed = StringIO()

    call_command("seed_demo", stdout=printed)

    assert "Sign in at http://127.0.0.1:8123/ with password" in printed.getvalue()


def test_the_demo_has_a_former_member_whose_points_stay_in_her_crew() -> None:
    loaded = demo.load()

    assert not Self.objects.filter(email=demo.LEFT_FOR_GOOD.email).exists()
    with tenant(loaded.congregation):
        solar = Crew.objects.get(name="Solar street")
        breakdown = crew_breakdown(crew=solar)
    [former] = [row for row in breakdown.rows if not row.current]
    assert str(former.member) == "Former member"
    assert former.total > 0
    assert breakdown.total == sum(row.total for row in breakdown.rows)


def test_the_demo_speaks_three_languages() -> None:
    """Kai chose German and Chiara Spanish: their pages and emails are in it."""
    demo.load()
    languages = dict(
        Self.objects.filter(email__endswith="example.org").values_list("email", "language")
    )

    assert languages["kai@example.org"] == "de"
    assert languages["chiara@example.org"] == "es"
    assert languages["ana@example.org"] == ""
