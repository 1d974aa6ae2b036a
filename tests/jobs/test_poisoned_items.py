"""One bad item never stops a job: for every periodic job, a poisoned item among good
items of two congregations fails alone, is recorded with its error, is retried later, and
everything else is done."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from pytest_django.fixtures import Settings

from congregations.models import Congregation, Email, Self
from congregations.selectors import member_selves
from congregations.services.outbox import Outgoing, queue_emails, send_due_emails
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew, Meeting, MeetingReminder
from crews.services import form_crew
from crews.services import reminders as crew_notices
from microsolidarity.models import ItemFailure
from microsolidarity.services.batches import MAX_ATTEMPTS, each_due
from reciprocity.models import Conflict, ConflictStatus, LedgerEntry
from reciprocity.rules import Rule
from reciprocity.services import conflicts as conflict_services
from reciprocity.services import consistency, open_conflict
from reciprocity.services import notices as game_notices
from tests.builders import poison, poison_batch, scheduled_meeting

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def crews_in_two_congregations(now: datetime) -> list[Crew]:
    """Two formed crews of three in each of two congregations."""
    return [
        crew
        for name in ("Kotahi", "Elsewhere")
        for crew in crews_of_three(2, now, CongregationFactory.create(name=name))
    ]


def crews_of_three(
    count: int, now: datetime, congregation: Congregation | None = None
) -> list[Crew]:
    """``count`` crews of three new members, formed 200 days before ``now``, in
    ``congregation`` (a new one when not given)."""
    congregation = congregation or CongregationFactory.create()
    crews = []
    for n in range(count):
        people = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
        crews.append(
            form_crew(
                congregation=congregation,
                name=f"Crew {n}",
                members=people,
                now=now - timedelta(days=200),
            )
        )
    return crews


def say_hello(congregation: Congregation, people: list[Self], now: datetime) -> None:
    """Queue a "Hello" to each of ``people``, behind the congregation's walls as its jobs
    queue their emails."""
    with tenant(congregation):
        queue_emails(
            [
                Outgoing(
                    congregation_id=congregation.pk,
                    recipient=person,
                    key=f"hello:{person.pk}",
                    subject="Hello",
                    template="crews/email/rhythm_nudge.txt",
                    context={"crew": {"name": "Tuesday crew"}, "url": "http://x"},
                )
                for person in people
            ],
            now=now,
        )


def failure(job: str) -> ItemFailure:
    return ItemFailure.objects.get(job=job)


def test_emails_one_refused_address_among_two_congregations(settings: Settings) -> None:
    settings.EMAIL_BACKEND = "tests.mail_backends.BouncingBackend"
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    with tenant(crews[0]):
        bad = Self.objects.filter(memberships__congregation=crews[0].congregation).first()
    assert bad is not None
    bad.email = "bounce@example.net"
    bad.save(update_fields=["email"])
    everyone = []
    for congregation in {crew.congregation for crew in crews}:
        with tenant(congregation):
            members = list(member_selves(congregation=congregation))
        say_hello(congregation, members, now)
        everyone += members

    assert send_due_emails(now=now) == len(everyone) - 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in everyone if p != bad)
    refused = failure("send_emails")
    with tenant(crews[0]):
        assert refused.item_id == Email.objects.get(recipient=bad).pk
    assert "No such user" in refused.last_error and refused.attempts == 1

    # The next minute's run does not take it again before its time, nor resend the others.
    assert send_due_emails(now=now + timedelta(minutes=1)) == 0
    assert send_due_emails(now=refused.retry_after) == 0
    assert failure("send_emails").attempts == 2
    assert len(mail.outbox) == len(everyone) - 1


def test_an_email_delivered_before_a_bad_one_is_never_sent_again(settings: Settings) -> None:
    """The batch that met a bad subject used to roll back the emails sent before it."""
    settings.EMAIL_BACKEND = "tests.mail_backends.BouncingBackend"
    now = timezone.now()
    congregation = CongregationFactory.create()
    people = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
    people[1].email = "bounce@example.net"
    people[1].save(update_fields=["email"])
    say_hello(congregation, people, now)
    for minute in range(MAX_ATTEMPTS * 20):
        send_due_emails(now=now + timedelta(minutes=minute))

    assert sorted(m.to[0] for m in mail.outbox) == sorted([people[0].email, people[2].email])
    with tenant(congregation):
        given_up = Email.objects.get(recipient=people[1])
    assert given_up.failed_at is not None and "No such user" in given_up.last_error
    assert failure("send_emails").gave_up_at is not None


def test_a_subject_built_from_any_name_is_one_line_that_fits() -> None:
    """Rows from before names were checked at the door (or any future slip) cannot make a
    subject with a second header, or one longer than its column."""
    now = timezone.now()
    congregation = CongregationFactory.create()
    person = MembershipFactory.create(congregation=congregation).member
    with tenant(congregation):
        queue_emails(
            [
                Outgoing(
                    congregation_id=congregation.pk,
                    recipient=person,
                    key="evil",
                    subject="When does Evil\nBcc: x@example.org" + "x" * 300 + " meet next?",
                    template="crews/email/rhythm_nudge.txt",
                    context={"crew": {"name": "Evil"}, "url": "http://x"},
                )
            ],
            now=now,
        )

    assert send_due_emails(now=now) == 1
    (message,) = mail.outbox
    assert "\n" not in message.subject and len(message.subject) <= 200
    assert message.subject.startswith("When does Evil Bcc: x@example.org")
    assert message.to == [person.email] and not message.bcc


def test_reminders(monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    meetings = [scheduled_meeting(crew, now + timedelta(hours=2)) for crew in crews]
    with tenant(meetings[1]):
        bad = MeetingReminder.objects.get(meeting=meetings[1])
    poison(monkeypatch, crew_notices, "_remind", bad)

    assert crew_notices.send_due_reminders(now=now) == 3 * 3
    with across_congregations():
        assert MeetingReminder.objects.filter(sent_at__isnull=False).count() == 3
    assert failure("send_meeting_reminders").item_id == bad.pk
    assert "poisoned item" in failure("send_meeting_reminders").last_error

    assert crew_notices.send_due_reminders(now=now + timedelta(minutes=5)) == 0
    assert failure("send_meeting_reminders").attempts == 2


def test_unlogged_meeting_nudges(monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    meetings = [scheduled_meeting(crew, now - timedelta(hours=30)) for crew in crews]
    poison(monkeypatch, crew_notices, "_nudge", meetings[2])

    assert crew_notices.nudge_unlogged_meetings(now=now) == 3 * 3
    with across_congregations():
        assert Meeting.objects.filter(log_nudge_sent_at__isnull=False).count() == 3
    assert failure("nudge_unlogged_meetings").item_id == meetings[2].pk

    assert crew_notices.nudge_unlogged_meetings(now=now + timedelta(minutes=5)) == 0
    assert failure("nudge_unlogged_meetings").attempts == 2


def test_quiet_crew_nudges(monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    bad = crews[3]
    poison_batch(monkeypatch, crew_notices, "_rhythm_nudges", bad)

    assert crew_notices.nudge_quiet_crews(now=now) == 3 * 3
    assert failure("nudge_quiet_crews").item_id == bad.pk
    with across_congregations():
        assert list(Crew.objects.filter(rhythm_nudged_at__isnull=True)) == [bad]

    assert crew_notices.nudge_quiet_crews(now=now + timedelta(minutes=5)) == 0
    assert failure("nudge_quiet_crews").attempts == 2


def test_missed_meeting_deductions_go_meeting_by_meeting_when_a_batch_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    meetings = [scheduled_meeting(crew, now - timedelta(days=3)) for crew in crews]
    bad = meetings[0]
    real: Callable[..., int] = consistency.settle_meetings

    def poisoned(meetings: list[int], now: datetime) -> int:
        if bad.pk in meetings:
            raise RuntimeError(f"poisoned item {bad.pk}")
        return real(meetings, now)

    monkeypatch.setattr(consistency, "settle_meetings", poisoned)

    assert consistency.settle_missed_meetings(now=now) == 3 * 3
    with across_congregations():
        assert set(LedgerEntry.objects.values_list("meeting", flat=True)) == {
            m.pk for m in meetings[1:]
        }
        assert Email.objects.filter(key__startswith="missed:").count() == 9
        assert Meeting.objects.filter(deductions_applied_at__isnull=True).get() == bad
    assert failure("apply_missed_meeting_deductions").item_id == bad.pk

    # Fixed meanwhile: the retry settles it, once.
    monkeypatch.setattr(consistency, "settle_meetings", real)
    retry = failure("apply_missed_meeting_deductions").retry_after
    assert consistency.settle_missed_meetings(now=retry) == 3
    assert not ItemFailure.objects.exists()
    assert consistency.settle_missed_meetings(now=retry) == 0


def open_conflicts(crews: list[Crew], now: datetime) -> list[Conflict]:
    conflicts = []
    for crew in crews:
        with tenant(crew):
            a, b, _ = crew.memberships.order_by("pk").values_list("member", flat=True)
        parties = list(Self.objects.filter(pk__in=[a, b]))
        conflicts.append(
            open_conflict(crew=crew, parties=parties, opened_by=parties[0], title="", now=now)
        )
    return conflicts


def test_conflict_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    conflicts = open_conflicts(crews_in_two_congregations(now), now - timedelta(days=25))
    poison(monkeypatch, game_notices, "_warn", conflicts[1])

    assert game_notices.warn_conflicts_nearing_deadline(now=now) == 3 * 2
    with across_congregations():
        assert Conflict.objects.filter(warned_at__isnull=False).count() == 3
    assert failure("warn_conflicts").item_id == conflicts[1].pk

    assert game_notices.warn_conflicts_nearing_deadline(now=now + timedelta(minutes=5)) == 0
    assert failure("warn_conflicts").attempts == 2


def test_conflict_expiry(monkeypatch: pytest.MonkeyPatch) -> None:
    now = timezone.now()
    conflicts = open_conflicts(crews_in_two_congregations(now), now - timedelta(days=40))
    real = conflict_services._close

    def poisoned(conflict: Conflict, *args: Any) -> int:
        if conflict == conflicts[2]:
            raise RuntimeError(f"poisoned item {conflict.pk}")
        return real(conflict, *args)

    monkeypatch.setattr(conflict_services, "_close", poisoned)

    assert conflict_services.expire_open_conflicts(now=now) == 3 * 2
    with across_congregations():
        assert Conflict.objects.get(status=ConflictStatus.OPEN) == conflicts[2]
        assert LedgerEntry.objects.filter(rule=Rule.EXPIRED).count() == 6
    assert failure("expire_open_conflicts").item_id == conflicts[2].pk

    assert conflict_services.expire_open_conflicts(now=now + timedelta(minutes=5)) == 0
    assert failure("expire_open_conflicts").attempts == 2


def test_an_undeliverable_invitation_says_so_and_spends_no_quota(
    settings: Settings, client: Any, congregation: Congregation, member: Self
) -> None:
    settings.EMAIL_BACKEND = "tests.mail_backends.BouncingBackend"
    from congregations.selectors import invitations_left, pending_invitations
    from congregations.services import invite
    from tests.builders import congregation_url, membership_of

    invitation, _ = invite(congregation=congregation, email="bounce@example.net", invited_by=member)
    now = timezone.now()
    for minute in range(MAX_ATTEMPTS * 20):
        send_due_emails(now=now + timedelta(minutes=minute))

    client.force_login(member)
    page = client.get(congregation_url("invitations", congregation)).content.decode()
    assert "The email could not be delivered" in page and "No such user" in page
    with tenant(congregation):
        assert invitations_left(membership=membership_of(member, congregation)) == 2
        assert invitation not in pending_invitations(congregation=congregation, now=timezone.now())


def test_operators_see_failed_items_and_failed_emails_in_the_admin(
    settings: Settings, client: Any
) -> None:
    settings.EMAIL_BACKEND = "tests.mail_backends.BouncingBackend"
    congregation = CongregationFactory.create()
    person = MembershipFactory.create(congregation=congregation).member
    person.email = "bounce@example.net"
    person.save(update_fields=["email"])
    now = timezone.now()
    say_hello(congregation, [person], now)
    send_due_emails(now=now)
    client.force_login(Self.objects.create_superuser("op@example.net", "pw", display_name="Op"))

    failures = client.get("/admin/microsolidarity/itemfailure/").content.decode()
    emails = client.get("/admin/congregations/email/").content.decode()

    assert "send_emails" in failures and "No such user" in failures
    assert "bounce@example.net" in emails


def test_deduction_emails_go_meeting_by_meeting_when_a_batch_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    meetings = [scheduled_meeting(crew, now - timedelta(days=3)) for crew in crews]
    consistency.apply_missed_meeting_deductions(now=now)
    bad = meetings[2]
    real = game_notices._queue_missed
    poison_batch(monkeypatch, game_notices, "_queue_missed", bad)

    assert game_notices.queue_missed_meeting_emails(now=now) == 3 * 3
    assert failure("queue_missed_meeting_emails").item_id == bad.pk
    with across_congregations():
        assert Meeting.objects.get(deduction_emails_queued_at__isnull=True) == bad

    monkeypatch.setattr(game_notices, "_queue_missed", real)
    retry = failure("queue_missed_meeting_emails").retry_after
    assert game_notices.queue_missed_meeting_emails(now=retry) == 3
    assert game_notices.queue_missed_meeting_emails(now=retry) == 0
    with across_congregations():
        assert Email.objects.filter(key__startswith="missed:").count() == 12


def test_deductions_settled_days_ago_are_no_news() -> None:
    """A loaded history, or a job that was down for days: no email about old deductions."""
    now = timezone.now()
    (crew, *_) = crews_in_two_congregations(now)
    scheduled_meeting(crew, now - timedelta(days=10))
    consistency.apply_missed_meeting_deductions(now=now - timedelta(days=7))

    assert game_notices.queue_missed_meeting_emails(now=now) == 0
    with across_congregations():
        assert not Email.objects.exists()
        assert not Meeting.objects.filter(deduction_emails_queued_at__isnull=True).exists()


def test_an_item_resting_after_a_failure_stays_out_of_the_next_whole_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fast path takes a batch by its range of ids: one given up inside that range
    must not be tried again with it."""
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    # The first falls due only later; the second is the bad one.
    early = scheduled_meeting(crews[0], now - timedelta(days=1))
    bad = scheduled_meeting(crews[1], now - timedelta(days=3))
    real: Callable[..., int] = consistency.settle_meetings
    tried: list[set[int]] = []

    def poisoned(meetings: list[int], now: datetime) -> int:
        tried.append(set(meetings))
        if bad.pk in meetings:
            raise RuntimeError(f"poisoned item {bad.pk}")
        return real(meetings, now)

    monkeypatch.setattr(consistency, "settle_meetings", poisoned)
    consistency.apply_missed_meeting_deductions(now=now)
    ItemFailure.objects.update(gave_up_at=now)
    later = scheduled_meeting(crews[2], now - timedelta(days=3))
    tried.clear()

    # Two days on, the early meeting and the later one fall due, on either side of the bad.
    assert consistency.apply_missed_meeting_deductions(now=now + timedelta(days=2)) == 6
    assert tried == [{early.pk, later.pk}]


@pytest.mark.parametrize("gave_up", [False, True], ids=["resting", "given up"])
def test_an_item_another_worker_failed_after_the_run_read_it_is_left_alone(
    gave_up: bool,
) -> None:
    """A run reads what is due once, then works through it: an item that another worker
    failed on (or gave up on) meanwhile keeps its rest, and its record of failure."""
    now = timezone.now()
    meetings = [
        scheduled_meeting(crew, now - timedelta(hours=30)) for crew in crews_of_three(3, now)
    ]
    first, _, last = (m.pk for m in meetings)
    processed: list[int] = []

    def due() -> Any:
        return Meeting.objects.filter(pk__in=[first, _, last], log_nudge_sent_at__isnull=True)

    def process(meeting: Meeting) -> int:
        if meeting.pk == first:
            ItemFailure.objects.create(
                job="a job",
                item_id=last,
                congregation_id=meetings[2].congregation_id,
                first_failed_at=now,
                retry_after=now + timedelta(minutes=2),
                attempts=MAX_ATTEMPTS if gave_up else 1,
                gave_up_at=now if gave_up else None,
                last_error="RuntimeError: on the other worker",
            )
        processed.append(meeting.pk)
        Meeting.objects.filter(pk=meeting.pk).update(log_nudge_sent_at=now)
        return 1

    assert each_due("a job", due, process, now=now, batch=1) == 2
    assert last not in processed
    assert ItemFailure.objects.get(item_id=last).attempts == (MAX_ATTEMPTS if gave_up else 1)
