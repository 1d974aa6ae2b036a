"""What waits for a Self: every request for their consent or action, derived from the
state of the game itself, so an item is gone the moment it is done, withdrawn or expired
with nothing to keep in step.

All kinds are read in one query (a UNION ALL of one SELECT per kind, each with the same
columns), whatever the number of items or congregations: the signed-in home reads them
across the Self's congregations, through the door.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.db.models import (
    CharField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from congregations.models import Congregation, Invitation, Membership, Self
from congregations.selectors import memberships_of
from congregations.tenancy import across_congregations
from crews.models import Attendance, CrewInvitation, CrewMembership, Kind, Meeting, MeetingStatus
from crews.selectors import current_crew_ids, seated
from microsolidarity.arrays import among_found
from microsolidarity.compiled import Compiled
from microsolidarity.row_checks import RowCheck

from ..models import ConflictParty, ConflictStatus, CoOwner, Dispute, LedgerEntry, LegalForm
from ..rules import DISPUTE_WITHIN, Rule
from . import has_witness

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
    # When it lapses, where it does (a conflict's deadline, a meeting's logging window).
    until: datetime | None = None
    # Where a crew invitation is answered right where it is listed, and to which crew.
    answer_path: str = ""
    crew_name: str = ""


class Row(NamedTuple):
    """The columns every kind's SELECT gives, in this order ("" or None where a kind has
    no such thing)."""

    kind: str
    id: int  # the row to act on: an invitation, a meeting, a conflict …
    congregation_id: int
    name: str  # a conflict's title, a venture's name, an invited address
    person: str  # the other person: who invites, who disputes, who has no crew
    crew: str  # the crew's name
    detail: str  # a crew's kind, a venture's legal form
    since: datetime
    until: datetime | None
    number: int  # a crew's id (an invitation's)


def waiting_for(
    *, self_: Self, now: datetime, membership: Membership | None = None
) -> list[Waiting]:
    """What waits for the Self in the congregation of ``membership``, or, without it, in
    every congregation they belong to; the oldest first."""
    if membership is not None:
        return _read(self_, [membership], now)
    with across_congregations():
        return _read(self_, memberships_of(self_=self_), now)


def _read(self_: Self, memberships: list[Membership], now: datetime) -> list[Waiting]:
    congregations = {m.congregation_id: m.congregation for m in memberships}
    if not congregations:
        return []
    facilitating = [m.congregation_id for m in memberships if m.is_facilitator]
    rows = [
        Row(*values) for values in WAITING.rows(now, [self_.pk], list(congregations), facilitating)
    ]
    items = list(_items(rows, congregations, now))
    return sorted(items, key=lambda item: item.since)


def _waiting(
    now: datetime, self_id: list[int], ids: list[int], facilitating: list[int]
) -> QuerySet[Any]:
    """Every kind's SELECT in one UNION ALL: a facilitator's kinds only where they are one."""
    (me,) = self_id
    selects = [select(me, ids, now) for select in MEMBER_SELECTS]
    if facilitating:
        selects += [select(facilitating, now) for select in FACILITATOR_SELECTS]
    first, *rest = selects
    return first.union(*rest, all=True)


def _columns(queryset: QuerySet[Any], kind: str, since: str, **fields: str) -> QuerySet[Any]:
    """``queryset`` as rows of one kind: Row's columns, each the field named in
    ``fields`` (``id`` defaults to the row's own), or empty."""

    def column(name: str, empty: Value | Cast) -> F | Value | Cast:
        return F(fields[name]) if name in fields else empty

    nothing = Value("", output_field=CharField())
    return queryset.order_by().values_list(
        Value(kind, output_field=CharField()),
        F(fields.get("id", "pk")),
        F("congregation_id"),
        *(column(name, nothing) for name in ("name", "person", "crew", "detail")),
        F(since),
        # A bare NULL would be text to PostgreSQL's UNION, which then refuses a timestamp.
        column("until", Cast(Value(None), DateTimeField())),
        column("number", Value(0, output_field=IntegerField())),
    )


def _crew_invitations(self_id: int, ids: list[int], now: datetime) -> QuerySet[Any]:
    asked = CrewInvitation.objects.filter(
        congregation_id__in=ids, invitee=self_id, answered_at__isnull=True
    )
    return _columns(
        asked,
        "crew_invitation",
        since="created_at",
        person="invited_by__display_name",
        crew="crew__name",
        detail="crew__kind",
        number="crew_id",
    )


def _meetings_to_log(self_id: int, ids: list[int], now: datetime) -> QuerySet[Any]:
    """Started, not logged, not settled, and (checked below with each congregation's own
    grace) still open to logging."""
    meetings = Meeting.objects.filter(
        among_found("crew_id", current_crew_ids(self_id)),
        congregation_id__in=ids,
        status=MeetingStatus.SCHEDULED,
        deductions_applied_at__isnull=True,
        starts_at__lte=now,
        starts_at__gte=now - LONGEST_GRACE,
    )
    return _columns(meetings, "meeting_to_log", since="starts_at", crew="crew__name")


def _conflicts(self_id: int, ids: list[int], now: datetime) -> QuerySet[Any]:
    seats = ConflictParty.objects.filter(
        congregation_id__in=ids,
        party=self_id,
        confirmed_at__isnull=True,
        left_at__isnull=True,
        conflict__status=ConflictStatus.OPEN,
        conflict__deadline_at__gt=now,
    )
    return _columns(
        seats,
        "conflict",
        since="conflict__opened_at",
        id="conflict_id",
        name="conflict__title",
        crew="conflict__crew__name",
        until="conflict__deadline_at",
    )


def _co_ownerships(self_id: int, ids: list[int], now: datetime) -> QuerySet[Any]:
    shares = CoOwner.objects.filter(
        congregation_id__in=ids,
        co_owner=self_id,
        confirmed_at__isnull=True,
        left_at__isnull=True,
        venture__confirmed_at__isnull=True,
        venture__withdrawn_at__isnull=True,
    )
    return _columns(
        shares,
        "co_ownership",
        since="venture__registered_at",
        id="venture_id",
        name="venture__name",
        detail="venture__legal_form",
    )


def _disputes_to_confirm(self_id: int, ids: list[int], now: datetime) -> QuerySet[Any]:
    """Disputes of a meeting the Self was marked present at, in a crew they are still in:
    open disputes are few, and each is checked rather than joined (RowCheck)."""
    there = Attendance.objects.filter(
        meeting_id=OuterRef("entry__meeting_id"), member=self_id, present=True
    )
    disputes = Dispute.objects.filter(
        RowCheck(there),
        seated(self_id, "entry__crew_id", RowCheck),
        congregation_id__in=ids,
        confirmed_at__isnull=True,
        withdrawn_at__isnull=True,
    ).exclude(disputed_by=self_id)
    return _columns(
        disputes,
        "dispute",
        since="disputed_at",
        person="disputed_by__display_name",
        crew="entry__crew__name",
    )


def _deductions(self_id: int, ids: list[int], now: datetime) -> QuerySet[Any]:
    """The Self's missed-meeting −5s still open to dispute, by a crew-mate who was there."""
    witnesses = has_witness(
        meeting=OuterRef("meeting_id"), crew_id=OuterRef("crew_id"), member=self_id
    )
    # Neither reversed nor disputed: checked for each of the Self's few recent entries,
    # where joining the two to keep the rows without was most of this SELECT's planning.
    reversed_ = LedgerEntry.objects.filter(reverses=OuterRef("pk"))
    disputed = Dispute.objects.filter(entry=OuterRef("pk"))
    entries = LedgerEntry.objects.filter(
        witnesses,
        ~RowCheck(reversed_),
        ~RowCheck(disputed),
        congregation_id__in=ids,
        member=self_id,
        rule=Rule.MISSED,
        recorded_at__gt=now - DISPUTE_WITHIN,
    )
    return _columns(entries, "deduction", since="recorded_at", crew="crew__name")


def _lapsing_invitations(ids: list[int], now: datetime) -> QuerySet[Any]:
    invitations = Invitation.objects.filter(
        congregation_id__in=ids,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + LAPSES_WITHIN,
    )
    return _columns(
        invitations, "invitations_lapsing", since="sent_at", name="email", until="expires_at"
    )


def _without_crew(ids: list[int], now: datetime) -> QuerySet[Any]:
    in_a_crew = CrewMembership.objects.filter(
        member_id=OuterRef("member_id"),
        congregation_id=OuterRef("congregation_id"),
        left_at__isnull=True,
    )
    alone = (
        Membership.objects.current()
        .filter(congregation_id__in=ids, joined_at__lte=now - WITHOUT_CREW_AFTER)
        # A disabled or anonymised account is nobody a facilitator can help into a crew.
        .filter(member__is_active=True, member__anonymised_at__isnull=True)
        .exclude(Exists(in_a_crew))
    )
    return _columns(
        alone, "without_crew", since="joined_at", id="member_id", person="member__display_name"
    )


MEMBER_SELECTS: list[Callable[[int, list[int], datetime], QuerySet[Any]]] = [
    _crew_invitations,
    _meetings_to_log,
    _conflicts,
    _co_ownerships,
    _disputes_to_confirm,
    _deductions,
]
FACILITATOR_SELECTS: list[Callable[[list[int], datetime], QuerySet[Any]]] = [
    _lapsing_invitations,
    _without_crew,
]
# Built and compiled once per shape (microsolidarity.compiled): on the home page, building
# this union took longer than PostgreSQL took to plan and run it.
WAITING = Compiled(_waiting)


# --- the rows, in words, with the page where each is done --------------------------------


def _path(name: str, congregation: Congregation, **kwargs: object) -> str:
    return reverse(name, kwargs={"congregation_slug": congregation.slug, **kwargs})


def _items(
    rows: list[Row], congregations: dict[int, Congregation], now: datetime
) -> Iterator[Waiting]:
    grouped: dict[tuple[str, int], list[Row]] = {}
    for row in rows:
        congregation = congregations[row.congregation_id]
        if row.kind in GROUPED:
            grouped.setdefault((row.kind, row.congregation_id), []).append(row)
        elif row.kind != "meeting_to_log" or row.since + congregation.meeting_grace >= now:
            yield WORDS[row.kind](row, congregation)
    for (kind, congregation_id), group in grouped.items():
        yield GROUPED[kind](
            sorted(group, key=lambda row: row.since), congregations[congregation_id]
        )


def _crew_invitation(row: Row, congregation: Congregation) -> Waiting:
    return Waiting(
        kind=row.kind,
        congregation=congregation,
        text=_invites(row),
        path=_path("crews:crew", congregation, pk=row.number),
        since=row.since,
        answer_path=_path("crews:answer_invitation", congregation, pk=row.id),
        crew_name=row.crew,
    )


def _invites(row: Row) -> str:
    """A crew invitation in words: a crew and a dyad are each named their own way."""
    if row.detail == Kind.DYAD:
        # Translators: A dyad is a circle of two people (the proposal's "Dyad"); crew is its
        # name.
        text = _("%(person)s invites you to the dyad %(crew)s.")
    else:
        # Translators: A crew is a small group of 3–8 people who meet about once a month
        # (the proposal's "Crew"); crew is its name.
        text = _("%(person)s invites you to the crew %(crew)s.")
    return text % {"person": row.person, "crew": row.crew}


def _meeting_to_log(row: Row, congregation: Congregation) -> Waiting:
    return Waiting(
        kind=row.kind,
        congregation=congregation,
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet
        # about once a month). To log a meeting is to record who came.
        text=_("Log who came to %(crew)s’s meeting.") % {"crew": row.crew},
        path=_path("crews:meeting", congregation, pk=row.id),
        since=row.since,
        until=row.since + congregation.meeting_grace,
    )


def _conflict(row: Row, congregation: Congregation) -> Waiting:
    if row.name:
        # Translators: title is a conflict's title; crew is the name of a crew (a small
        # group of 3–8 people who meet about once a month).
        text = _("“%(title)s” in %(crew)s: resolve it together and confirm.")
    else:
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet
        # about once a month).
        text = _("A conflict in %(crew)s: resolve it together and confirm.")
    return Waiting(
        kind=row.kind,
        congregation=congregation,
        text=text % {"title": row.name, "crew": row.crew},
        path=_path("reciprocity:conflict", congregation, pk=row.id),
        since=row.since,
        until=row.until,
    )


def _co_ownership(row: Row, congregation: Congregation) -> Waiting:
    return Waiting(
        kind=row.kind,
        congregation=congregation,
        # Translators: venture is a venture's name (a company, association or co-op whose
        # legal ownership members share); legal_form is its kind: company, association,
        # co-op, savings pool, lending circle or livelihood pod.
        text=_("Confirm your share of %(venture)s (%(legal_form)s).")
        % {"venture": row.name, "legal_form": LegalForm(row.detail).label},
        path=_path("reciprocity:venture", congregation, pk=row.id),
        since=row.since,
    )


def _dispute(row: Row, congregation: Congregation) -> Waiting:
    return Waiting(
        kind=row.kind,
        congregation=congregation,
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet
        # about once a month).
        text=_("%(person)s says they were at %(crew)s’s meeting. Were they?")
        % {"person": row.person, "crew": row.crew},
        path=_path("reciprocity:dispute", congregation, pk=row.id),
        since=row.since,
    )


def _deduction(row: Row, congregation: Congregation) -> Waiting:
    return Waiting(
        kind=row.kind,
        congregation=congregation,
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet
        # about once a month).
        text=_("−5 for missing %(crew)s’s meeting. If you were there, say so.")
        % {"crew": row.crew},
        path=_path("reciprocity:entry", congregation, pk=row.id),
        since=row.since,
        until=row.since + DISPUTE_WITHIN,
    )


def _lapsing(rows: list[Row], congregation: Congregation) -> Waiting:
    """For facilitators: one line per congregation naming the invitations about to lapse."""
    text = ngettext(
        "%(count)d invitation not yet accepted lapses within %(days)d days: %(addresses)s.",
        "%(count)d invitations not yet accepted lapse within %(days)d days: %(addresses)s.",
        len(rows),
    )
    return Waiting(
        kind="invitations_lapsing",
        congregation=congregation,
        text=text
        % {
            "count": len(rows),
            "days": LAPSES_WITHIN.days,
            "addresses": ", ".join(row.name for row in rows),
        },
        path=_path("congregations:invitations", congregation),
        since=rows[0].since,
        until=min(row.until for row in rows if row.until),
    )


def _alone(rows: list[Row], congregation: Congregation) -> Waiting:
    """For facilitators: who has been here a while and is in no crew or dyad yet."""
    return Waiting(
        kind="without_crew",
        congregation=congregation,
        text=_alone_text(rows),
        path=_path("crews:people", congregation),
        since=rows[0].since + WITHOUT_CREW_AFTER,
    )


def _alone_text(rows: list[Row]) -> str:
    text = ngettext(
        # Translators: For facilitators. A crew is a small group of 3–8 people who meet about
        # once a month; a dyad is a circle of two; a crew-mate is someone in the same crew.
        "%(count)d person here %(weeks)d weeks or more without a crew or dyad: %(names)s. "
        "Help them find crew-mates.",
        "%(count)d people here %(weeks)d weeks or more without a crew or dyad: %(names)s. "
        "Help them find crew-mates.",
        len(rows),
    )
    return text % {
        "count": len(rows),
        "weeks": WITHOUT_CREW_AFTER.days // 7,
        "names": ", ".join(row.person for row in rows),
    }


WORDS: dict[str, Callable[[Row, Congregation], Waiting]] = {
    "crew_invitation": _crew_invitation,
    "meeting_to_log": _meeting_to_log,
    "conflict": _conflict,
    "co_ownership": _co_ownership,
    "dispute": _dispute,
    "deduction": _deduction,
}
GROUPED: dict[str, Callable[[list[Row], Congregation], Waiting]] = {
    "invitations_lapsing": _lapsing,
    "without_crew": _alone,
}
