"""Each kind of notification that asks can be emailed or not, and everything can come in
one email a day instead: chosen on the profile, honoured wherever such an email is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from congregations.models import Ask, Email, EmailOptOut, Notification, Self
from congregations.services import update_profile
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services.reminders import nudge_unlogged_meetings
from tests.builders import people, refused, scheduled_meeting
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

PROFILE = {"display_name": "Ben O.", "timezone": "Europe/Amsterdam", "reminders_enabled": "on"}


def opted_out(self_: Self) -> set[str]:
    return set(EmailOptOut.objects.filter(owner=self_).values_list("ask", flat=True))


def test_the_kinds_not_chosen_are_turned_off_and_back_on(member: Self) -> None:
    update_profile(self_=member, emails_about=[Ask.CONFLICT, Ask.DISPUTE])
    assert opted_out(member) == set(Ask.values) - {Ask.CONFLICT, Ask.DISPUTE}

    update_profile(self_=member, emails_about=Ask.values)
    assert opted_out(member) == set()


def test_a_kind_that_does_not_exist_is_refused(member: Self) -> None:
    with refused("Choose among the kinds of email listed."):
        update_profile(self_=member, display_name="Someone else", emails_about=["gossip"])


def test_a_kind_turned_off_is_not_emailed_but_still_waits_in_the_app(
    crew: Crew, member: Self
) -> None:
    now = timezone.now()
    meeting = scheduled_meeting(crew, now - timedelta(hours=30))
    update_profile(self_=member, emails_about=set(Ask.values) - {Ask.MEETING_TO_LOG})

    nudge_unlogged_meetings(now=now)

    with tenant(crew):
        told = set(
            Notification.objects.filter(about=f"meeting-to-log:{meeting.pk}").values_list(
                "recipient", flat=True
            )
        )
        emailed = set(Email.objects.values_list("recipient", flat=True))
    assert told == {person.pk for person in people(crew)}
    assert emailed == told - {member.pk}


def test_the_profile_shows_the_choices_and_saves_them(
    client: Client, member: Self, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    update_profile(self_=member, emails_about=set(Ask.values) - {Ask.DEDUCTION})
    client.force_login(member)

    with django_assert_max_num_queries(15):
        page = text(client.get("/profile/"))

    assert "Email me about" in page and "One email a day instead of one each" in page
    for ask in Ask:
        assert str(ask.label) in page
    assert 'value="conflict" id="id_emails_about_1" checked' in page
    assert 'value="deduction" id="id_emails_about_5">' in page
    assert 'for="id_email_digest"' in page

    response = client.post(
        "/profile/", {**PROFILE, "emails_about": [Ask.CONFLICT], "email_digest": "on"}
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.email_digest is True and member.display_name == "Ben O."
    assert opted_out(member) == set(Ask.values) - {Ask.CONFLICT}


def test_a_choice_that_is_not_offered_shows_its_error_next_to_the_field(
    client: Client, member: Self
) -> None:
    client.force_login(member)

    response = client.post("/profile/", {**PROFILE, "emails_about": ["gossip"]})

    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"emails_about"}
    assert opted_out(member) == set()
    member.refresh_from_db()
    assert member.display_name != "Ben O."
