"""What waits for you, tried as others have broken similar software: someone answering an
invitation that is not theirs, what a Self who left still sees, names that are markup,
disabled accounts, and facilitators of one congregation among several."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from congregations.models import Congregation, Email, Notification, Role, Self
from congregations.selectors import NOTIFICATIONS_SHOWN
from congregations.services import accept_invitation, invite, leave_congregation, remove_member
from congregations.services.daily import send_daily_emails
from congregations.services.notifications import Notice, notify
from congregations.tenancy import tenant
from crews.models import Crew, CrewInvitation
from crews.services import leave_crew, propose_crew
from crews.services.reminders import nudge_unlogged_meetings
from reciprocity.services import open_conflict
from reciprocity.services.consistency import settle_missed_meetings

from .builders import congregation_url, membership_of, scheduled_meeting, signed_in
from .factories import CongregationFactory, MembershipFactory
from .pages import text
from .reciprocity.test_waiting import unread, waiting_section

pytestmark = pytest.mark.django_db


def _invitation(congregation: Congregation, invitee: Self) -> CrewInvitation:
    with tenant(congregation):
        return CrewInvitation.objects.get(invitee=invitee)


@pytest.mark.embedded
def test_nobody_answers_someone_elses_crew_invitation_in_place(
    congregation: Congregation, member: Self, neighbour: Self, crew_mate: Self, outsider: Self
) -> None:
    propose_crew(congregation=congregation, name="Oak", proposed_by=member, invitees=[neighbour])
    invitation = _invitation(congregation, neighbour)
    answer = congregation_url("crews:answer_invitation", congregation, pk=invitation.pk)

    for intruder in (crew_mate, outsider, member):
        response = signed_in(intruder).post(
            answer, {"answer": "accept"}, headers={"HX-Request": "true"}
        )
        assert response.status_code in (403, 404)
    # The other congregation's own address for it leads nowhere either.
    elsewhere = CongregationFactory.create(name="Harbour")
    MembershipFactory.create(congregation=elsewhere, member=outsider)
    response = signed_in(outsider).post(
        congregation_url("crews:answer_invitation", elsewhere, pk=invitation.pk),
        {"answer": "accept"},
    )
    assert response.status_code == 404
    assert _invitation(congregation, neighbour).answered_at is None


@pytest.mark.embedded
def test_one_who_left_sees_nothing_more_of_the_congregation(
    congregation: Congregation, member: Self, neighbour: Self
) -> None:
    elsewhere = CongregationFactory.create(name="Harbour")
    MembershipFactory.create(congregation=elsewhere, member=neighbour)
    propose_crew(congregation=congregation, name="Oak", proposed_by=member, invitees=[neighbour])
    client = signed_in(neighbour)
    assert unread(client) == 1

    leave_congregation(membership=membership_of(neighbour, congregation))

    assert "Oak" not in waiting_section(client, reverse("home"))
    assert "Oak" not in text(client.get(reverse("waiting")))
    assert "Oak" not in text(client.get(reverse("notifications")))
    assert unread(client) == 0
    fragment = client.get(congregation_url("reciprocity:waiting", congregation))
    assert fragment.status_code in (403, 404)


@pytest.mark.embedded
def test_markup_in_names_is_shown_as_text_in_waiting_and_notifications(
    congregation: Congregation, neighbour: Self
) -> None:
    mallory = MembershipFactory.create(congregation=congregation).member
    mallory.display_name = '<script>alert("x")</script>'
    mallory.save()
    propose_crew(
        congregation=congregation,
        name="<img src=x onerror=alert(1)>",
        proposed_by=mallory,
        invitees=[neighbour],
    )
    client = signed_in(neighbour)

    for page in (
        client.get(congregation_url("crews:congregation", congregation)),
        client.get(reverse("home")),
        client.get(reverse("notifications")),
    ):
        body = page.content.decode()
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;" in body


def test_a_facilitator_elsewhere_sees_no_lapsing_invitations_of_a_congregation_they_only_belong_to(
    congregation: Congregation, facilitator: Self
) -> None:
    harbour = CongregationFactory.create(name="Harbour")
    host = MembershipFactory.create(congregation=harbour, role=Role.FACILITATOR).member
    MembershipFactory.create(congregation=harbour, member=facilitator)
    with tenant(harbour):
        harbour.invitation_lifetime_days = 2
        harbour.save()
    invite(congregation=harbour, email="harbour@example.net", invited_by=host)

    section = waiting_section(signed_in(facilitator), reverse("home"))
    assert "harbour@example.net" not in section
    assert "harbour@example.net" in waiting_section(signed_in(host), reverse("home"))


def test_a_disabled_account_is_not_listed_as_someone_to_help_find_a_crew(
    congregation: Congregation, facilitator: Self, neighbour: Self
) -> None:
    with tenant(congregation):
        for membership in (membership_of(neighbour, congregation),):
            membership.joined_at -= timedelta(weeks=4)
            membership.save()
    neighbour.is_active = False
    neighbour.save()

    section = waiting_section(
        signed_in(facilitator), congregation_url("crews:congregation", congregation)
    )
    assert str(neighbour) not in section


def test_the_daily_email_comes_once_for_each_congregation_of_a_self_in_several(
    congregation: Congregation, member: Self, neighbour: Self
) -> None:
    harbour = CongregationFactory.create(name="Harbour")
    MembershipFactory.create(congregation=harbour, member=neighbour)
    ally = MembershipFactory.create(congregation=harbour).member
    neighbour.email_digest = True
    neighbour.save()
    propose_crew(congregation=congregation, name="Oak", proposed_by=member, invitees=[neighbour])
    propose_crew(congregation=harbour, name="Kelp", proposed_by=ally, invitees=[neighbour])

    morning = timezone.now().astimezone(neighbour.timezone).replace(hour=9, minute=0) + timedelta(
        days=1
    )
    assert send_daily_emails(now=morning) == 2
    assert send_daily_emails(now=morning + timedelta(hours=3)) == 0
    for place in (congregation, harbour):
        with tenant(place):
            assert not Notification.objects.filter(
                recipient=neighbour, emailed_at__isnull=True
            ).exists()


def test_unread_beyond_the_list_can_still_be_marked_read(
    congregation: Congregation, member: Self
) -> None:
    """The badge counts every unread; the list shows the latest; what is unread further
    down must not leave a count that nothing on the page can clear."""
    start = timezone.now() - timedelta(days=30)
    with tenant(congregation):
        Notification.objects.filter(recipient=member).update(read_at=start)
        notify(
            [
                Notice(
                    congregation_id=congregation.pk,
                    recipient=member,
                    about=f"news:{i}",
                    text=f"News {i}",
                    path="/",
                )
                for i in range(NOTIFICATIONS_SHOWN + 1)
            ],
            now=start,
        )
        newest = Notification.objects.filter(recipient=member).exclude(about="news:0")
        for i, notification in enumerate(newest.order_by("pk")):
            notification.created_at = start + timedelta(minutes=i + 1)
            notification.read_at = start + timedelta(days=1)
            notification.save()
    client = signed_in(member)
    assert unread(client) == 1

    page = text(client.get(reverse("notifications")))
    assert "1 unread." in page
    assert "Mark all as read" in page
    client.post(reverse("notifications"))
    assert unread(client) == 0


def test_a_meeting_settled_unlogged_asks_nobody_to_log_it_any_more(
    crew: Crew, member: Self
) -> None:
    """Its logging window closed: the nudge is no longer to do, nor in the next day's email."""
    member.email_digest = True
    member.save()
    now = timezone.now()
    scheduled_meeting(crew, now - timedelta(hours=30))
    assert nudge_unlogged_meetings(now=now) == 3
    client = signed_in(member)
    before = unread(client)

    settle_missed_meetings(now=now + timedelta(hours=20))

    with tenant(crew):
        asking = Notification.objects.filter(about__startswith="meeting-to-log")
        assert not asking.filter(read_at__isnull=True).exists()
    # The nudge is read; what is new is the −5 it turned into.
    assert unread(client) == before
    send_daily_emails(now=now + timedelta(days=1, hours=12))
    with tenant(crew):
        bodies = list(Email.objects.filter(recipient=member).values_list("body", flat=True))
    assert not [body for body in bodies if "meet? Log it by" in body]


def test_one_who_left_the_crew_is_not_asked_to_log_its_meeting(crew: Crew, member: Self) -> None:
    member.email_digest = True
    member.save()
    now = timezone.now()
    scheduled_meeting(crew, now - timedelta(hours=30))
    nudge_unlogged_meetings(now=now)

    leave_crew(crew=crew, member=member, now=now + timedelta(minutes=1))

    with tenant(crew):
        mine = Notification.objects.filter(recipient=member, about__startswith="meeting-to-log")
        assert not mine.filter(read_at__isnull=True).exists()
    send_daily_emails(now=now + timedelta(hours=12))
    with tenant(crew):
        bodies = list(Email.objects.filter(recipient=member).values_list("body", flat=True))
    assert not [body for body in bodies if "meet? Log it by" in body]


@pytest.mark.parametrize("told", [1, 30])
def test_the_notification_list_runs_as_many_queries_however_many_and_from_where(
    told: int, congregation: Congregation, member: Self, django_assert_max_num_queries: Any
) -> None:
    places = [congregation, *(CongregationFactory.create() for _ in range(2))]
    for place in places[1:]:
        MembershipFactory.create(congregation=place, member=member)
    for place in places:
        proposer = MembershipFactory.create(congregation=place).member
        for n in range(told):
            propose_crew(
                congregation=place, name=f"Crew {n}", proposed_by=proposer, invitees=[member]
            )
    client = signed_in(member)
    client.get(reverse("notifications"))
    with django_assert_max_num_queries(12):
        page = text(client.get(reverse("notifications")))
    assert page.count("invites you to the crew") == min(3 * told, NOTIFICATIONS_SHOWN)


@pytest.mark.parametrize("day", [date(2027, 3, 28), date(2027, 10, 31)])
def test_the_daily_email_goes_once_at_eight_on_the_days_the_clocks_change(
    day: date, congregation: Congregation, member: Self, neighbour: Self
) -> None:
    neighbour.email_digest, neighbour.timezone = True, ZoneInfo("Europe/Berlin")
    neighbour.save()
    midnight = datetime.combine(day, time(0), tzinfo=UTC)
    propose_crew(
        congregation=congregation,
        name="Oak",
        proposed_by=member,
        invitees=[neighbour],
        now=midnight - timedelta(hours=3),
    )
    sent = {}
    for hour in range(24):
        now = midnight + timedelta(hours=hour)
        if send_daily_emails(now=now):
            sent[now] = now.astimezone(neighbour.timezone).hour
    assert list(sent.values()) == [8]


def test_one_who_comes_back_finds_nothing_old_new_again(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, facilitator: Self
) -> None:
    open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member)
    client = signed_in(crew_mate)
    assert unread(client) == 2  # the crew formed, and the conflict
    remove_member(membership=membership_of(crew_mate, congregation), removed_by=facilitator)
    _, token = invite(
        congregation=congregation, email=crew_mate.email, invited_by=facilitator, send_email=False
    )

    accept_invitation(token=token, self_=crew_mate)

    assert unread(client) == 0
    assert "Nothing is waiting for you." in waiting_section(client, reverse("home"))
    page = text(client.get(reverse("notifications")))
    assert "is formed" in page and "Mark all as read" not in page
