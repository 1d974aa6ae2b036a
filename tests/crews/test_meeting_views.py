"""Scheduling, changing, tapping attendance and logging meetings through their pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from django.utils.html import escape

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import tenant
from crews import services
from crews.models import Attendance, Crew, CrewMembership, Meeting, MeetingStatus
from reciprocity.models import LedgerEntry
from tests.builders import congregation_url, next_july, writes_nothing
from tests.pages import text

pytestmark = pytest.mark.embedded

HTMX = {"HX-Request": "true"}


def is_present(meeting: Meeting, member: Self) -> bool:
    """Whether ``member`` is tapped as present at ``meeting``."""
    with tenant(meeting):
        return Attendance.objects.get(meeting=meeting, member=member).present


class TestSchedule:
    def test_a_local_time_is_stored_as_its_instant(
        self, client: Client, congregation: Congregation, member: Self, crew: Crew, now: datetime
    ) -> None:
        client.force_login(member)
        day = next_july(now)
        response = client.post(
            congregation_url("crews:schedule", congregation, pk=crew.pk),
            {
                "request_key": new_request_key(congregation),
                "date": day.isoformat(),
                "time": "19:00",
                "place": "Ana's kitchen",
                "agenda": "",
            },
        )
        with tenant(crew):
            meeting = Meeting.objects.get(crew=crew)
        assert response["Location"] == congregation_url(
            "crews:meeting", congregation, pk=meeting.pk
        )
        # 19:00 in Amsterdam in summer is 17:00 UTC.
        assert meeting.starts_at == datetime(day.year, 7, 7, 17, 0, tzinfo=UTC)
        assert meeting.place == "Ana's kitchen"
        assert meeting.scheduled_by == member

    def test_a_time_in_the_past_is_refused_next_to_the_date(
        self, client: Client, congregation: Congregation, member: Self, crew: Crew, now: datetime
    ) -> None:
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url("crews:schedule", congregation, pk=crew.pk),
                {
                    "request_key": new_request_key(congregation),
                    "date": (now - timedelta(days=2)).date().isoformat(),
                    "time": "19:00",
                },
            )
        assert response.status_code == 200
        assert response.context["schedule_form"].errors["date"] == ["Choose a time in the future."]

    def test_a_time_the_clocks_skip_is_refused(
        self, client: Client, congregation: Congregation, member: Self, crew: Crew, now: datetime
    ) -> None:
        # Europe/Amsterdam goes from 02:00 to 03:00 on the last Sunday of March.
        march_31 = date(now.year + 1, 3, 31)
        gap_day = march_31 - timedelta(days=(march_31.weekday() + 1) % 7)
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url("crews:schedule", congregation, pk=crew.pk),
                {"date": gap_day.isoformat(), "time": "02:30"},
            )
        errors = response.context["schedule_form"].errors["time"]
        assert errors == [
            f"02:30 does not exist on {gap_day.day} March in Europe/Amsterdam: the clocks go "
            "forward then. Choose another time."
        ]

    def test_only_the_crew_schedules(
        self,
        client: Client,
        congregation: Congregation,
        facilitator: Self,
        crew: Crew,
        now: datetime,
    ) -> None:
        client.force_login(facilitator)
        with writes_nothing():
            response = client.post(
                congregation_url("crews:schedule", congregation, pk=crew.pk),
                {"date": next_july(now).isoformat(), "time": "19:00"},
            )
        assert response.status_code == 404

    def test_get_is_refused(
        self, client: Client, congregation: Congregation, member: Self, crew: Crew
    ) -> None:
        client.force_login(member)
        assert (
            client.get(congregation_url("crews:schedule", congregation, pk=crew.pk)).status_code
            == 405
        )


class TestChange:
    def test_reschedule(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        upcoming_meeting: Meeting,
        now: datetime,
    ) -> None:
        client.force_login(member)
        day = next_july(now)
        response = client.post(
            congregation_url("crews:reschedule", congregation, pk=upcoming_meeting.pk),
            {
                "date": day.isoformat(),
                "time": "20:30",
                "place": "the park",
                "agenda": "",
                "version": upcoming_meeting.version,
            },
        )
        assert response.status_code == 302
        with tenant(upcoming_meeting):
            upcoming_meeting.refresh_from_db()
        assert upcoming_meeting.starts_at == datetime(day.year, 7, 7, 18, 30, tzinfo=UTC)
        assert upcoming_meeting.place == "the park"
        assert upcoming_meeting.version == 2

    def test_a_change_made_meanwhile_is_detected_and_said(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        crew_mate: Self,
        upcoming_meeting: Meeting,
        now: datetime,
    ) -> None:
        seen = upcoming_meeting.version
        services.reschedule_meeting(
            meeting=upcoming_meeting,
            changed_by=crew_mate,
            starts_at=upcoming_meeting.starts_at + timedelta(hours=1),
            version=seen,
        )
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url("crews:reschedule", congregation, pk=upcoming_meeting.pk),
                {"date": next_july(now).isoformat(), "time": "20:30", "version": seen},
            )
            cancel = client.post(
                congregation_url("crews:cancel", congregation, pk=upcoming_meeting.pk),
                {"version": seen},
            )
        message = (
            "Someone else changed this meeting while you were looking at it. "
            "Reload the page to see their change, then try again."
        )
        assert response.context["reschedule_form"].non_field_errors() == [message]
        assert cancel.context["cancel_form"].non_field_errors() == [message]
        assert message in cancel.content.decode()

    def test_cancel(
        self, client: Client, congregation: Congregation, member: Self, upcoming_meeting: Meeting
    ) -> None:
        client.force_login(member)
        response = client.post(
            congregation_url("crews:cancel", congregation, pk=upcoming_meeting.pk),
            {"version": upcoming_meeting.version},
        )
        assert response.status_code == 302
        with tenant(upcoming_meeting):
            upcoming_meeting.refresh_from_db()
            assert upcoming_meeting.cancelled_by == member
        assert upcoming_meeting.status == MeetingStatus.CANCELLED
        assert "This meeting was cancelled" in client.get(response["Location"]).content.decode()

    def test_a_started_meeting_offers_no_change(
        self, client: Client, congregation: Congregation, member: Self, started_meeting: Meeting
    ) -> None:
        client.force_login(member)
        page = client.get(
            congregation_url("crews:meeting", congregation, pk=started_meeting.pk)
        ).content.decode()
        assert "Change this meeting" not in page
        with writes_nothing():
            response = client.post(
                congregation_url("crews:cancel", congregation, pk=started_meeting.pk),
                {"version": started_meeting.version},
            )
        assert response.context["cancel_form"].non_field_errors() == [
            "This meeting has started: it can no longer be cancelled."
        ]


class TestAttendance:
    def test_a_tap_with_htmx_swaps_only_that_member(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        crew_mate: Self,
        started_meeting: Meeting,
    ) -> None:
        client.force_login(member)
        tap = congregation_url(
            "crews:tap", congregation, pk=started_meeting.pk, member_id=crew_mate.pk
        )
        response = client.post(tap, {"present": "1"}, headers=HTMX)
        fragment = response.content.decode()
        assert response.status_code == 200
        assert fragment.strip().startswith(f'<li id="attendee-{crew_mate.pk}">')
        assert "<html" not in fragment
        assert 'aria-pressed="true"' in fragment
        assert is_present(started_meeting, crew_mate)

        client.post(tap, {"present": "0"}, headers=HTMX)
        assert not is_present(started_meeting, crew_mate)

    def test_a_tap_without_javascript_reloads_the_page(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        crew_mate: Self,
        started_meeting: Meeting,
    ) -> None:
        client.force_login(member)
        response = client.post(
            congregation_url(
                "crews:tap", congregation, pk=started_meeting.pk, member_id=crew_mate.pk
            ),
            {"present": "1"},
        )
        assert response["Location"] == congregation_url(
            "crews:meeting", congregation, pk=started_meeting.pk
        )
        assert is_present(started_meeting, crew_mate)

    def test_tapping_someone_not_in_the_crew_at_its_start_is_refused(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        crew: Crew,
        neighbour: Self,
        started_meeting: Meeting,
        now: datetime,
    ) -> None:
        with tenant(congregation):
            CrewMembership.objects.create(
                congregation=congregation, crew=crew, member=neighbour, joined_at=now
            )
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url(
                    "crews:tap", congregation, pk=started_meeting.pk, member_id=neighbour.pk
                ),
                {"present": "1"},
                headers=HTMX,
            )
        assert (
            f"{neighbour.display_name} was not in Tuesday crew when this meeting started."
            in text(response)
        )

    def test_someone_of_another_congregation_is_not_found(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        outsider: Self,
        started_meeting: Meeting,
    ) -> None:
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url(
                    "crews:tap", congregation, pk=started_meeting.pk, member_id=outsider.pk
                ),
                {"present": "1"},
                headers=HTMX,
            )
        assert response.status_code == 404

    def test_a_tap_before_the_start_is_refused(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        upcoming_meeting: Meeting,
    ) -> None:
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url(
                    "crews:tap", congregation, pk=upcoming_meeting.pk, member_id=member.pk
                ),
                {"present": "1"},
            )
        assert response.status_code == 302


class TestLog:
    def test_logging_fixes_the_taps_and_awards_points(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        crew_mate: Self,
        started_meeting: Meeting,
    ) -> None:
        client.force_login(member)
        client.post(
            congregation_url("crews:tap", congregation, pk=started_meeting.pk, member_id=member.pk),
            {"present": "1"},
            headers=HTMX,
        )
        response = client.post(
            congregation_url("crews:log", congregation, pk=started_meeting.pk),
            {"reflections": "We shared a meal.", "envisioning": "A garden."},
        )
        assert response.status_code == 302
        with tenant(congregation):
            started_meeting.refresh_from_db()
            assert started_meeting.logged_by == member
            present = list(
                Attendance.objects.filter(meeting=started_meeting, present=True).values_list(
                    "member", flat=True
                )
            )
            entries = list(LedgerEntry.objects.values_list("member", "points"))
        assert started_meeting.status == MeetingStatus.LOGGED
        assert started_meeting.reflections == "We shared a meal."
        assert present == [member.pk]
        assert entries == [(member.pk, 1)]
        page = client.get(response["Location"]).content.decode()
        assert "We shared a meal." in page
        assert f'{escape(crew_mate.display_name)} <span class="muted">— missed it</span>' in page

    def test_a_meeting_that_has_not_started_is_not_logged(
        self, client: Client, congregation: Congregation, member: Self, upcoming_meeting: Meeting
    ) -> None:
        client.force_login(member)
        with writes_nothing():
            response = client.post(
                congregation_url("crews:log", congregation, pk=upcoming_meeting.pk), {}
            )
        assert response.context["log_form"].non_field_errors() == [
            "This meeting has not started yet: log it once it has."
        ]

    def test_notes_are_edited_with_a_version_check(
        self,
        client: Client,
        congregation: Congregation,
        member: Self,
        crew_mate: Self,
        started_meeting: Meeting,
    ) -> None:
        logged = services.log_meeting(meeting=started_meeting, present=[member], logged_by=member)
        client.force_login(member)
        response = client.post(
            congregation_url("crews:notes", congregation, pk=logged.pk),
            {"reflections": "Better words", "envisioning": "", "version": logged.version},
        )
        assert response.status_code == 302
        with tenant(logged):
            logged.refresh_from_db()
        assert logged.reflections == "Better words"
        with writes_nothing():
            stale = client.post(
                congregation_url("crews:notes", congregation, pk=logged.pk),
                {"reflections": "Older words", "envisioning": "", "version": logged.version - 1},
            )
        assert stale.context["notes_form"].non_field_errors()[0].startswith("Someone else changed")


def test_the_notes_form_is_shared_by_the_crew_until_the_notes_change(
    client: Client,
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    started_meeting: Meeting,
) -> None:
    logged = services.log_meeting(
        meeting=started_meeting, present=[member], logged_by=member, reflections="A meal."
    )
    page = congregation_url("crews:meeting", congregation, pk=logged.pk)
    client.force_login(member)
    first = client.get(page).content.decode()
    assert "A meal.</textarea>" in first
    assert "Reflections: what happened for each of us" in first
    # A crew-mate reads the same notes in the form, in their own language.
    Self.objects.filter(pk=crew_mate.pk).update(language="de")
    client.force_login(crew_mate)
    german = client.get(page).content.decode()
    assert "A meal.</textarea>" in german
    assert "Rückblick: was jede und jeder von uns" in german
    assert "Reflections: what happened" not in german
    client.force_login(member)
    response = client.post(
        congregation_url("crews:notes", congregation, pk=logged.pk),
        {"reflections": "A walk.", "envisioning": "", "version": logged.version},
    )
    assert response.status_code == 302
    after = client.get(page).content.decode()
    assert "A walk.</textarea>" in after
    assert "A meal." not in after
    # A stale edit comes back with what was sent and why, not the crew's copy.
    refused = client.post(
        congregation_url("crews:notes", congregation, pk=logged.pk),
        {"reflections": "Old words", "envisioning": "", "version": logged.version},
    ).content.decode()
    assert "Old words</textarea>" in refused
    assert "Someone else changed" in refused
    assert "A walk.</textarea>" in client.get(page).content.decode()


@pytest.mark.parametrize("name", ["reschedule", "cancel", "log", "notes"])
def test_changes_refuse_get(
    client: Client, congregation: Congregation, member: Self, upcoming_meeting: Meeting, name: str
) -> None:
    client.force_login(member)
    assert (
        client.get(
            congregation_url(f"crews:{name}", congregation, pk=upcoming_meeting.pk)
        ).status_code
        == 405
    )


@pytest.mark.parametrize("who", ["facilitator", "neighbour", "outsider"])
def test_a_meeting_is_for_its_crew_only(
    client: Client,
    congregation: Congregation,
    started_meeting: Meeting,
    who: str,
    request: pytest.FixtureRequest,
) -> None:
    client.force_login(request.getfixturevalue(who))
    assert (
        client.get(
            congregation_url("crews:meeting", congregation, pk=started_meeting.pk)
        ).status_code
        == 404
    )
    with writes_nothing():
        response = client.post(
            congregation_url("crews:log", congregation, pk=started_meeting.pk), {}
        )
    assert response.status_code == 404


def test_the_meeting_page_runs_a_bounded_number_of_queries(
    client: Client,
    congregation: Congregation,
    member: Self,
    started_meeting: Meeting,
    django_assert_max_num_queries: object,
) -> None:
    client.force_login(member)
    # 8 for the meeting, 3 for the rounds recorded at it (templates/crews/_meeting_game.html),
    # 5 the walls' fixed cost per request in a test (the congregation's lookup, a SAVEPOINT
    # and its RELEASE, and setting and clearing the congregation).
    with django_assert_max_num_queries(8 + 3 + 5):  # type: ignore[operator]
        assert (
            client.get(
                congregation_url("crews:meeting", congregation, pk=started_meeting.pk)
            ).status_code
            == 200
        )


def test_times_are_shown_in_the_viewers_timezone_and_the_crews(
    client: Client, congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    starts_at = datetime(now.year + 1, 7, 7, 17, 0, tzinfo=UTC)
    meeting = services.schedule_meeting(crew=crew, starts_at=starts_at, scheduled_by=member)
    member.timezone = "Pacific/Auckland"
    member.save()
    client.force_login(member)
    page = client.get(
        congregation_url("crews:meeting", congregation, pk=meeting.pk)
    ).content.decode()
    # 17:00 UTC is 05:00 the next morning in Auckland, 19:00 in the crew's Amsterdam.
    assert f"8 July {now.year + 1}, 05:00</time>" in page
    assert "(Wed 7 Jul, 19:00 in Europe/Amsterdam)" in page
