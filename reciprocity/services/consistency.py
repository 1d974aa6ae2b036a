"""Level 3, consistency: points for meeting, a deduction for missing a meeting."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from congregations.models import Congregation, Notification, Self
from crews.models import Attendance, CrewMembership, Meeting, MeetingStatus
from microsolidarity.arrays import one_of
from microsolidarity.services.batches import each_due

from ..models import LedgerEntry
from ..rules import (
    LEVELS,
    POINTS,
    WORDING,
    Parts,
    Rule,
    consistency_points,
    entry_key,
    meeting_parts,
    written_reasons,
)
from .ledger import describe, entry, write
from .notices import queue_missed_meeting_emails

# Meetings settled per transaction by the missed-meeting job: a crash loses one batch's
# work at most, and the next run picks it up. Every 15 minutes a run finds a few dozen;
# a month of 40,000 members' meetings (9,000) is still one batch. Fewer on SQLite, whose
# statements take at most 999 parameters (two per meeting here).
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
    # meeting, so one bad meeting is marked failed and every other is settled.
    settle = partial(_settle, now=now)
    return each_due(
        "apply_missed_meeting_deductions",
        due,
        lambda meeting: settle(Meeting.objects.filter(pk=meeting.pk)),
        now=now,
        batch=_batch_size(),
        process_batch=settle,
        limit=limit,
    )


def _batch_size() -> int:
    limit = connection.features.max_query_params
    return BATCH if limit is None else min(BATCH, limit // 2 - 5)


def _settle(meetings: QuerySet[Meeting], *, now: datetime) -> int:
    """Deduct for the claimed ``meetings`` and mark them settled. Returns the entries
    written."""
    # Plain values, not model instances: building those was a third of a batch's time.
    claimed = list(meetings.values_list("pk", "status", "starts_at", "timezone", "crew__name"))
    if not claimed:
        return 0
    held = {
        pk: meeting_parts(crew_name, starts_at, zone)
        for pk, status, starts_at, zone, crew_name in claimed
        if status != MeetingStatus.CANCELLED
    }
    written = write_deductions(held, now)
    settled = one_of([m[0] for m in claimed])
    Meeting.objects.filter(pk__in=settled).update(deductions_applied_at=now)
    # Logging has closed: the nudge to log them is no longer anyone's to do (nor in a
    # daily email), logged or not.
    Notification.objects.filter(
        about__in=one_of([f"meeting-to-log:{m[0]}" for m in claimed]), read_at__isnull=True
    ).update(read_at=now)
    return written


def _batch(meetings: dict[int, Parts]) -> tuple[str, list[Any]]:
    """The rows (meeting_id, reason, parts) of the batch, as SQL and its parameters, the
    reason as written from the parts. On PostgreSQL they travel as one JSON document, which
    the standard library writes in C: quoting arrays of thousands of strings in Python took
    longer than the statement ran."""
    reasons = written_reasons(Rule.MISSED, list(meetings.values()))
    if connection.vendor == "postgresql":
        rows = [
            {"meeting_id": pk, "reason": reason, "parts": parts}
            for (pk, parts), reason in zip(meetings.items(), reasons, strict=True)
        ]
        return (
            "SELECT * FROM jsonb_to_recordset(%s::jsonb) AS b(meeting_id bigint, reason text, "
            "parts jsonb)",
            [json.dumps(rows)],
        )
    values = ", ".join(["(%s, %s, %s)"] * len(meetings))
    return f"VALUES {values}", [
        value
        for (pk, parts), reason in zip(meetings.items(), reasons, strict=True)
        for value in (pk, reason, json.dumps(parts))
    ]


# One statement writes a batch's deductions: every member of the crew at a meeting's start
# (the join on crew_membership is reciprocity.rules.member_at in SQL) not marked present at
# it. Only a logged meeting's attendance counts: taps on a meeting nobody logged are a
# draft, and such a meeting is missed by everyone. The database does the matching set by
# set (a row at a time in Python was most of the job's time), and ON CONFLICT keeps the
# once-per-member-per-meeting key. The claimed meetings are unsettled until the batch marks
# them, after this: saying so lets PostgreSQL reach them through the small partial index of
# unsettled meetings instead of the whole table. Plain SQL that PostgreSQL and SQLite
# (3.35 and later) both run; `batch` carries each meeting's reason, its date in the
# meeting's own timezone. RETURNING counts what was written: the cursor's rowcount would
# too on PostgreSQL, but Python's sqlite3 leaves it at -1 for a statement that begins
# with WITH.
MISSED_SQL = """
WITH batch (meeting_id, reason, parts) AS ({batch})
INSERT INTO {ledger} (congregation_id, member_id, crew_id, level, rule, points, reason,
                      reason_parts, occurred_at, recorded_at, idempotency_key, meeting_id)
SELECT m.congregation_id, cm.member_id, m.crew_id, %s, %s, %s, b.reason, b.parts,
       m.starts_at, %s, %s || m.id || ':' || cm.member_id, m.id
FROM batch b
JOIN {meeting} m ON m.id = b.meeting_id AND m.deductions_applied_at IS NULL
JOIN {crew_membership} cm ON cm.crew_id = m.crew_id AND cm.joined_at <= m.starts_at
     AND (cm.left_at IS NULL OR cm.left_at > m.starts_at)
WHERE m.status <> %s OR NOT EXISTS (
    SELECT 1 FROM {attendance} a
    WHERE a.meeting_id = m.id AND a.member_id = cm.member_id AND a.present
)
ON CONFLICT DO NOTHING
RETURNING 1
"""


def write_deductions(meetings: dict[int, Parts], now: datetime) -> int:
    """−5 for each member of each meeting's crew at its start who was not marked present,
    given {meeting id: what the entries' reason names (rules.meeting_parts)}; an entry
    already written is not written again. Returns how many were new."""
    if not meetings:
        return 0
    batch, params = _batch(meetings)
    sql = MISSED_SQL.format(
        batch=batch,
        ledger=LedgerEntry._meta.db_table,
        meeting=Meeting._meta.db_table,
        crew_membership=CrewMembership._meta.db_table,
        attendance=Attendance._meta.db_table,
    )
    params += [
        int(LEVELS[Rule.MISSED]),
        Rule.MISSED.value,
        POINTS[Rule.MISSED],
        connection.ops.adapt_datetimefield_value(now),
        WORDING[Rule.MISSED][0] + ":",  # the key prefix, as entry_key writes it
        MeetingStatus.LOGGED.value,
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
