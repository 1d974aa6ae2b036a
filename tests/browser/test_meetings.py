from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from congregations.models import Self
from congregations.tenancy import tenant
from crews.models import Attendance, Crew, Meeting, MeetingStatus
from crews.services import form_crew
from tests.builders import scheduled_meeting

from ..factories import (
    PASSWORD,
    CongregationFactory,
    MembershipFactory,
    SelfFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


def tuesday_crew(now: datetime) -> tuple[Crew, Self]:
    """Ana (who signs in), Ben and Chiara of Kotahi, a crew for a month; returns it and Ana."""
    congregation = CongregationFactory.create(name="Kotahi")
    ana = SelfFactory.create(email="ana@example.net", display_name="Ana")
    people = [
        ana,
        SelfFactory.create(display_name="Ben"),
        SelfFactory.create(display_name="Chiara"),
    ]
    for self_ in people:
        MembershipFactory.create(congregation=congregation, member=self_)
    crew = form_crew(
        congregation=congregation, name="Tuesday crew", members=people, now=now - timedelta(days=30)
    )
    return crew, ana


def test_a_crew_schedules_a_meeting_logs_one_with_taps_and_sees_it_in_its_history(
    page: Page, live_server: Any, sign_in: Any
) -> None:
    now = timezone.now()
    crew, ana = tuesday_crew(now)

    sign_in("ana@example.net", PASSWORD)
    page.get_by_role("link", name="Kotahi").click()
    page.get_by_role("link", name="Tuesday crew").first.click()
    next_week = (now + timedelta(days=7)).date()
    page.get_by_label("Date").fill(next_week.isoformat())
    page.get_by_label("Time").fill("19:00")
    page.get_by_label("Place or call link").fill("Ana's kitchen")
    page.get_by_role("button", name="Schedule").click()

    expect(page.get_by_text("The meeting is scheduled.")).to_be_visible()
    with tenant(crew):
        scheduled = Meeting.objects.get(crew=crew)
    assert scheduled.local_start.hour == 19
    assert scheduled.place == "Ana's kitchen"

    # A meeting that started an hour ago, as the one above will have in a week.
    held = scheduled_meeting(crew, now - timedelta(hours=1), by=ana)
    page.goto(
        live_server.url
        + reverse("crews:meeting", kwargs={"congregation_slug": "kotahi", "pk": held.pk})
    )
    page.evaluate("window.stillThisPage = true")
    for name in ("Ana", "Chiara"):
        page.get_by_role("button", name=name, exact=True).click()
        expect(page.get_by_role("button", name=name, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
    expect(page.get_by_role("button", name="Ben", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    # The taps swapped single buttons: the page was never reloaded.
    assert page.evaluate("window.stillThisPage") is True
    with tenant(held):
        present = Attendance.objects.filter(meeting=held, present=True)
        assert set(present.values_list("member__display_name", flat=True)) == {"Ana", "Chiara"}

    page.get_by_label("Where we have been").fill("We shared a meal and our worries.")
    page.get_by_role("button", name="Log this meeting").click()
    expect(page.get_by_text("The meeting is logged.")).to_be_visible()
    with tenant(held):
        held.refresh_from_db()
    assert held.status == MeetingStatus.LOGGED

    page.get_by_role("link", name="← Tuesday crew").click()
    page.get_by_role("link", name="All of Tuesday crew's meetings").click()
    expect(page.get_by_role("heading", name="Meetings of Tuesday crew")).to_be_visible()
    expect(page.get_by_text("logged: 2 present")).to_be_visible()


def test_cancelling_asks_once_more_before_the_crew_is_emailed(
    page: Page, live_server: Any, sign_in: Any
) -> None:
    """The cancel button sits beside "Save the change": it is folded away, saying what
    happens, so one tap on a phone cannot email the whole crew."""
    now = timezone.now()
    crew, ana = tuesday_crew(now)
    congregation = crew.congregation
    meeting = scheduled_meeting(crew, now + timedelta(days=7), by=ana)

    sign_in("ana@example.net", PASSWORD)
    page.goto(f"{live_server.url}/c/{congregation.slug}/meetings/{meeting.pk}/")
    confirm = page.get_by_role("button", name="Yes, cancel it")
    expect(confirm).to_be_hidden()

    page.get_by_text("Cancel this meeting…").click()
    expect(page.get_by_text("Everyone in the crew gets an email")).to_be_visible()
    confirm.click()

    expect(page.get_by_text("This meeting was cancelled.")).to_be_visible()
    with tenant(crew):
        assert Meeting.objects.get(pk=meeting.pk).is_cancelled
