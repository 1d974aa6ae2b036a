"""One email a day instead of one each: what waits for a Self who chose it is gathered
into one email per congregation, once their morning has come, and sent once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail

from congregations.models import Ask, Congregation, Email, Notification, Self
from congregations.services import Notice, mark_read, notify, update_profile
from congregations.services import daily as daily_emails
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services.reminders import nudge_unlogged_meetings
from microsolidarity.models import ItemFailure
from tests.builders import congregation_url, membership_of, poison, scheduled_meeting

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

# 07:00 on Tuesday 5 January in Auckland (UTC+13 in summer).
BEFORE_EIGHT = datetime(2027, 1, 4, 18, 0, tzinfo=UTC)
AFTER_EIGHT = BEFORE_EIGHT + timedelta(hours=1, minutes=5)
NEXT_MORNING = AFTER_EIGHT + timedelta(days=1)


def early_riser(congregation: Congregation) -> Self:
    """A member in Auckland who takes one email a day."""
    self_ = MembershipFactory.create(
        congregation=congregation, member__timezone="Pacific/Auckland"
    ).member
    return update_profile(self_=self_, email_digest=True)


@pytest.fixture
def riser(congregation: Congregation) -> Self:
    return early_riser(congregation)


def ask(
    self_: Self, congregation: Congregation, about: str, *, at: datetime, kind: Ask = Ask.CONFLICT
) -> None:
    """Something that asks ``self_`` to act, as a service would tell them of it."""
    with tenant(congregation):
        notify(
            [
                Notice(
                    congregation_id=congregation.pk,
                    recipient=self_,
                    about=about,
                    text=f"Please confirm {about}",
                    path=f"/c/{congregation.slug}/{about.replace(':', '/')}/",
                    ask=kind,
                    subject="Something waits for you",
                    template="crews/email/rhythm_nudge.txt",
                    context={"crew": {"name": "Tuesday crew"}},
                )
            ],
            now=at,
        )


def daily_bodies(congregation: Congregation) -> list[str]:
    with tenant(congregation):
        emails = Email.objects.filter(key__startswith="daily:").order_by("created_at", "pk")
        return list(emails.values_list("body", flat=True))


def test_one_email_each_morning_with_all_that_waits_and_none_before(
    congregation: Congregation, riser: Self
) -> None:
    ask(riser, congregation, "conflict:1", at=BEFORE_EIGHT - timedelta(hours=9))
    ask(
        riser,
        congregation,
        "venture:2",
        at=BEFORE_EIGHT - timedelta(hours=8),
        kind=Ask.CO_OWNERSHIP,
    )
    with tenant(congregation):
        assert not Email.objects.exists()  # nothing on its own

    assert daily_emails.send_daily_emails(now=BEFORE_EIGHT) == 0
    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 1
    assert daily_emails.send_daily_emails(now=AFTER_EIGHT + timedelta(hours=1)) == 0

    assert send_due_emails(now=AFTER_EIGHT) == 1
    (message,) = mail.outbox
    assert message.to == [riser.email]
    assert message.subject == f"What waits for you in {congregation.name}"
    assert "2 things wait for you" in message.body
    for about in ("conflict/1", "venture/2"):
        assert f"{settings.SITE_URL}/c/{congregation.slug}/{about}/" in message.body
    assert "Please confirm conflict:1" in message.body
    with tenant(congregation):
        assert not Notification.objects.filter(emailed_at__isnull=True).exists()


def test_what_comes_after_the_day_s_email_waits_for_the_next_morning(
    congregation: Congregation, riser: Self
) -> None:
    ask(riser, congregation, "conflict:1", at=BEFORE_EIGHT)
    daily_emails.send_daily_emails(now=AFTER_EIGHT)
    ask(riser, congregation, "conflict:2", at=AFTER_EIGHT + timedelta(hours=1))

    assert daily_emails.send_daily_emails(now=AFTER_EIGHT + timedelta(hours=2)) == 0
    assert daily_emails.send_daily_emails(now=NEXT_MORNING) == 1

    first, second = daily_bodies(congregation)
    assert "conflict:1" in first and "conflict:2" not in first
    assert "One thing waits" in second and "conflict:2" in second and "conflict:1" not in second


def test_kinds_turned_off_and_things_done_are_left_out(
    congregation: Congregation, riser: Self
) -> None:
    update_profile(self_=riser, emails_about=set(Ask.values) - {Ask.CONFLICT})
    ask(riser, congregation, "conflict:1", at=BEFORE_EIGHT)
    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 0

    ask(riser, congregation, "venture:2", at=BEFORE_EIGHT, kind=Ask.CO_OWNERSHIP)
    ask(riser, congregation, "venture:3", at=BEFORE_EIGHT, kind=Ask.CO_OWNERSHIP)
    with tenant(congregation):
        mark_read(congregation_id=congregation.pk, about="venture:3", now=BEFORE_EIGHT)
    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 1

    (body,) = daily_bodies(congregation)
    assert "venture:2" in body and "venture:3" not in body and "conflict:1" not in body


def test_one_who_takes_an_email_each_is_not_sent_a_daily_one(
    congregation: Congregation, member: Self
) -> None:
    ask(member, congregation, "conflict:1", at=BEFORE_EIGHT)

    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 0
    with tenant(congregation):
        assert Email.objects.get().key == f"notice:conflict:1:{member.pk}"


def test_one_daily_email_per_congregation(congregation: Congregation, riser: Self) -> None:
    elsewhere = CongregationFactory.create(name="Elsewhere")
    MembershipFactory.create(congregation=elsewhere, member=riser)
    ask(riser, congregation, "conflict:1", at=BEFORE_EIGHT)
    ask(riser, elsewhere, "conflict:1", at=BEFORE_EIGHT)

    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 2
    assert len(daily_bodies(congregation)) == len(daily_bodies(elsewhere)) == 1


def test_one_that_fails_stops_no_other(
    monkeypatch: pytest.MonkeyPatch, congregation: Congregation
) -> None:
    elsewhere = CongregationFactory.create(name="Elsewhere")
    risers = {c: [early_riser(c) for _ in range(2)] for c in (congregation, elsewhere)}
    for place, selves in risers.items():
        for self_ in selves:
            ask(self_, place, "conflict:1", at=BEFORE_EIGHT)
    bad = risers[congregation][0]
    with tenant(congregation):
        poison(monkeypatch, daily_emails, "_send_daily", membership_of(bad, congregation))

    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 3
    failure = ItemFailure.objects.get(job="send_daily_emails")
    assert "poisoned item" in failure.last_error
    with tenant(congregation):
        assert Notification.objects.get(emailed_at__isnull=True).recipient == bad

    monkeypatch.undo()
    assert daily_emails.send_daily_emails(now=failure.retry_after) == 1
    assert daily_emails.send_daily_emails(now=failure.retry_after) == 0
    assert not ItemFailure.objects.exists()


def test_the_nudge_to_log_a_meeting_comes_in_the_daily_email_of_one_who_takes_it(
    crew: Crew, member: Self
) -> None:
    update_profile(self_=member, email_digest=True, timezone="Pacific/Auckland")
    meeting = scheduled_meeting(crew, BEFORE_EIGHT - timedelta(hours=30))

    assert nudge_unlogged_meetings(now=BEFORE_EIGHT) == 3
    with tenant(crew):
        assert member.pk not in Email.objects.values_list("recipient", flat=True)
    assert daily_emails.send_daily_emails(now=AFTER_EIGHT) == 1

    (body,) = daily_bodies(crew.congregation)
    assert f"Did {crew.name} meet? Log it by" in body
    page = congregation_url("crews:meeting", crew.congregation, pk=meeting.pk)
    assert settings.SITE_URL + page in body
