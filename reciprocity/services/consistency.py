"""Level 3, consistency: points for meeting, a deduction for missing a meeting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from congregations.models import Congregation, Self
from crews.models import Attendance, CrewMembership, Meeting, MeetingStatus

from ..models import LedgerEntry, Rule
from ..rules import LEVELS, POINTS, consistency_points
from .ledger import describe, entry, write

# Meetings settled per transaction by the missed-meeting job: a crash loses one batch's
# work at most, and the next run picks it up. A thousand keeps each statement's
# parameters within SQLite's limit.
BATCH = 1000


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
                reason=f"Meeting number {counts[person.pk]} with the crew: {label}",
                key=f"attended:{meeting.pk}:{person.pk}",
                occurred_at=meeting.starts_at,
                recorded_by=logged_by,
                now=now,
                meeting=meeting,
            )
            for person in attendees
        ]
    )


def apply_missed_meeting_deductions(
    *, congregation: Congregation | None = None, now: datetime | None = None
) -> int:
    """−5 for each member of a crew at a meeting's start who was not marked present, once
    the congregation's grace period for logging has passed. A meeting nobody logged counts
    as missed by everyone; one cancelled before its start costs nobody. Each meeting is
    settled once: run twice, or twice at once, the second run writes nothing. Returns how
    many entries it wrote."""
    now = now or timezone.now()
    written = 0
    with scopes_disabled():
        congregations = Congregation.objects.all()
        if congregation is not None:
            congregations = congregations.filter(pk=congregation.pk)
        for grace_hours in set(congregations.values_list("meeting_grace_hours", flat=True)):
            due = Meeting.objects.filter(
                congregation__in=congregations.filter(meeting_grace_hours=grace_hours),
                deductions_applied_at__isnull=True,
                starts_at__lt=now - timedelta(hours=grace_hours),
            )
            while (settled := _settle_batch(due, now)) is not None:
                written += settled
    return written


@transaction.atomic
def _settle_batch(due: QuerySet[Meeting], now: datetime) -> int | None:
    """Claim up to BATCH unsettled meetings (skipping any another run holds), deduct for
    them and mark them settled; None when there is nothing left to claim."""
    meetings = list(
        due.select_for_update(skip_locked=True, of=("self",))
        .select_related("crew")
        .only("congregation_id", "starts_at", "timezone", "status", "crew__name")
        .order_by("starts_at")[:BATCH]
    )
    if not meetings:
        return None
    written = write_deductions([m for m in meetings if m.status != MeetingStatus.CANCELLED], now)
    Meeting.objects.filter(pk__in=[m.pk for m in meetings]).update(deductions_applied_at=now)
    return written


# One statement writes a batch's deductions: every member of the crew at a meeting's start
# not marked present at it. Only a logged meeting's attendance counts: taps on a meeting
# nobody logged are a draft, and such a meeting is missed by everyone. The database does
# the matching set by set (a row at a time in Python was most of the job's time), and ON
# CONFLICT keeps the once-per-member-per-meeting key. Plain SQL that PostgreSQL and SQLite
# both run; `batch` carries each meeting's reason, its date in the meeting's own timezone.
MISSED_SQL = """
WITH batch (meeting_id, reason) AS (VALUES {values})
INSERT INTO {ledger} (congregation_id, member_id, crew_id, level, rule, points, reason,
                      occurred_at, recorded_at, idempotency_key, meeting_id)
SELECT m.congregation_id, cm.member_id, m.crew_id, %s, %s, %s, b.reason,
       m.starts_at, %s, 'missed:' || m.id || ':' || cm.member_id, m.id
FROM batch b
JOIN {meeting} m ON m.id = b.meeting_id
JOIN {crew_membership} cm ON cm.crew_id = m.crew_id AND cm.joined_at <= m.starts_at
     AND (cm.left_at IS NULL OR cm.left_at > m.starts_at)
WHERE m.status <> %s OR NOT EXISTS (
    SELECT 1 FROM {attendance} a
    WHERE a.meeting_id = m.id AND a.member_id = cm.member_id AND a.present
)
ON CONFLICT DO NOTHING
"""


def write_deductions(meetings: list[Meeting], now: datetime) -> int:
    """−5 for each member of each meeting's crew at its start who was not marked present;
    an entry already written is not written again. Returns how many were new."""
    if not meetings:
        return 0
    sql = MISSED_SQL.format(
        values=", ".join(["(%s, %s)"] * len(meetings)),
        ledger=LedgerEntry._meta.db_table,
        meeting=Meeting._meta.db_table,
        crew_membership=CrewMembership._meta.db_table,
        attendance=Attendance._meta.db_table,
    )
    params: list[Any] = []
    for meeting in meetings:
        params += [meeting.pk, f"Missed the meeting: {describe(meeting)}"[:300]]
    params += [
        int(LEVELS[Rule.MISSED]),
        Rule.MISSED.value,
        POINTS[Rule.MISSED],
        connection.ops.adapt_datetimefield_value(now),
        MeetingStatus.LOGGED.value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
