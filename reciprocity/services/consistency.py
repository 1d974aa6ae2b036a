"""Level 3, consistency: points for meeting, a deduction for missing a meeting."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from congregations.models import Congregation, Self
from crews.models import Attendance, CrewMembership, Meeting, MeetingStatus

from ..models import Rule
from ..rules import consistency_points
from .ledger import describe, entry, write

# Meetings settled per transaction by the missed-meeting job: a crash loses one batch's
# work at most, and the next run picks it up.
BATCH = 500


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
        .order_by("starts_at")[:BATCH]
    )
    if not meetings:
        return None
    missed = [m for m in meetings if m.status != MeetingStatus.CANCELLED]
    crew_members = defaultdict(list)
    for crew_id, member_id, joined_at, left_at in CrewMembership.objects.filter(
        crew_id__in={m.crew_id for m in missed}
    ).values_list("crew_id", "member_id", "joined_at", "left_at"):
        crew_members[crew_id].append((member_id, joined_at, left_at))
    # Only a logged meeting's attendance counts: taps on a meeting nobody logged are a
    # draft, and such a meeting is missed by everyone.
    logged = [m for m in missed if m.status == MeetingStatus.LOGGED]
    present = set(
        Attendance.objects.filter(meeting__in=logged, present=True).values_list(
            "meeting_id", "member_id"
        )
    )
    entries = []
    for meeting in missed:
        for member_id, joined_at, left_at in crew_members[meeting.crew_id]:
            started = meeting.starts_at
            in_crew = joined_at <= started and (left_at is None or left_at > started)
            if in_crew and (meeting.pk, member_id) not in present:
                entries.append(
                    entry(
                        congregation_id=meeting.congregation_id,
                        crew_id=meeting.crew_id,
                        member_id=member_id,
                        rule=Rule.MISSED,
                        reason=f"Missed the meeting: {describe(meeting)}",
                        key=f"missed:{meeting.pk}:{member_id}",
                        occurred_at=meeting.starts_at,
                        now=now,
                        meeting=meeting,
                    )
                )
    written = write(entries)
    Meeting.objects.filter(pk__in=[m.pk for m in meetings]).update(deductions_applied_at=now)
    return written
