"""A job catching up on a full database (a first start, a long outage) takes a bounded
share of its work a run and leaves the rest due for the next, instead of doing it all at
once; and a fresh install's schedule starts its jobs a minute apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from congregations.models import Email
from congregations.services import outbox
from congregations.services.outbox import send_due_emails
from congregations.tenancy import across_congregations
from crews.models import Crew, Meeting
from crews.services import reminders as crew_notices
from microsolidarity.schedule import (
    FIRST_RUNS_APART,
    PERIODIC_TASKS,
    first_run_offsets,
    sync_periodic_tasks,
)
from microsolidarity.services.heartbeats import record_run, stale_tasks
from reciprocity.models import LedgerEntry
from reciprocity.services import consistency
from tests.builders import scheduled_meeting
from tests.jobs.test_poisoned_items import crews_of_three, say_hello

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db]


def test_the_outbox_sends_at_most_its_bound_a_run_the_oldest_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = timezone.now()
    congregation = CongregationFactory.create()
    people = [MembershipFactory.create(congregation=congregation).member for _ in range(5)]
    say_hello(congregation, people, now)
    monkeypatch.setattr(outbox, "EMAILS_A_RUN", 2)

    assert [send_due_emails(now=now) for _ in range(4)] == [2, 2, 1, 0]
    assert [m.to for m in mail.outbox] == [[p.email] for p in people]
    with across_congregations():
        assert not Email.objects.filter(sent_at__isnull=True).exists()


def test_the_missed_meeting_job_settles_a_bounded_number_of_meetings_a_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = timezone.now()
    meetings = [scheduled_meeting(crew, now - timedelta(days=3)) for crew in crews_of_three(4, now)]
    monkeypatch.setattr(consistency, "MEETINGS_A_RUN", 3)

    # Three meetings of three members missed: nine entries, and their nine emails.
    assert consistency.settle_missed_meetings(now=now) == 9
    with across_congregations():
        settled = Meeting.objects.filter(deductions_applied_at__isnull=False)
        assert sorted(settled.values_list("pk", flat=True)) == [m.pk for m in meetings[:3]]
        assert settled.filter(deduction_emails_queued_at__isnull=False).count() == 3
        assert Email.objects.filter(key__startswith="missed:").count() == 9

    # The fourth waits for the next run, which settles it; then nothing is left.
    assert consistency.settle_missed_meetings(now=now) == 3
    assert consistency.settle_missed_meetings(now=now) == 0
    with across_congregations():
        assert LedgerEntry.objects.count() == 12
        assert Email.objects.filter(key__startswith="missed:").count() == 12


def test_a_fresh_install_starts_its_jobs_a_minute_apart_the_heartbeat_at_once() -> None:
    PeriodicTask.objects.all().delete()
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    sync_periodic_tasks(now=now)

    starts = dict(PeriodicTask.objects.values_list("name", "start_time"))
    assert set(starts) == set(PERIODIC_TASKS)
    assert starts["heartbeat"] == now
    offsets = sorted(start - now for start in starts.values())
    assert offsets == [i * FIRST_RUNS_APART for i in range(len(PERIODIC_TASKS))]
    assert timedelta(minutes=1) == FIRST_RUNS_APART
    assert first_run_offsets() == {name: start - now for name, start in starts.items()}
    # Once its start has come, each is due at once: nothing older than its interval ran.
    assert all(
        last < now - PERIODIC_TASKS[name].every
        for name, last in PeriodicTask.objects.values_list("name", "last_run_at")
    )


def test_a_later_migrate_keeps_the_times_beat_and_the_first_start_set() -> None:
    PeriodicTask.objects.all().delete()
    first = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    sync_periodic_tasks(now=first)
    ran = first + timedelta(hours=5)
    PeriodicTask.objects.filter(name="nudge_quiet_crews").update(last_run_at=ran)

    sync_periodic_tasks(now=first + timedelta(days=30))

    task = PeriodicTask.objects.get(name="nudge_quiet_crews")
    assert task.last_run_at == ran
    assert task.start_time == first + first_run_offsets()["nudge_quiet_crews"]


def test_a_job_that_has_not_run_yet_is_stale_only_once_its_first_run_is_overdue() -> None:
    PeriodicTask.objects.all().delete()
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    sync_periodic_tasks(now=now)
    last = now + first_run_offsets()["forget_expired"]
    for name in PERIODIC_TASKS:
        if name != "forget_expired":
            record_run(name, now=last)

    assert stale_tasks(now=last) == []
    assert stale_tasks(now=last + timedelta(minutes=5)) == []
    assert stale_tasks(now=last + timedelta(minutes=5, seconds=1)) == ["forget_expired"]
    # Without a schedule to say when it starts, one that never ran is stale.
    PeriodicTask.objects.filter(name="forget_expired").delete()
    assert stale_tasks(now=last) == ["forget_expired"]


def test_the_rhythm_job_nudges_a_bounded_number_of_crews_a_run_and_then_reads_none(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Mid-month, so that the runs below fall in one month.
    now = timezone.now().replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    crews = crews_of_three(3, now)
    monkeypatch.setattr(crew_notices, "CREWS_A_RUN", 2)

    # Two crews of three members a run: six emails, then the third crew's three.
    assert crew_notices.nudge_quiet_crews(now=now) == 6
    assert crew_notices.nudge_quiet_crews(now=now + timedelta(hours=1)) == 3
    with across_congregations():
        assert set(Crew.objects.values_list("rhythm_nudged_at", flat=True)) == {
            now,
            now + timedelta(hours=1),
        }

    # Every quiet crew nudged this month: a run claims none, whatever the number of crews.
    with CaptureQueriesContext(connection) as idle:
        assert crew_notices.nudge_quiet_crews(now=now + timedelta(hours=2)) == 0
    assert not [q for q in idle.captured_queries if "FOR UPDATE" in q["sql"]]
    with across_congregations():
        assert Email.objects.filter(key__startswith="rhythm:").count() == 9
    assert len(crews) == 3


def test_a_run_nudges_its_quiet_crews_in_the_same_queries_however_many_there_are() -> None:
    # A first start on a full database finds a thousand quiet crews: crew by crew, they
    # held a worker for a minute while members clicked.
    now = timezone.now().replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    counts = []
    for crews in (2, 6):
        crews_of_three(crews, now, CongregationFactory.create())
        with CaptureQueriesContext(connection) as run:
            assert crew_notices.nudge_quiet_crews(now=now) == crews * 3
        counts.append(len(run))  # the crews nudged are not due again this month

    assert counts[0] == counts[1], counts
