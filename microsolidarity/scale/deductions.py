"""The missed-meeting job against its floor: one hand-written SQL statement that computes
the same deductions. Both run inside one transaction that is rolled back, so the bench
database keeps its unsettled month for the next run."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from crews.models import MeetingStatus
from reciprocity.models import Level, Rule
from reciprocity.rules import POINTS
from reciprocity.services import apply_missed_meeting_deductions

# Every entry the job would write for the meetings due at %(now)s: each member of the crew
# at a meeting's start who was not marked present at it (a meeting nobody logged is missed
# by everyone), at meetings not cancelled whose grace period has passed and which nobody
# has settled yet.
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


@dataclass(frozen=True)
class Deductions:
    job_seconds: float
    job_written: int
    floor_seconds: float
    floor_rows: int
    second_run_seconds: float
    second_run_written: int

    @property
    def ratio(self) -> float:
        return self.job_seconds / self.floor_seconds

    @property
    def same_count(self) -> bool:
        return self.job_written == self.floor_rows


def floor(now: datetime) -> tuple[float, int]:
    """Seconds and rows of the single-statement floor, in a savepoint rolled back after."""
    params: dict[str, Any] = {
        "level": int(Level.CONSISTENCY),
        "rule": Rule.MISSED.value,
        "points": POINTS[Rule.MISSED],
        "now": now,
        "cancelled": MeetingStatus.CANCELLED.value,
        "logged": MeetingStatus.LOGGED.value,
    }
    with connection.cursor() as cursor:
        sid = transaction.savepoint()
        started = time.perf_counter()
        cursor.execute(FLOOR_SQL, params)
        seconds = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM floor_deductions")
        rows = cursor.fetchone()[0]
        transaction.savepoint_rollback(sid)
    return seconds, rows


def measure(now: datetime) -> Deductions:
    with transaction.atomic():
        floor(now)  # once to bring the tables into memory, as they are for the job
        runs = sorted(floor(now) for _ in range(3))
        floor_seconds, floor_rows = runs[1]
        started = time.perf_counter()
        written = apply_missed_meeting_deductions(now=now)
        job_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = apply_missed_meeting_deductions(now=now)
        second_seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    return Deductions(job_seconds, written, floor_seconds, floor_rows, second_seconds, again)
