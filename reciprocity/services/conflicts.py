"""Level 4, conflict: +10 each for a resolution every party confirms, −20 each for none."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from congregations.history import Detail, conflict_left
from congregations.models import Congregation, Self
from congregations.request_keys import replayed, stored
from congregations.tenancy import tenant_service
from crews.models import Crew
from microsolidarity.services.batches import each_due

from ..models import Conflict, ConflictParty, ConflictStatus
from ..rules import Rule, entry_key
from .guards import distinct, require_crew_member
from .ledger import entry, write
from .notices import ask_parties, done, warn_conflicts_nearing_deadline


@tenant_service
@transaction.atomic
def open_conflict(
    *,
    crew: Crew,
    parties: Iterable[Self],
    opened_by: Self,
    title: str = "",
    request_key: str = "",
    now: datetime | None = None,
) -> Conflict:
    """A private record between two or more members of one crew, opened by one of them.
    It must be resolved before the congregation's deadline."""
    now = now or timezone.now()
    # The crew's row only, not the joined congregation's (see crews.services._lock_meeting).
    crew = (
        Crew.objects.select_for_update(of=("self",)).select_related("congregation").get(pk=crew.pk)
    )
    require_crew_member(
        crew,
        opened_by,
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet
        # about once a month).
        _("Only members of %(crew)s can open its conflicts."),
    )
    if earlier := replayed(Conflict, request_key, crew.congregation, crew=crew):
        return earlier
    people = distinct(parties)
    if opened_by not in people:
        raise ValidationError({"parties": _("A conflict is opened by one of its parties.")})
    if len(people) < 2:
        raise ValidationError({"parties": _("A conflict has at least two parties.")})
    for person in people:
        require_crew_member(
            crew,
            person,
            # Translators: crew is the name of a crew (a small group of 3–8 people).
            _("Only members of %(crew)s can be parties to its conflicts."),
        )
    conflict = Conflict(
        congregation_id=crew.congregation_id,
        crew=crew,
        title=title.strip(),
        opened_by=opened_by,
        opened_at=now,
        deadline_at=now + crew.congregation.conflict_deadline,
        request_key=stored(request_key),
    )
    # A title too long or on several lines is refused, not cut: it is what the parties read.
    conflict.full_clean(exclude=["request_key"], validate_constraints=False)
    conflict.save()
    ConflictParty.objects.bulk_create(
        ConflictParty(congregation_id=crew.congregation_id, conflict=conflict, party=person)
        for person in people
    )
    ask_parties(conflict, opened_by=opened_by, now=now)
    return conflict


def _lock_open(conflict: Conflict, now: datetime) -> Conflict:
    conflict = Conflict.objects.select_for_update().get(pk=conflict.pk)
    if not conflict.is_open:
        raise ValidationError(
            _("This conflict is closed: %(status)s.") % {"status": conflict.get_status_display()}
        )
    if now > conflict.deadline_at:
        raise ValidationError(
            _(
                "This conflict is past its deadline: it can no longer be resolved, "
                "and the −20 for each party applies."
            )
        )
    return conflict


def _party(conflict: Conflict, self_: Self, refusal: str) -> ConflictParty:
    # A party who left the crew has no say in it any more (rules.WHEN_SOMEONE_LEAVES).
    seat = ConflictParty.objects.filter(
        conflict=conflict, party=self_, left_at__isnull=True
    ).first()
    if seat is None:
        raise ValidationError(refusal)
    return seat


def _close(
    conflict: Conflict,
    status: ConflictStatus,
    rule: Rule | None,
    now: datetime,
    closed_by: Self | None,
) -> int:
    """Close the conflict and write ``rule``'s points (None: none) for every party who
    remains; one who left is neither charged nor paid. Any −20 for the same conflict
    shares one key (reciprocity.rules.WORDING), so a party loses 20 once however it closed."""
    conflict.status, conflict.closed_at, conflict.closed_by = status, now, closed_by
    conflict.save(update_fields=["status", "closed_at", "closed_by"])
    done(conflict, now=now)
    if rule is None:
        return 0
    # An untitled conflict is named by its crew.
    named = {"conflict": conflict.title} if conflict.title else {"crew": conflict.crew.name}
    return write(
        [
            entry(
                congregation_id=conflict.congregation_id,
                crew_id=conflict.crew_id,
                member_id=party_id,
                rule=rule,
                parts={"conflict": "", **named},
                key=entry_key(rule, conflict.pk, party_id),
                occurred_at=now,
                recorded_by=closed_by,
                now=now,
                conflict=conflict,
            )
            for party_id in conflict.parties.filter(left_at__isnull=True).values_list(
                "party_id", flat=True
            )
        ]
    )


@tenant_service
@transaction.atomic
def confirm_resolution(*, conflict: Conflict, party: Self, now: datetime | None = None) -> Conflict:
    """A party confirms a mutually agreeable resolution, for themselves only; once every
    party has, each gets +10."""
    now = now or timezone.now()
    conflict = _lock_open(conflict, now)
    seat = _party(conflict, party, _("Only the parties to this conflict can confirm a resolution."))
    if seat.confirmed_at:
        raise ValidationError(_("You have confirmed this resolution already."))
    seat.confirmed_at = now
    seat.save(update_fields=["confirmed_at"])
    done(conflict, by=party, now=now)
    if not conflict.parties.filter(confirmed_at__isnull=True, left_at__isnull=True).exists():
        # The party whose confirmation completed the resolution closes it.
        _close(conflict, ConflictStatus.RESOLVED, Rule.RESOLVED, now, party)
    return conflict


@tenant_service
@transaction.atomic
def record_no_resolution(
    *, conflict: Conflict, recorded_by: Self, now: datetime | None = None
) -> Conflict:
    """Any party may record that no mutually agreeable resolution was found: −20 each."""
    now = now or timezone.now()
    conflict = _lock_open(conflict, now)
    _party(
        conflict,
        recorded_by,
        _("Only the parties to this conflict can record that there was no resolution."),
    )
    _close(conflict, ConflictStatus.UNRESOLVED, Rule.UNRESOLVED, now, recorded_by)
    return conflict


def expire_open_conflicts(
    *, congregation: Congregation | None = None, now: datetime | None = None
) -> int:
    """−20 each for the parties of every conflict still open past its deadline. Each
    conflict is closed once, on its own, so running twice, or twice at once, writes
    nothing more, and one that cannot be closed does not hold up the others. Returns how
    many entries it wrote."""
    now = now or timezone.now()

    def overdue() -> QuerySet[Conflict]:
        found = Conflict.objects.filter(status=ConflictStatus.OPEN, deadline_at__lt=now)
        return found if congregation is None else found.filter(congregation=congregation)

    return each_due(
        "expire_open_conflicts",
        overdue,
        lambda conflict: _close(conflict, ConflictStatus.EXPIRED, Rule.EXPIRED, now, None),
        now=now,
    )


def mind_conflict_deadlines(*, now: datetime | None = None) -> int:
    """The deadline job: a warning to each party a week before an open conflict's deadline,
    and −20 each once it is past. Returns how many entries it wrote."""
    now = now or timezone.now()
    warn_conflicts_nearing_deadline(now=now)
    return expire_open_conflicts(now=now)


def leave_conflicts(
    *, congregation: Congregation, member: Self, crew: Crew | None, now: datetime
) -> list[Detail]:
    """``member`` left ``crew`` (None: the congregation): they leave each open conflict of
    theirs there, which closes without points when fewer than two parties remain, or is
    resolved when all who remain have confirmed. One already past its deadline is left to
    the −20 (rules.WHEN_SOMEONE_LEAVES). Returns what happened, as details of History."""
    seats = ConflictParty.objects.filter(
        congregation=congregation, party=member, left_at__isnull=True
    )
    if crew is not None:
        seats = seats.filter(conflict__crew=crew)
    conflicts = (
        Conflict.objects.select_for_update(of=("self",))
        .filter(
            pk__in=seats.values("conflict_id"), status=ConflictStatus.OPEN, deadline_at__gte=now
        )
        .select_related("crew")
        .order_by("pk")
    )
    happened: list[Detail] = []
    for conflict in conflicts:
        ConflictParty.objects.filter(conflict=conflict, party=member).update(left_at=now)
        done(conflict, by=member, now=now)
        remaining = list(
            conflict.parties.filter(left_at__isnull=True).values_list("confirmed_at", flat=True)
        )
        if len(remaining) < 2:
            _close(conflict, ConflictStatus.WITHDRAWN, None, now, None)
            happened.append(conflict_left("closed", conflict.crew))
        elif all(remaining):
            _close(conflict, ConflictStatus.RESOLVED, Rule.RESOLVED, now, None)
            happened.append(conflict_left("resolved", conflict.crew))
        else:
            happened.append(conflict_left("waits", conflict.crew))
    return happened
