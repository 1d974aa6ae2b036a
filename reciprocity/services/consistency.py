"""Level 3, consistency: points for meeting, a deduction for missing a meeting."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone, translation

from congregations.models import Congregation, Notification, Self
from crews.models import Attendance, Crew, CrewMembership, Meeting, MeetingStatus
from microsolidarity.copy_csv import Params
from microsolidarity.services.batches import each_due

from ..models import LedgerEntry
from ..reasons_sql import clock, meeting_reason
from ..rules import (
    LEVELS,
    POINTS,
    REASON_LENGTH,
    WORDING,
    WRITTEN_IN,
    Parts,
    Rule,
    consistency_points,
    entry_key,
    meeting_parts,
    written_reasons,
)
from .ledger import describe, entry, write
from .notices import queue_missed_meeting_emails

TABLES = {
    "ledger": LedgerEntry._meta.db_table,
    "meeting": Meeting._meta.db_table,
    "crew": Crew._meta.db_table,
    "crew_membership": CrewMembership._meta.db_table,
    "attendance": Attendance._meta.db_table,
    "notification": Notification._meta.db_table,
}

# Meetings settled per transaction by the missed-meeting job: a crash loses one batch's
# work at most, and the next run picks it up. Every 15 minutes a run finds a few dozen;
# a month of 40,000 members' meetings (9,000) is still one batch. Fewer on SQLite, whose
# statements may take as few as 999 parameters (three a meeting there).
BATCH = 10_000
# Meetings one run of the job settles (it runs every 15 minutes): a first start on a full
# database, or a job that was down for weeks, catches up over several runs rather than in
# one that holds a worker for minutes and queues every email at once.
MEETINGS_A_RUN = 2_000


def award_consistency(
    *, meeting: Meeting, attendees: Iterable[Self], logged_by: Self, now: datetime
) -> int:
    """Points for each attendee's n-th logged meeting in this crew, this one included.
    Called by crews.services.log_meeting, inside its transaction, after the attendance."""
    attendees = list(attendees)
    counts = dict(
        Attendance.objects.filter(
            member__in=attendees,
            present=True,
            meeting__crew_id=meeting.crew_id,
            meeting__status=MeetingStatus.LOGGED,
        )
        .values("member_id")
        .annotate(n=Count("id"))
        .values_list("member_id", "n")
    )
    label = describe(meeting)
    return write(
        [
            entry(
                congregation_id=meeting.congregation_id,
                crew_id=meeting.crew_id,
                member_id=person.pk,
                rule=Rule.ATTENDED,
                points=consistency_points(counts[person.pk]),
                parts={**label, "nth": counts[person.pk]},
                key=entry_key(Rule.ATTENDED, meeting.pk, person.pk),
                occurred_at=meeting.starts_at,
                recorded_by=logged_by,
                now=now,
                meeting=meeting,
            )
            for person in attendees
        ]
    )


def apply_missed_meeting_deductions(
    *,
    congregation: Congregation | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> int:
    """−5 for each member of a crew at a meeting's start who was not marked present, once
    the congregation's grace period for logging has passed. A meeting nobody logged counts
    as missed by everyone; one cancelled before its start costs nobody. Each meeting is
    settled once: run twice, or twice at once, the second run writes nothing. With
    ``limit``, it settles at most that many meetings, the rest in later runs. Returns how
    many entries it wrote."""
    now = now or timezone.now()
    congregations = Congregation.objects.all()
    if congregation is not None:
        congregations = congregations.filter(pk=congregation.pk)
    graces = set(congregations.values_list("meeting_grace_hours", flat=True))
    if not graces:
        return 0
    overdue = Q()
    for hours in graces:
        overdue |= Q(
            congregation__meeting_grace_hours=hours, starts_at__lt=now - timedelta(hours=hours)
        )

    def due() -> QuerySet[Meeting]:
        return Meeting.objects.filter(
            overdue, congregation__in=congregations, deductions_applied_at__isnull=True
        )

    # Settled set by set, a batch in one statement; a batch that fails goes meeting by
    # meeting, so one bad meeting is marked failed and every other is settled. The lambdas
    # look settle_meetings up when called (the tests poison it).
    return each_due(
        "apply_missed_meeting_deductions",
        due,
        lambda meeting: settle_meetings([meeting.pk], now),
        now=now,
        batch=_batch_size(),
        process_batch=lambda claimed: settle_meetings(_claim(claimed), now),
        limit=limit,
    )


def _batch_size() -> int:
    limit = connection.features.max_query_params
    return BATCH if limit is None else min(BATCH, limit // 3 - 5)


def _claim(meetings: QuerySet[Meeting]) -> list[int]:
    """The ids of the batch's meetings, locked by the query that reads them (in no order:
    a meeting's own is by start)."""
    return list(meetings.order_by().values_list("pk", flat=True))


def settle_meetings(meetings: list[int], now: datetime) -> int:
    """−5 for each member of each of ``meetings``' crews at its start who was not marked
    present, a meeting not yet settled; then each is marked settled, and the nudges to log
    it are closed (logging has closed: nobody's to do any more, nor in a daily email).
    The caller holds the meetings' rows. Returns how many entries were written."""
    if not meetings:
        return 0
    if connection.vendor == "postgresql":
        return _settle_in_one_statement(meetings, now)
    return _settle_set_by_set(meetings, now)


# The deductions for meetings ``m`` (with their crew's id, start and status): an entry for
# every member of the crew at a meeting's start (the join on crew_membership is
# rules.member_at in SQL) not marked present at it. Only a logged meeting's attendance
# counts: taps on a meeting nobody logged are a draft, and such a meeting is missed by
# everyone. ON CONFLICT keeps the once-per-member-per-meeting key. Both statements below
# end with it.
MISSED_BY = """
JOIN {crew_membership} cm ON cm.crew_id = m.crew_id AND cm.joined_at <= m.starts_at
     AND (cm.left_at IS NULL OR cm.left_at > m.starts_at)
WHERE (m.status <> '{logged}' OR NOT EXISTS (
    SELECT 1 FROM {attendance} a
    WHERE a.meeting_id = m.id AND a.member_id = cm.member_id AND a.present
))"""
INSERT = """INSERT INTO {ledger} (congregation_id, member_id, crew_id, level, rule, points, reason,
                      reason_parts, occurred_at, recorded_at, idempotency_key, meeting_id)"""

# A batch settled by PostgreSQL in one statement: it marks the batch's unsettled meetings
# settled, closes their nudges, and writes their deductions, each reason and its parts
# said in SQL as rules.written_reason and rules.meeting_parts say them; a cancelled
# meeting costs nobody. Reading the meetings into Python to word their reasons, and
# sending the words back, took longer than the writing (a month of 40,000 members'
# meetings is 9,000 of them).
SETTLE_SQL = """
WITH settled AS (
    UPDATE {meeting} SET deductions_applied_at = %(now)s
    WHERE id = ANY(%(meetings)s::bigint[]) AND deductions_applied_at IS NULL
    RETURNING id, congregation_id, crew_id, starts_at, timezone, status
), nudges_closed AS (
    UPDATE {notification} SET read_at = %(now)s
    WHERE about = ANY(ARRAY(SELECT %(nudge)s || id FROM settled)) AND read_at IS NULL
)
{insert}
SELECT m.congregation_id, cm.member_id, m.crew_id, %(level)s, %(rule)s, %(points)s,
       left({reason}, %(length)s),
       jsonb_build_object('crew', c.name, 'starts_at', {instant}, 'zone', m.timezone),
       m.starts_at, %(now)s, %(key)s || m.id || ':' || cm.member_id, m.id
FROM settled m
JOIN {crew} c ON c.id = m.crew_id
{missed_by} AND m.status <> '{cancelled}'
ON CONFLICT DO NOTHING
"""

# datetime.isoformat() of a start as Django reads it (in UTC), as meeting_parts keeps it.
ISO_INSTANT_SQL = (
    "to_char(m.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
    "|| CASE to_char(m.starts_at, 'US') WHEN '000000' THEN '' "
    "ELSE '.' || to_char(m.starts_at, 'US') END || '+00:00'"
)

# settle_meetings's INSERT where SQL cannot word the reasons (SQLite): `batch` carries
# each meeting's reason, written in Python, and its parts. RETURNING counts what was
# written, as Python's sqlite3 leaves the rowcount at -1 for a statement that begins with
# WITH.
MISSED_SQL = """
WITH batch (meeting_id, reason, parts) AS (VALUES {batch})
{insert}
SELECT m.congregation_id, cm.member_id, m.crew_id, %s, %s, %s, b.reason, b.parts,
       m.starts_at, %s, %s || m.id || ':' || cm.member_id, m.id
FROM batch b
JOIN {meeting} m ON m.id = b.meeting_id
{missed_by}
ON CONFLICT DO NOTHING
RETURNING 1
"""


# What every deduction shares: its level, rule and points, and its key's prefix as
# entry_key writes it.
LEVEL, POINTS_MISSED = int(LEVELS[Rule.MISSED]), POINTS[Rule.MISSED]
KEY_PREFIX = WORDING[Rule.MISSED][0] + ":"


def _missed_sql(statement: str, **parts: str) -> str:
    missed_by = MISSED_BY.format(logged=MeetingStatus.LOGGED.value, **TABLES)
    return statement.format(insert=INSERT.format(**TABLES), missed_by=missed_by, **parts, **TABLES)


def _settle_in_one_statement(meetings: list[int], now: datetime) -> int:
    params = Params(
        now=now,
        meetings=meetings,
        nudge="meeting-to-log:",
        level=LEVEL,
        rule=Rule.MISSED.value,
        points=POINTS_MISSED,
        length=REASON_LENGTH,
        key=KEY_PREFIX,
    )
    with translation.override(WRITTEN_IN):
        moment = f"m.starts_at AT TIME ZONE {clock('m.timezone', params)}"
        reason = meeting_reason(Rule.MISSED, "c.name", moment, params)
    sql = _missed_sql(
        SETTLE_SQL,
        reason=reason,
        instant=ISO_INSTANT_SQL,
        cancelled=MeetingStatus.CANCELLED.value,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _settle_set_by_set(meetings: list[int], now: datetime) -> int:
    """settle_meetings elsewhere (SQLite), each reason worded in Python."""
    unsettled = Meeting.objects.filter(pk__in=meetings, deductions_applied_at__isnull=True)
    held = {
        pk: meeting_parts(crew_name, starts_at, zone)
        for pk, status, starts_at, zone, crew_name in unsettled.values_list(
            "pk", "status", "starts_at", "timezone", "crew__name"
        )
        if status != MeetingStatus.CANCELLED
    }
    written = _write_deductions(held, now) if held else 0
    unsettled.update(deductions_applied_at=now)
    Notification.objects.filter(
        about__in=[f"meeting-to-log:{pk}" for pk in meetings], read_at__isnull=True
    ).update(read_at=now)
    return written


def _write_deductions(meetings: dict[int, Parts], now: datetime) -> int:
    reasons = written_reasons(Rule.MISSED, list(meetings.values()))
    sql = _missed_sql(MISSED_SQL, batch=", ".join(["(%s, %s, %s)"] * len(meetings)))
    params: list[Any] = [
        value
        for (pk, parts), reason in zip(meetings.items(), reasons, strict=True)
        for value in (pk, reason, json.dumps(parts))
    ]
    params += [
        LEVEL,
        Rule.MISSED.value,
        POINTS_MISSED,
        connection.ops.adapt_datetimefield_value(now),
        KEY_PREFIX,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall())


def settle_missed_meetings(*, now: datetime | None = None) -> int:
    """The missed-meeting job: the deductions, then one email to each member they cost,
    saying why, for at most MEETINGS_A_RUN meetings a run. Returns how many entries it
    wrote."""
    now = now or timezone.now()
    written = apply_missed_meeting_deductions(now=now, limit=MEETINGS_A_RUN)
    queue_missed_meeting_emails(now=now, limit=MEETINGS_A_RUN)
    return written
