"""What waits for a Self: every request for their consent or action, derived from the
state of the game itself, so an item is gone the moment it is done, withdrawn or expired
with nothing to keep in step.

One query per kind of item, whatever the number of items or congregations: the
signed-in home reads them across the Self's congregations, through the door.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse

from congregations.models import Congregation, Invitation, Membership, Self
from congregations.selectors import memberships_of
from congregations.tenancy import across_congregations
from crews.models import Attendance, CrewInvitation, CrewMembership, Meeting, MeetingStatus

from ..models import ConflictParty, ConflictStatus, CoOwner, Dispute, LedgerEntry
from ..rules import DISPUTE_WITHIN, Rule

# A facilitator hears of a pending invitation this long before its link lapses, and of a
# member still without a crew or dyad this long after joining.
LAPSES_WITHIN = timedelta(days=3)
WITHOUT_CREW_AFTER = timedelta(weeks=3)
# The longest a congregation lets a meeting be logged (Congregation.meeting_grace_hours).
LONGEST_GRACE = timedelta(hours=336)


@dataclass(frozen=True)
class Waiting:
    """One thing waiting for the Self: what it is, in words, and the page where it is done."""

    kind: str
    congregation: Congregation
    text: str
    path: str
    since: datetime
    # When it lapses, where it does (a conflict's deadline, an invitation's link).
    until: datetime | None = None
    # A crew invitation is answered right where it is listed.
    crew_invitation: CrewInvitation | None = None


def waiting_for(
    *, self_: Self, now: datetime, membership: Membership | None = None
) -> list[Waiting]:
    """What waits for the Self in the congregation of ``membership``, or, without it, in
    every congregation they belong to; the oldest first."""
    if membership is not None:
        return _sorted(_items(self_, [membership], now))
    with across_congregations():
        return _sorted(_items(self_, memberships_of(self_=self_), now))


def _sorted(items: Iterator[Waiting]) -> list[Waiting]:
    return sorted(items, key=lambda item: item.since)


def _path(name: str, congregation: Congregation, **kwargs: object) -> str:
    return reverse(name, kwargs={"congregation_slug": congregation.slug, **kwargs})


def _items(self_: Self, memberships: list[Membership], now: datetime) -> Iterator[Waiting]:
    congregations = {m.congregation_id: m.congregation for m in memberships}
    if not congregations:
        return
    ids = list(congregations)
    yield from _crew_invitations(self_, ids, congregations)
    yield from _meetings_to_log(self_, ids, congregations, now)
    yield from _conflicts(self_, ids, congregations)
    yield from _co_ownerships(self_, ids, congregations)
    yield from _disputes_to_confirm(self_, ids, congregations)
    yield from _deductions(self_, ids, congregations, now)
    facilitating = [m.congregation_id for m in memberships if m.is_facilitator]
    if facilitating:
        yield from _lapsing_invitations(facilitating, congregations, now)
        yield from _without_crew(facilitating, congregations, now)


Congregations = dict[int, Congregation]


def _crew_invitations(self_: Self, ids: list[int], by_id: Congregations) -> Iterator[Waiting]:
    for invitation in CrewInvitation.objects.filter(
        congregation_id__in=ids, invitee=self_, answered_at__isnull=True
    ).select_related("crew", "invited_by"):
        crew = invitation.crew
        crew.congregation = by_id[crew.congregation_id]  # answered in place: its link needs it
        yield Waiting(
            kind="crew_invitation",
            congregation=by_id[invitation.congregation_id],
            text=f"{invitation.invited_by} invites you to the {crew.get_kind_display()} {crew}.",
            path=_path("crews:crew", by_id[crew.congregation_id], pk=crew.pk),
            since=invitation.created_at,
            crew_invitation=invitation,
        )


def _in_crew(self_: Self, crew_field: str) -> Exists:
    """Whether the Self is in the crew named by ``crew_field`` of the outer row now."""
    return Exists(
        CrewMembership.objects.filter(
            crew_id=OuterRef(crew_field), member=self_, left_at__isnull=True
        )
    )


def _meetings_to_log(
    self_: Self, ids: list[int], by_id: Congregations, now: datetime
) -> Iterator[Waiting]:
    meetings = Meeting.objects.filter(
        _in_crew(self_, "crew_id"),
        congregation_id__in=ids,
        status=MeetingStatus.SCHEDULED,
        deductions_applied_at__isnull=True,
        starts_at__lte=now,
        starts_at__gte=now - LONGEST_GRACE,
    ).select_related("crew")
    for meeting in meetings:
        meeting.congregation = by_id[meeting.congregation_id]
        if meeting.can_log_at(now):
            yield Waiting(
                kind="meeting_to_log",
                congregation=meeting.congregation,
                text=f"Log who came to {meeting.crew}’s meeting.",
                path=_path("crews:meeting", meeting.congregation, pk=meeting.pk),
                since=meeting.starts_at,
                until=meeting.log_closes_at(),
            )


def _conflicts(self_: Self, ids: list[int], by_id: Congregations) -> Iterator[Waiting]:
    for seat in ConflictParty.objects.filter(
        congregation_id__in=ids,
        party=self_,
        confirmed_at__isnull=True,
        left_at__isnull=True,
        conflict__status=ConflictStatus.OPEN,
    ).select_related("conflict__crew"):
        conflict = seat.conflict
        yield Waiting(
            kind="conflict",
            congregation=by_id[seat.congregation_id],
            text=f"A conflict in {conflict.crew}, “{conflict}”: resolve it together and confirm.",
            path=_path("reciprocity:conflict", by_id[seat.congregation_id], pk=conflict.pk),
            since=conflict.opened_at,
            until=conflict.deadline_at,
        )


def _co_ownerships(self_: Self, ids: list[int], by_id: Congregations) -> Iterator[Waiting]:
    for share in CoOwner.objects.filter(
        congregation_id__in=ids,
        co_owner=self_,
        confirmed_at__isnull=True,
        left_at__isnull=True,
        venture__confirmed_at__isnull=True,
        venture__withdrawn_at__isnull=True,
    ).select_related("venture"):
        venture = share.venture
        yield Waiting(
            kind="co_ownership",
            congregation=by_id[share.congregation_id],
            text=f"Confirm your share of {venture} ({venture.get_legal_form_display()}).",
            path=_path("reciprocity:venture", by_id[share.congregation_id], pk=venture.pk),
            since=venture.registered_at,
        )


def _disputes_to_confirm(self_: Self, ids: list[int], by_id: Congregations) -> Iterator[Waiting]:
    """Disputes of a meeting the Self was marked present at, in a crew they are still in."""
    there = Attendance.objects.filter(
        meeting_id=OuterRef("entry__meeting_id"), member=self_, present=True
    )
    for dispute in (
        Dispute.objects.filter(
            Exists(there),
            _in_crew(self_, "entry__crew_id"),
            congregation_id__in=ids,
            confirmed_at__isnull=True,
            withdrawn_at__isnull=True,
        )
        .exclude(disputed_by=self_)
        .select_related("disputed_by", "entry__crew")
    ):
        yield Waiting(
            kind="dispute",
            congregation=by_id[dispute.congregation_id],
            text=f"{dispute.disputed_by} says they were at {dispute.entry.crew}’s meeting. "
            "Were they?",
            path=_path("reciprocity:dispute", by_id[dispute.congregation_id], pk=dispute.pk),
            since=dispute.disputed_at,
        )


def _deductions(
    self_: Self, ids: list[int], by_id: Congregations, now: datetime
) -> Iterator[Waiting]:
    """The Self's missed-meeting −5s still open to dispute."""
    for entry in LedgerEntry.objects.filter(
        congregation_id__in=ids,
        member=self_,
        rule=Rule.MISSED,
        recorded_at__gt=now - DISPUTE_WITHIN,
        reversed_by__isnull=True,
        dispute__isnull=True,
    ).select_related("crew"):
        yield Waiting(
            kind="deduction",
            congregation=by_id[entry.congregation_id],
            text=f"−5 for missing {entry.crew}’s meeting. If you were there, say so.",
            path=_path("reciprocity:entry", by_id[entry.congregation_id], pk=entry.pk),
            since=entry.recorded_at,
            until=entry.recorded_at + DISPUTE_WITHIN,
        )


def _lapsing_invitations(ids: list[int], by_id: Congregations, now: datetime) -> Iterator[Waiting]:
    """For facilitators: one line per congregation naming the invitations about to lapse."""
    lapsing: dict[int, list[Invitation]] = {}
    for invitation in Invitation.objects.filter(
        congregation_id__in=ids,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + LAPSES_WITHIN,
    ).order_by("expires_at"):
        lapsing.setdefault(invitation.congregation_id, []).append(invitation)
    for congregation_id, invitations in lapsing.items():
        yield Waiting(
            kind="invitations_lapsing",
            congregation=by_id[congregation_id],
            text=f"{_count(len(invitations), 'invitation')} not yet accepted "
            f"{'lapses' if len(invitations) == 1 else 'lapse'} within "
            f"{LAPSES_WITHIN.days} days: {', '.join(i.email for i in invitations)}.",
            path=_path("congregations:invitations", by_id[congregation_id]),
            since=invitations[0].sent_at,
            until=invitations[0].expires_at,
        )


def _without_crew(ids: list[int], by_id: Congregations, now: datetime) -> Iterator[Waiting]:
    """For facilitators: who has been here a while and is in no crew or dyad yet."""
    alone: dict[int, list[Membership]] = {}
    in_a_crew = CrewMembership.objects.filter(
        member_id=OuterRef("member_id"),
        congregation_id=OuterRef("congregation_id"),
        left_at__isnull=True,
    )
    for membership in (
        Membership.objects.current()
        .filter(congregation_id__in=ids, joined_at__lte=now - WITHOUT_CREW_AFTER)
        .exclude(Exists(in_a_crew))
        .select_related("member")
        .order_by("joined_at")
    ):
        alone.setdefault(membership.congregation_id, []).append(membership)
    for congregation_id, memberships in alone.items():
        yield Waiting(
            kind="without_crew",
            congregation=by_id[congregation_id],
            text=f"{_count(len(memberships), 'person', 'people')} here "
            f"{WITHOUT_CREW_AFTER.days // 7} weeks or more without a crew or dyad: "
            f"{', '.join(str(m.member) for m in memberships)}. Help them find crew-mates.",
            path=_path("crews:people", by_id[congregation_id]),
            since=memberships[0].joined_at + WITHOUT_CREW_AFTER,
        )


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
