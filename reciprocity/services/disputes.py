"""Disputes: a member marked absent says they were at the meeting, and a crew-mate who was
marked present there confirms it. The −5 is then reversed with both their names, by
consent, with no facilitator needed."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from congregations.models import Ask, Membership, Self
from congregations.services.notifications import Notice, mark_read, notify
from congregations.tenancy import tenant_service

from ..models import Dispute, LedgerEntry
from ..rules import DISPUTE_WITHIN, Rule, corrected_parts, disputable_until, signed
from ..selectors import dispute_witnesses
from .ledger import label, write_reversal


@tenant_service
@transaction.atomic
def dispute_deduction(
    *, entry: LedgerEntry, disputed_by: Self, now: datetime | None = None
) -> Dispute:
    """The member whose missed-meeting −5 ``entry`` is says they were there. The crew-mates
    marked present at that meeting, and still in the crew, are asked to confirm; the
    dispute waits for one of them. Refused for anyone else's entry, any other kind, one
    reversed or disputed already, or one older than rules.DISPUTE_WITHIN."""
    now = now or timezone.now()
    entry = LedgerEntry.objects.select_related("crew__congregation", "meeting").get(pk=entry.pk)
    if entry.rule != Rule.MISSED:
        raise ValidationError("Only a deduction for a missed meeting can be disputed.")
    if entry.member_id != disputed_by.pk:
        raise ValidationError("Only the member who lost these points can say they were there.")
    if not (
        Membership.objects.current()
        .filter(congregation_id=entry.congregation_id, member=disputed_by)
        .exists()
    ):
        raise ValidationError("Only a member of the congregation can dispute a deduction.")
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError("These points have been given back already: nothing to dispute.")
    if Dispute.objects.filter(entry=entry).exists():
        raise ValidationError("You have said you were there already.")
    if now > disputable_until(entry.recorded_at):
        raise ValidationError(
            f"A deduction can be disputed for {DISPUTE_WITHIN.days} days after it was "
            "written, and this one is older."
        )
    witnesses = list(dispute_witnesses(entry=entry))
    if not witnesses:
        raise ValidationError(
            "Nobody still in the crew was marked present at that meeting, so no crew-mate "
            "can confirm you were there: ask a facilitator to correct it instead."
        )
    dispute = Dispute(
        congregation_id=entry.congregation_id, entry=entry, disputed_by=disputed_by, disputed_at=now
    )
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:
        raise ValidationError("You have said you were there already.") from None
    meeting = _meeting(entry)
    path = dispute_path(dispute)
    notify(
        (
            Notice(
                congregation_id=entry.congregation_id,
                recipient=witness,
                about=f"dispute:{dispute.pk}",
                actor=disputed_by,
                text=f"{disputed_by} says they were at {meeting}, but was not marked present. "
                "Were they there?",
                path=path,
                ask=Ask.DISPUTE,
                subject=f"Was {disputed_by} at {meeting}?",
                template="reciprocity/email/dispute.txt",
                context={"disputer": disputed_by, "missed": entry},
            )
            for witness in witnesses
        ),
        now=now,
    )
    # The deduction no longer asks them to act: they have.
    mark_read(
        congregation_id=entry.congregation_id,
        about=f"deduction:{entry.pk}",
        recipient=disputed_by,
        now=now,
    )
    return dispute


@tenant_service
@transaction.atomic
def confirm_dispute(
    *, dispute: Dispute, confirmed_by: Self, now: datetime | None = None
) -> LedgerEntry:
    """A crew-mate marked present at the meeting confirms that the disputer was there too:
    the −5 is reversed by one entry naming both of them, recorded by the confirmer.
    Refused for the disputer (nobody reverses an entry of their own), anyone not marked
    present, and a dispute confirmed or withdrawn already."""
    now = now or timezone.now()
    dispute = (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("disputed_by", "entry__crew__congregation", "entry__meeting")
        .get(pk=dispute.pk)
    )
    entry = dispute.entry
    if confirmed_by.pk == dispute.disputed_by_id:
        raise ValidationError(
            "Nobody confirms their own dispute: a crew-mate who was there confirms it."
        )
    if dispute.confirmed_at is not None:
        raise ValidationError("A crew-mate has confirmed this already: the points are back.")
    if dispute.withdrawn_at is not None:
        raise ValidationError(
            "This dispute no longer waits for anyone: there is nothing to confirm."
        )
    if not dispute_witnesses(entry=entry).filter(pk=confirmed_by.pk).exists():
        raise ValidationError(
            "Only a crew-mate marked present at that meeting, and still in the crew, can "
            "confirm it."
        )
    disputer = dispute.disputed_by
    reversal = write_reversal(
        entry=entry,
        parts={
            "corrected": corrected_parts(entry.rule, entry.reason_parts, entry.reason),
            "member": entry.member.display_name,
            "points": entry.points,
            "disputer": str(disputer),
            "confirmer": str(confirmed_by),
        },
        recorded_by=confirmed_by,
        now=now,
    )
    dispute.confirmed_by = confirmed_by
    dispute.confirmed_at = now
    dispute.reversal = reversal
    dispute.save(update_fields=["confirmed_by", "confirmed_at", "reversal"])
    about = f"dispute:{dispute.pk}"
    mark_read(congregation_id=dispute.congregation_id, about=about, now=now)
    meeting = _meeting(entry)
    notify(
        [
            Notice(
                congregation_id=dispute.congregation_id,
                recipient=disputer,
                about=about,
                actor=confirmed_by,
                text=f"{confirmed_by} confirmed you were at {meeting}: your "
                f"{signed(entry.points)} is reversed.",
                path=dispute_path(dispute),
            )
        ],
        now=now,
    )
    return reversal


def _meeting(entry: LedgerEntry) -> str:
    """The meeting of a missed-meeting entry: its crew and its day, on its own clock."""
    assert entry.crew is not None and entry.meeting is not None, "a missed meeting's entry"
    return label(entry.crew.name, entry.meeting.local_start)


def dispute_path(dispute: Dispute) -> str:
    slug = dispute.entry.crew.congregation.slug  # type: ignore[union-attr]
    return reverse("reciprocity:dispute", kwargs={"congregation_slug": slug, "pk": dispute.pk})
