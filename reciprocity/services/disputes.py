"""Disputes: a member marked absent says they were at the meeting, and a crew-mate who was
marked present there confirms it. The −5 is then reversed with both their names, by
consent, with no facilitator needed."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise, lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from congregations.models import Ask, Membership, Self
from congregations.services.notifications import Notice, mark_read, notify
from congregations.tenancy import tenant_service

from ..models import Dispute, LedgerEntry
from ..rules import DISPUTE_WITHIN, Rule, corrected_parts, disputable_until, signed
from ..selectors import dispute_witnesses
from .ledger import write_reversal


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
        raise ValidationError(_("Only a deduction for a missed meeting can be disputed."))
    if entry.member_id != disputed_by.pk:
        raise ValidationError(_("Only the member who lost these points can say they were there."))
    if not (
        Membership.objects.current()
        .filter(congregation_id=entry.congregation_id, member=disputed_by)
        .exists()
    ):
        # Translators: The congregation: the whole community of crews.
        raise ValidationError(_("Only a member of the congregation can dispute a deduction."))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("These points have been given back already: nothing to dispute."))
    if Dispute.objects.filter(entry=entry).exists():
        raise ValidationError(_("You have said you were there already."))
    if now > disputable_until(entry.recorded_at):
        raise ValidationError(
            ngettext(
                "A deduction can be disputed for %(days)d day after it was written, and this "
                "one is older.",
                "A deduction can be disputed for %(days)d days after it was written, and this "
                "one is older.",
                DISPUTE_WITHIN.days,
            )
            % {"days": DISPUTE_WITHIN.days}
        )
    witnesses = list(dispute_witnesses(entry=entry))
    if not witnesses:
        raise ValidationError(
            _(
                # Translators: A facilitator is a member who looks after the congregation (invites
                # people, corrects the ledger).
                "Nobody still in the crew was marked present at that meeting, so no crew-mate "
                "can confirm you were there: ask a facilitator to correct it instead."
            )
        )
    dispute = Dispute(
        congregation_id=entry.congregation_id, entry=entry, disputed_by=disputed_by, disputed_at=now
    )
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:
        raise ValidationError(_("You have said you were there already.")) from None
    meeting = _meeting(entry)
    path = dispute_path(dispute)
    notify(
        (
            Notice(
                congregation_id=entry.congregation_id,
                recipient=witness,
                about=f"dispute:{dispute.pk}",
                actor=disputed_by,
                text=format_lazy(
                    gettext_lazy(
                        # Translators: meeting names a crew's meeting: "Tuesday crew, 13
                        # December 2026".
                        "{name} says they were at {meeting}, but was not marked present. "
                        "Were they there?"
                    ),
                    name=str(disputed_by),
                    meeting=meeting,
                ),
                path=path,
                ask=Ask.DISPUTE,
                subject=format_lazy(
                    # Translators: An email's subject; meeting names a crew's meeting: "Tuesday
                    # crew, 13 December 2026".
                    gettext_lazy("Was {name} at {meeting}?"),
                    name=str(disputed_by),
                    meeting=meeting,
                ),
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
            # Translators: A crew-mate is someone in the same crew (a small group that meets
            # about once a month).
            _("Nobody confirms their own dispute: a crew-mate who was there confirms it.")
        )
    if dispute.confirmed_at is not None:
        raise ValidationError(
            # Translators: A crew-mate is someone in the same crew (a small group that meets
            # about once a month).
            _("A crew-mate has confirmed this already: the points are back.")
        )
    if dispute.withdrawn_at is not None:
        raise ValidationError(
            _("This dispute no longer waits for anyone: there is nothing to confirm.")
        )
    if not dispute_witnesses(entry=entry).filter(pk=confirmed_by.pk).exists():
        raise ValidationError(
            _(
                # Translators: A crew-mate is someone in the same crew (a small group that meets
                # about once a month).
                "Only a crew-mate marked present at that meeting, and still in the crew, can "
                "confirm it."
            )
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
                text=format_lazy(
                    gettext_lazy(
                        # Translators: meeting names a crew's meeting: "Tuesday crew, 13 December
                        # 2026"; points is signed: −5.
                        "{name} confirmed you were at {meeting}: your {points} is reversed."
                    ),
                    name=str(confirmed_by),
                    meeting=meeting,
                    points=signed(entry.points),
                ),
                path=dispute_path(dispute),
            )
        ],
        now=now,
    )
    return reversal


def _meeting(entry: LedgerEntry) -> str | Promise:
    """The meeting of a missed-meeting entry: its crew and its day, on its own clock, the
    day written in the language it is read in ("Tuesday crew, 13 December 2026")."""
    assert entry.crew is not None and entry.meeting is not None, "a missed meeting's entry"
    return format_lazy("{}, {}", entry.crew.name, _day(entry.meeting.local_start, "DATE_FORMAT"))


_day = lazy(date_format, str)


def dispute_path(dispute: Dispute) -> str:
    slug = dispute.entry.crew.congregation.slug  # type: ignore[union-attr]
    return reverse("reciprocity:dispute", kwargs={"congregation_slug": slug, "pk": dispute.pk})
