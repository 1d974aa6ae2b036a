"""The missed-meeting job on a real worker: −5 once per member per meeting, whether it runs
twice, twice at once, or fails half-way and is retried; and one email saying why."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from congregations.models import Email, Self
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from reciprocity.models import LedgerEntry
from reciprocity.rules import Rule
from reciprocity.services import consistency
from reciprocity.tasks import apply_missed_meeting_deductions
from tests.builders import scheduled_meeting

from ..waiting import wait_for


def unlogged_meetings(crew: Crew, count: int) -> list[Meeting]:
    """Meetings nobody logged, each past the 48-hour grace period."""
    started = timezone.now() - timedelta(days=3)
    return [scheduled_meeting(crew, started - timedelta(days=30 * n)) for n in range(count)]


def deductions(crew: Crew) -> list[tuple[int, int, int]]:
    with tenant(crew):
        return sorted(
            LedgerEntry.objects.filter(rule=Rule.MISSED).values_list(
                "meeting_id", "member_id", "points"
            )
        )


def unsettled(crew: Crew) -> int:
    with tenant(crew):
        return Meeting.objects.filter(deductions_applied_at__isnull=True).count()


def expected(meetings: list[Meeting], crew: Crew) -> list[tuple[int, int, int]]:
    with tenant(crew):
        members = list(crew.memberships.values_list("member_id", flat=True))
    return sorted((m.pk, member, -5) for m in meetings for member in members)


def test_runs_that_overlap_deduct_once(crew: Crew, overlapping_worker: None) -> None:
    meetings = unlogged_meetings(crew, 4)
    for _ in range(4):
        apply_missed_meeting_deductions.delay()
    wait_for(lambda: len(deductions(crew)) >= 12, what="the deductions")
    wait_for(lambda: unsettled(crew) == 0)
    apply_missed_meeting_deductions.delay()
    wait_for(lambda: len(mail.outbox) >= 12, what="one email per deduction")
    assert deductions(crew) == expected(meetings, crew)
    assert len(mail.outbox) == 12


def test_a_run_that_fails_half_way_is_retried_and_leaves_the_ledger_right(
    crew: Crew, celery_worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    meetings = unlogged_meetings(crew, 3)
    monkeypatch.setattr(consistency, "BATCH", 1)
    real_write: Callable[..., int] = consistency.settle_meetings
    calls = []

    def write_then_lose_the_connection(meetings: Any, now: Any) -> int:
        calls.append(len(meetings))
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real_write(meetings, now)

    monkeypatch.setattr(consistency, "settle_meetings", write_then_lose_the_connection)
    apply_missed_meeting_deductions.delay()

    wait_for(lambda: len(deductions(crew)) == 9, timeout=30, what="the retried run to finish")
    assert len(calls) == 4  # one batch, a failed batch, then the retry's two
    assert deductions(crew) == expected(meetings, crew)


@pytest.mark.embedded
@pytest.mark.django_db
def test_the_email_says_why_and_is_sent_once(crew: Crew, member: Self) -> None:
    (meeting,) = unlogged_meetings(crew, 1)
    assert consistency.settle_missed_meetings() == 3
    assert consistency.settle_missed_meetings() == 0
    # One email per deduction, queued with it; a second run queues none.
    with tenant(crew):
        assert Email.objects.filter(key__startswith="missed:").count() == 3

    send_due_emails()
    email = next(m for m in mail.outbox if m.to == [member.email])
    assert email.subject == f"-5 points: a missed {crew.name} meeting"
    local = meeting.starts_at.astimezone(member.timezone)
    assert f"{local:%H:%M} {local:%Z}" in email.body
    # The link a facilitator needs to correct it, which works for one outside the crew.
    with tenant(crew):
        entry = LedgerEntry.objects.get(member=member, rule=Rule.MISSED)
    link = reverse(
        "reciprocity:entry", kwargs={"congregation_slug": crew.congregation.slug, "pk": entry.pk}
    )
    assert link in email.body
    assert "you were not marked present" in email.body
