"""The missed-meeting job against its floor: one hand-written SQL statement that computes
the same deductions. Every run is inside a transaction that is rolled back, so the bench
database keeps its unsettled month for the next run (and the deferred foreign-key checks
of the job's inserts, made at commit, are not timed).

The job runs as production runs it: as the runtime role, its claims and batches through
the door between congregations (the crossing role, which row-level security lets
through). The floor has no door to go through, being no part of the app: it runs as the
schema's owner, whom row-level security lets through too, so the two read the same rows
on the same terms."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from django.core.management.base import CommandError
from django.db import transaction

from congregations.rls import as_owner
from crews.models import MeetingStatus
from reciprocity.rules import POINTS, Level, Rule
from reciprocity.services import apply_missed_meeting_deductions
from reciprocity.services.consistency import MEETINGS_A_RUN

# Every entry the job would write for the meetings due at %(now)s: each member of the crew
# at a meeting's start (reciprocity.rules.member_at) who was not marked present at it (a
# meeting nobody logged is missed by everyone), at meetings not cancelled whose grace
# period has passed and which nobody has settled yet. Written apart from the job's own
# statement on purpose: it is the floor the job is measured against, and
# tests/bench/test_seed_scale.py holds the two to the same count.
FLOOR_SQL = """
CREATE TEMPORARY TABLE floor_deductions ON COMMIT DROP AS
SELECT m.congregation_id, cm.member_id, m.crew_id, %(level)s AS level, %(rule)s AS rule,
       %(points)s AS points,
       'Missed the meeting: ' || c.name || ', '
           || to_char(m.starts_at AT TIME ZONE m.timezone, 'FMDD FMMonth YYYY') AS reason,
       m.starts_at AS occurred_at, %(now)s AS recorded_at,
       'missed:' || m.id || ':' || cm.member_id AS idempotency_key, m.id AS meeting_id
FROM crews_meeting m
JOIN congregations_congregation g ON g.id = m.congregation_id
JOIN crews_crew c ON c.id = m.crew_id
JOIN crews_crewmembership cm ON cm.crew_id = m.crew_id
     AND cm.joined_at <= m.starts_at AND (cm.left_at IS NULL OR cm.left_at > m.starts_at)
WHERE m.deductions_applied_at IS NULL
  AND m.status <> %(cancelled)s
  AND m.starts_at < %(now)s - make_interval(hours => g.meeting_grace_hours)
  AND (m.status <> %(logged)s OR NOT EXISTS (
      SELECT 1 FROM crews_attendance a
      WHERE a.meeting_id = m.id AND a.member_id = cm.member_id AND a.present
  ))
"""


# Each is timed this many times, the median reported: this machine is shared and noisy.
RUNS = 3
# Who may make PostgreSQL checkpoint (CHECKPOINT wants a superuser, or pg_checkpoint): the
# superuser the Makefile makes the roles as.
SUPERUSER_URL = os.environ.get(
    "POSTGRES_SUPERUSER_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


@dataclass(frozen=True)
class Run:
    """A run of the job as production makes it: at most MEETINGS_A_RUN meetings, started
    right after a checkpoint (the server makes one at least every five minutes; the job
    runs every fifteen), so that the first change it makes to each page writes the whole
    page to the WAL, as every run in production does."""

    seconds: float
    meetings: int
    wal_bytes: int

    @property
    def ms_per_meeting(self) -> float:
        return self.seconds * 1000 / self.meetings if self.meetings else 0.0

    @property
    def wal_kb_per_meeting(self) -> float:
        return self.wal_bytes / 1024 / self.meetings if self.meetings else 0.0


@dataclass(frozen=True)
class Deductions:
    job_seconds: float
    job_written: int
    floor_seconds: float
    floor_rows: int
    second_run_seconds: float
    second_run_written: int
    # The meetings the job settled: its time should grow with them, not with the ledger.
    meetings: int = 0
    # Checkpoints PostgreSQL made during the job's runs because the WAL they wrote passed
    # max_wal_size: each makes every page written after it log itself whole again, which
    # a run settling four times the meetings on four times the data meets and one on 1×
    # data may not (docs/scaling.md).
    checkpoints: int = 0
    # The WAL the median run wrote: what the job changed, which should grow with the
    # meetings it settles as its time should.
    wal_bytes: int = 0
    # Runs of production's size on the same data: what the job's growth is judged by.
    a_run: Run | None = None

    @property
    def ratio(self) -> float:
        return self.job_seconds / self.floor_seconds

    @property
    def month(self) -> Run:
        """The month settled at once, as a run: its time and WAL a meeting."""
        return Run(self.job_seconds, self.meetings, self.wal_bytes)

    @property
    def same_count(self) -> bool:
        return self.job_written == self.floor_rows


# The meetings the job settles at %(now)s: every one unsettled whose grace period has
# passed, cancelled ones too (settled without a deduction).
DUE_SQL = """
SELECT count(*) FROM crews_meeting m
JOIN congregations_congregation g ON g.id = m.congregation_id
WHERE m.deductions_applied_at IS NULL
  AND m.starts_at < %(now)s - make_interval(hours => g.meeting_grace_hours)
"""


def due_meetings(now: datetime) -> int:
    """How many meetings the job settles: counted as the owner, as the floor reads."""
    with as_owner() as owner, owner.cursor() as cursor:
        cursor.execute(DUE_SQL, {"now": now})
        return int(cursor.fetchone()[0])


def floor(now: datetime, runs: int = 1) -> list[tuple[float, int]]:
    """Seconds and rows of each of ``runs`` runs of the single-statement floor, one
    connection as the owner for them all."""
    params: dict[str, Any] = {
        "level": int(Level.CONSISTENCY),
        "rule": Rule.MISSED.value,
        "points": POINTS[Rule.MISSED],
        "now": now,
        "cancelled": MeetingStatus.CANCELLED.value,
        "logged": MeetingStatus.LOGGED.value,
    }
    timed = []
    with as_owner() as owner:
        for _ in range(runs):
            with transaction.atomic(), owner.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(FLOOR_SQL, params)
                seconds = time.perf_counter() - started
                cursor.execute("SELECT count(*) FROM floor_deductions")
                timed.append((seconds, cursor.fetchone()[0]))
                transaction.set_rollback(True)
    return timed


def job(now: datetime) -> tuple[float, int, float, int]:
    """Seconds and entries of the job, then of a second run right after it."""
    with transaction.atomic():
        started = time.perf_counter()
        written = apply_missed_meeting_deductions(now=now)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = apply_missed_meeting_deductions(now=now)
        second = time.perf_counter() - started
        transaction.set_rollback(True)
    return seconds, written, second, again


# The tables a run of the job writes to, and leaves dead rows in once rolled back.
WRITTEN = ("reciprocity_ledgerentry", "crews_meeting", "congregations_notification")


def tidy() -> None:
    """Vacuum away what a rolled-back run left: its entries and the meetings' old rows
    stay in the tables and their indexes as dead rows until a vacuum, which a machine
    without autovacuum (such as one that only runs tests) never makes, and each later run
    would read its way through them."""
    with as_owner() as owner, owner.cursor() as cursor:
        for table in WRITTEN:
            cursor.execute(f"VACUUM {table}")


def measure(now: datetime) -> Deductions:
    """The median of RUNS runs of each, after one run of the floor to bring the tables into
    memory, as they are for the job. Every run is rolled back, and each run of the job
    starts from tables without the dead rows of the one before (tidy)."""
    floors = sorted(floor(now, RUNS + 1)[1:])
    jobs = []
    checkpoints = 0
    for _ in range(RUNS):
        tidy()
        before, wal = requested_checkpoints(), wal_position()
        jobs.append((*job(now), wal_position() - wal))
        checkpoints += requested_checkpoints() - before
    tidy()
    a_run = production_run(now)
    jobs.sort()
    floor_seconds, floor_rows = floors[RUNS // 2]
    job_seconds, written, second_seconds, _, wal_bytes = jobs[RUNS // 2]
    return Deductions(
        job_seconds=job_seconds,
        job_written=written,
        floor_seconds=floor_seconds,
        floor_rows=floor_rows,
        second_run_seconds=second_seconds,
        # Any run's second pass that wrote something is a failure, not just the median's.
        second_run_written=max(j[3] for j in jobs),
        meetings=due_meetings(now),
        checkpoints=checkpoints,
        wal_bytes=wal_bytes,
        a_run=a_run,
    )


def production_run(now: datetime) -> Run:
    """The median of RUNS runs of the job as production makes them (Run), each rolled
    back and tidied after."""
    runs = []
    for _ in range(RUNS):
        checkpoint()
        wal = wal_position()
        with transaction.atomic():
            started = time.perf_counter()
            apply_missed_meeting_deductions(now=now, limit=MEETINGS_A_RUN)
            seconds = time.perf_counter() - started
            transaction.set_rollback(True)
        runs.append((seconds, wal_position() - wal))
        tidy()
    seconds, wal_bytes = sorted(runs)[RUNS // 2]
    return Run(seconds, min(MEETINGS_A_RUN, due_meetings(now)), wal_bytes)


def checkpoint() -> None:
    """Have PostgreSQL checkpoint now; a CommandError saying why if it cannot."""
    try:
        with psycopg.connect(SUPERUSER_URL, autocommit=True) as superuser:
            superuser.execute("CHECKPOINT")
    except psycopg.Error as error:
        raise CommandError(
            f"The job is timed right after a checkpoint, which only a superuser may ask "
            f"for: set POSTGRES_SUPERUSER_URL to one ({error})"
        ) from error


def wal_position() -> int:
    """Where the server's WAL has got to, in bytes (its LSN)."""
    with as_owner() as owner, owner.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def requested_checkpoints() -> int:
    """Checkpoints the server has made because its WAL passed max_wal_size, so far (the
    checkpointer counts them itself: no lag, unlike a backend's statistics)."""
    with as_owner() as owner, owner.cursor() as cursor:
        cursor.execute("SELECT checkpoints_req FROM pg_stat_bgwriter")
        return int(cursor.fetchone()[0])
