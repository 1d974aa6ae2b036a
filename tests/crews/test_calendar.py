"""The personal iCalendar feed at a secret, revocable address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from congregations.models import Congregation, Self
from congregations.selectors import memberships_of
from congregations.tokens import hash_token
from crews import services
from crews.models import CalendarFeed, Crew
from tests.builders import scheduled_meeting

from ..factories import CongregationFactory, MembershipFactory

pytestmark = pytest.mark.embedded


def feed_path(token: str) -> str:
    return reverse("calendar:feed", args=[token])


def events(client: Client, token: str) -> dict[str, dict[str, object]]:
    response = client.get(feed_path(token))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    return {
        str(event["SUMMARY"]): {
            "uid": str(event["UID"]),
            "start": event.decoded("DTSTART"),
            "status": str(event["STATUS"]),
            "location": str(event.get("LOCATION", "")),
            "raw": event.to_ical().decode(),
        }
        for event in calendar.walk("VEVENT")
    }


@pytest.fixture
def summer_meeting(crew: Crew, now: datetime) -> datetime:
    """A meeting at 19:00 in Amsterdam next July: 17:00 UTC."""
    starts_at = datetime(now.year + 1, 7, 7, 17, 0, tzinfo=UTC)
    scheduled_meeting(crew, starts_at, place="Ana's kitchen")
    return starts_at


def test_the_feed_holds_the_crews_meetings_in_utc(
    client: Client, member: Self, crew: Crew, summer_meeting: datetime
) -> None:
    token = services.renew_calendar_feed(owner=member)
    found = events(client, token)
    assert found["Tuesday crew"]["start"] == summer_meeting
    assert "DTSTART:" + summer_meeting.strftime("%Y%m%d") + "T170000Z" in str(
        found["Tuesday crew"]["raw"]
    )
    assert found["Tuesday crew"]["location"] == "Ana's kitchen"
    assert found["Tuesday crew"]["status"] == "CONFIRMED"
    # Fetched again, the same events: only DTSTAMP (when the feed was made) may differ,
    # by a second when the two fetches straddle one (found by a random run, once).
    again = events(client, token)
    assert {name: {**e, "raw": None} for name, e in found.items()} == {
        name: {**e, "raw": None} for name, e in again.items()
    }


def crew_with(self_: Self, congregation: Congregation, name: str) -> Crew:
    others = [MembershipFactory.create(congregation=congregation).member for _ in range(2)]
    return services.form_crew(congregation=congregation, name=name, members=[self_, *others])


def test_every_congregation_is_in_it_and_no_one_elses_crews(
    client: Client, member: Self, crew: Crew, outsider: Self, now: datetime
) -> None:
    far = MembershipFactory.create(
        member=member, congregation=CongregationFactory.create()
    ).congregation
    [elsewhere] = (m.congregation for m in memberships_of(self_=outsider))
    for other_crew in (
        crew_with(member, far, "Far crew"),
        crew_with(outsider, elsewhere, "Not mine"),
        crew,
    ):
        scheduled_meeting(other_crew, now + timedelta(days=3))

    assert set(events(client, services.renew_calendar_feed(owner=member))) == {
        "Tuesday crew",
        "Far crew",
    }


def test_a_cancelled_meeting_says_so_and_notes_stay_out(
    client: Client, member: Self, crew: Crew, now: datetime
) -> None:
    meeting = scheduled_meeting(crew, now + timedelta(days=2))
    services.cancel_meeting(meeting=meeting, cancelled_by=member)
    logged = scheduled_meeting(crew, now - timedelta(hours=2))
    services.log_meeting(meeting=logged, present=[member], logged_by=member, reflections="Secret")
    response = client.get(feed_path(services.renew_calendar_feed(owner=member)))
    calendar = Calendar.from_ical(response.content)
    statuses = {str(e["UID"]): str(e["STATUS"]) for e in calendar.walk("VEVENT")}
    assert sorted(statuses.values()) == ["CANCELLED", "CONFIRMED"]
    assert b"Secret" not in response.content


def test_an_unknown_or_revoked_address_is_404(client: Client, member: Self) -> None:
    token = services.renew_calendar_feed(owner=member)
    assert client.get(feed_path("not-a-token")).status_code == 404
    renewed = services.renew_calendar_feed(owner=member)
    assert client.get(feed_path(token)).status_code == 404
    services.revoke_calendar_feed(owner=member)
    assert client.get(feed_path(renewed)).status_code == 404


def test_the_feed_runs_a_bounded_number_of_queries(
    client: Client,
    congregation: Congregation,
    member: Self,
    crew: Crew,
    now: datetime,
    django_assert_max_num_queries: object,
) -> None:
    for n in range(30):
        scheduled_meeting(crew, now + timedelta(days=n + 1))
    token = services.renew_calendar_feed(owner=member)
    # + 4: the door's fixed cost in a test (a SAVEPOINT and its RELEASE, and opening and
    # closing it), the feed reading meetings of every congregation it spans.
    with django_assert_max_num_queries(3 + 4):  # type: ignore[operator]
        client.get(feed_path(token))


class TestSettingsPage:
    def test_anonymous_is_sent_to_sign_in(self, client: Client) -> None:
        response = client.get(reverse("calendar:settings"))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")

    def test_the_address_is_shown_once(self, client: Client, member: Self) -> None:
        client.force_login(member)
        assert b"Make my calendar address" in client.get(reverse("calendar:settings")).content

        response = client.post(reverse("calendar:settings"), {"action": "renew"})

        feed_url = response.context["feed_url"]
        token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
        assert feed_url in response.content.decode()
        assert CalendarFeed.objects.get(owner=member).token_hash == hash_token(token)
        again = client.get(reverse("calendar:settings")).content.decode()
        assert token not in again
        assert "Make a new address" in again

    def test_revoking_stops_the_address(self, client: Client, member: Self) -> None:
        token = services.renew_calendar_feed(owner=member)
        client.force_login(member)
        response = client.post(reverse("calendar:settings"), {"action": "revoke"})
        assert response.status_code == 302
        assert not CalendarFeed.objects.filter(owner=member).exists()
        assert client.get(feed_path(token)).status_code == 404

    def test_other_methods_are_refused(self, client: Client, member: Self) -> None:
        client.force_login(member)
        assert client.put(reverse("calendar:settings")).status_code == 405
        assert client.post(feed_path("x")).status_code == 405
