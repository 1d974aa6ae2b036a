"""A crew's page and its history are rendered once for all the crew's members and cached:
every change a member could see shows at once, the passing time moves meetings where they
belong, and each reader still finds their own name marked, their own clock and their own
language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.utils import translation

from congregations.models import Congregation, Self
from congregations.services import update_profile, update_settings
from crews.models import Crew, Meeting
from crews.services import (
    answer_crew_invitation,
    cancel_meeting,
    invite_to_crew,
    leave_crew,
    log_meeting,
)
from tests.builders import DAY, HOUR, congregation_url, scheduled_meeting, signed_in
from tests.pages import text


def crew_page(client: Client, crew: Crew) -> str:
    return text(client.get(congregation_url("crews:crew", crew.congregation, pk=crew.pk)))


def history(client: Client, crew: Crew) -> str:
    return text(client.get(congregation_url("crews:history", crew.congregation, pk=crew.pk)))


def section(page: str, heading: str) -> str:
    """What the page shows under ``heading``, up to the next heading ("" if it has none)."""
    parts = page.split(f"<h2>{heading}</h2>", 1)
    return parts[1].split("<h2>", 1)[0] if len(parts) == 2 else ""


def members(page: str) -> str:
    """The list of the crew's members, without the invitation form after it."""
    return section(page, "Members").split("</ul>", 1)[0]


def link(meeting: Meeting) -> str:
    return congregation_url("crews:meeting", meeting.congregation, pk=meeting.pk)


def test_a_meeting_scheduled_cancelled_or_logged_shows_at_once(
    member: Self, crew: Crew, now: datetime
) -> None:
    client = signed_in(member)
    assert "No meeting scheduled." in section(crew_page(client, crew), "Next meeting")
    assert "No meetings held yet." in history(client, crew)

    upcoming = scheduled_meeting(crew, now + 7 * DAY, place="The library")
    assert "The library" in section(crew_page(client, crew), "Next meeting")

    cancel_meeting(meeting=upcoming, cancelled_by=member)
    assert "No meeting scheduled." in section(crew_page(client, crew), "Next meeting")

    started = scheduled_meeting(crew, now - HOUR)
    assert link(started) in section(crew_page(client, crew), "To log")
    assert "not logged" in history(client, crew)

    log_meeting(meeting=started, present=[member], logged_by=member)
    page = crew_page(client, crew)
    assert section(page, "To log") == ""
    assert link(started) in section(page, "Where we have been")
    assert "logged: 1 present" in section(page, "Where we have been")
    assert "logged: 1 present" in history(client, crew)


def test_who_is_asked_joins_or_leaves_shows_at_once(
    member: Self, crew_mate: Self, neighbour: Self, crew: Crew
) -> None:
    client = signed_in(member)
    assert neighbour.display_name not in members(crew_page(client, crew))

    invitation = invite_to_crew(crew=crew, invitee=neighbour, invited_by=member)
    assert f"Asked to join, no answer yet: {neighbour.display_name}." in crew_page(client, crew)

    leave_crew(crew=crew, member=crew_mate)
    assert crew_mate.display_name not in members(crew_page(client, crew))

    newcomer = signed_in(neighbour)
    answer_crew_invitation(invitation=invitation, answered_by=neighbour, accept=True)
    page = crew_page(client, crew)
    assert neighbour.display_name in members(page)
    assert "Asked to join" not in page
    assert "(you)" in members(crew_page(newcomer, crew))


def test_each_member_finds_their_own_name_marked_in_the_copy_they_share(
    member: Self,
    crew_mate: Self,
    crew: Crew,
    django_assert_max_num_queries: object,
) -> None:
    mine = members(crew_page(signed_in(member), crew))
    other = signed_in(crew_mate)
    # The crew-mate reads what the member's visit rendered: + 5 is the walls' fixed cost
    # per request in a test; the Self, their seat in the congregation and the crew remain.
    with django_assert_max_num_queries(3 + 5):  # type: ignore[operator]
        theirs = members(crew_page(other, crew))

    def marked(listed: str) -> list[str]:
        return re.findall(r"<li>([^<]+) <span class=\"muted\">\(you\)</span>", listed)

    assert marked(mine) == [member.display_name]
    assert marked(theirs) == [crew_mate.display_name]


def test_the_passing_time_moves_a_meeting_to_log_then_to_the_meetings_held(
    member: Self, crew: Crew, now: datetime
) -> None:
    meeting = scheduled_meeting(crew, now + HOUR)
    client = signed_in(member)
    assert link(meeting) in section(crew_page(client, crew), "Next meeting")
    assert link(meeting) not in history(client, crew)

    with time_machine.travel(now + 2 * HOUR, tick=False):
        page = crew_page(client, crew)
        assert link(meeting) in section(page, "To log")
        assert link(meeting) not in section(page, "Next meeting")
        assert link(meeting) in history(client, crew)

    past_grace = now + HOUR + crew.congregation.meeting_grace + HOUR
    with time_machine.travel(past_grace, tick=False):
        page = crew_page(client, crew)
        assert section(page, "To log") == ""
        assert link(meeting) in section(page, "Where we have been")
        assert "not logged" in section(page, "Where we have been")


def test_a_shorter_time_to_log_shows_at_once(
    congregation: Congregation, facilitator: Self, member: Self, crew: Crew, now: datetime
) -> None:
    meeting = scheduled_meeting(crew, now - 30 * HOUR)
    client = signed_in(member)
    assert link(meeting) in section(crew_page(client, crew), "To log")

    update_settings(congregation=congregation, changed_by=facilitator, meeting_grace_hours=24)

    assert link(meeting) in section(crew_page(client, crew), "Where we have been")


def test_each_reader_sees_the_times_on_their_own_clock(
    member: Self, crew_mate: Self, crew: Crew, now: datetime
) -> None:
    update_profile(self_=member, timezone=ZoneInfo("Pacific/Auckland"))
    update_profile(self_=crew_mate, timezone=ZoneInfo("Europe/Lisbon"))
    # 18:00 in UTC, the crew's clock, on a July day: 06:00 the next morning in Auckland,
    # 19:00 in Lisbon.
    starts = datetime(now.year + 1, 7, 7, 18, 0, tzinfo=UTC)
    scheduled_meeting(crew, starts)

    in_auckland = section(crew_page(signed_in(member), crew), "Next meeting")
    in_lisbon = section(crew_page(signed_in(crew_mate), crew), "Next meeting")

    assert "8 July" in in_auckland and "06:00" in in_auckland
    assert "7 July" in in_lisbon and "19:00" in in_lisbon


def test_a_german_reader_after_an_english_one_reads_german(
    member: Self, crew_mate: Self, crew: Crew, now: datetime
) -> None:
    update_profile(self_=member, language="en")
    update_profile(self_=crew_mate, language="de")
    scheduled_meeting(crew, now - HOUR)
    with translation.override("de"):
        to_log = translation.gettext("To log")
        not_logged = translation.pgettext("a meeting", "not logged")

    english = crew_page(signed_in(member), crew)
    german = crew_page(signed_in(crew_mate), crew)

    assert "<h2>To log</h2>" in english
    assert f"<h2>{to_log}</h2>" in german and to_log != "To log"
    assert "not logged" in history(signed_in(member), crew)
    assert not_logged in history(signed_in(crew_mate), crew) and not_logged != "not logged"


def test_a_refused_invitation_comes_back_with_its_error_over_a_cached_page(
    member: Self, crew: Crew, outsider: Self
) -> None:
    client = signed_in(member)
    crew_page(client, crew)
    invite = congregation_url("crews:invite", crew.congregation, pk=crew.pk)

    response = client.post(invite, {"invitee": outsider.pk})

    assert response.status_code == 200
    assert "Select a valid choice" in section(text(response), "Members")


def test_a_page_rendered_just_before_a_meeting_starts_is_not_kept_past_it(
    member: Self, crew: Crew, now: datetime
) -> None:
    meeting = scheduled_meeting(crew, now + timedelta(minutes=1))
    client = signed_in(member)
    with time_machine.travel(meeting.starts_at - timedelta(seconds=1), tick=False):
        assert link(meeting) in section(crew_page(client, crew), "Next meeting")
    with time_machine.travel(meeting.starts_at, tick=False):
        assert link(meeting) in section(crew_page(client, crew), "To log")
