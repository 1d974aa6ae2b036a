"""Writing to the append-only ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext as _

from congregations.models import Membership, Permission, Self
from congregations.services.notifications import mark_read
from congregations.tenancy import tenant_service
from congregations.validators import single_line
from crews.models import Meeting

from ..models import CORRECTION_REASON_LENGTH, Dispute, LedgerEntry
from ..rules import (
    LEVELS,
    POINTS,
    Parts,
    Rule,
    corrected_parts,
    meeting_name,
    meeting_parts,
    written_reason,
)
from .notices import tell_points


def entry(
    *,
    congregation_id: int,
    member_id: int,
    rule: Rule,
    parts: Parts,
    key: str,
    occurred_at: datetime,
    now: datetime,
    crew_id: int | None = None,
    recorded_by: Self | None = None,
    points: int | None = None,
    **source: Any,
) -> LedgerEntry:
    """An unsaved entry for ``rule``, its points and level taken from reciprocity.rules,
    its reason from ``parts`` (rules.Parts). ``key`` names the event, so writing the same
    event twice writes it once."""
    return LedgerEntry(
        congregation_id=congregation_id,
        member_id=member_id,
        crew_id=crew_id,
        level=LEVELS[rule],
        rule=rule,
        points=POINTS[rule] if points is None else points,
        reason=written_reason(rule, parts),
        reason_parts=parts,
        occurred_at=occurred_at,
        recorded_at=now,
        recorded_by=recorded_by,
        idempotency_key=key,
        **source,
    )


def write(entries: list[LedgerEntry]) -> int:
    """Insert the entries whose keys are new; returns how many that was."""
    if not entries:
        return 0
    congregation_ids = {e.congregation_id for e in entries}
    known = set(
        LedgerEntry.objects.filter(
            congregation_id__in=congregation_ids,
            idempotency_key__in=[e.idempotency_key for e in entries],
        ).values_list("congregation_id", "idempotency_key")
    )
    new = [e for e in entries if (e.congregation_id, e.idempotency_key) not in known]
    # A concurrent writer may have won since the look-up: the unique key keeps one copy.
    LedgerEntry.objects.bulk_create(new, ignore_conflicts=True)
    if new:
        tell_points(new, now=new[0].recorded_at)
    return len(new)


def label(crew_name: str, local_start: datetime) -> str:
    """How an entry names a meeting, lazily: its crew and its day on the meeting's own
    clock, in the language active when it is read."""
    return meeting_name_lazy(meeting_parts(crew_name, local_start, local_start.tzinfo or UTC))


meeting_name_lazy = lazy(meeting_name, str)


def describe(meeting: Meeting) -> Parts:
    """How an entry names a meeting: its crew, and its start on the meeting's own clock
    (the reason says its day there)."""
    return meeting_parts(meeting.crew.name, meeting.starts_at, meeting.timezone)


@tenant_service
@transaction.atomic
def reverse_entry(
    *, entry: LedgerEntry, reversed_by: Self, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """Correct an entry with a new one of opposite points that names it. Facilitators only,
    and never their own entry (another facilitator corrects it); an entry is reversed at
    most once, and a correction is not itself reversed."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    membership = (
        Membership.objects.current()
        .filter(congregation_id=entry.congregation_id, member=reversed_by)
        .first()
    )
    if membership is None or not membership.can(Permission.MANAGE):
        # Translators: A facilitator is a member who looks after the congregation (invites
        # people, corrects the ledger).
        raise ValidationError(_("Only a facilitator can correct the ledger."))
    if entry.member_id == reversed_by.pk:
        raise ValidationError(
            # Translators: A facilitator is a member who looks after the congregation (invites
            # people, corrects the ledger).
            _("Nobody corrects their own points: another facilitator can correct this entry.")
        )
    if not reason:
        raise ValidationError({"reason": _("Say why this entry is being corrected.")})
    try:
        # What the correction form checks, for every caller: the why is kept whole.
        MaxLengthValidator(CORRECTION_REASON_LENGTH)(reason)
        single_line(reason)
    except ValidationError as error:
        raise ValidationError({"reason": error.messages}) from None
    # A dispute of these points is left with nothing to settle. Locked first, as
    # confirm_dispute locks it, so a correction and a confirmation at once cannot deadlock.
    pending = (
        Dispute.objects.select_for_update()
        .filter(entry=entry, confirmed_at=None, withdrawn_at=None)
        .first()
    )
    reversal = write_reversal(
        entry=entry,
        parts={
            "corrected": corrected_parts(entry.rule, entry.reason_parts, entry.reason),
            "member": entry.member.display_name,
            "points": entry.points,
            "why": reason,
        },
        recorded_by=reversed_by,
        now=now,
    )
    if pending is not None:
        pending.withdrawn_at = now
        pending.save(update_fields=["withdrawn_at"])
        mark_read(congregation_id=entry.congregation_id, about=f"dispute:{pending.pk}", now=now)
    return reversal


def write_reversal(
    *, entry: LedgerEntry, parts: Parts, recorded_by: Self, now: datetime
) -> LedgerEntry:
    """The one entry that reverses ``entry``, with opposite points, naming it: a facilitator's
    correction or a confirmed dispute, whichever comes first. Refused for an entry reversed
    already, and for a reversal itself."""
    if entry.rule == Rule.REVERSAL:
        raise ValidationError(_("A correction cannot itself be reversed."))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("This entry has been corrected already."))
    reversal = LedgerEntry(
        congregation_id=entry.congregation_id,
        member_id=entry.member_id,
        crew_id=entry.crew_id,
        level=entry.level,
        rule=Rule.REVERSAL,
        points=-entry.points,
        reason=written_reason(Rule.REVERSAL, parts),
        reason_parts=parts,
        occurred_at=now,
        recorded_at=now,
        recorded_by=recorded_by,
        idempotency_key=f"reversal:{entry.pk}",
        reverses=entry,
    )
    try:
        with transaction.atomic():
            reversal.save()
    except IntegrityError:
        raise ValidationError(_("This entry has been corrected already.")) from None
    if entry.rule == Rule.MISSED:
        # A deduction given back no longer asks its member to dispute it.
        mark_read(congregation_id=entry.congregation_id, about=f"deduction:{entry.pk}", now=now)
    tell_points([reversal], now=now)
    return reversal
