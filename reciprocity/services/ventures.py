"""Level 5, co-owners: +100 each when a venture's legal ownership is shared and every
co-owner has confirmed it. These points belong to the congregation, not to a crew."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from congregations.guards import refuse_strangers
from congregations.history import Detail, venture_left
from congregations.models import Congregation, Self
from congregations.request_keys import replayed, stored
from congregations.tenancy import tenant_service

from ..models import CoOwner, LegalForm, Venture
from ..rules import Rule, entry_key
from .guards import distinct
from .ledger import entry, write
from .notices import ask_co_owners, done


@tenant_service
@transaction.atomic
def register_venture(
    *,
    congregation: Congregation,
    name: str,
    legal_form: str,
    co_owners: Iterable[Self],
    registered_by: Self,
    request_key: str = "",
    now: datetime | None = None,
) -> Venture:
    """A venture owned by two or more members, the one registering it among them. No
    points yet: they wait for every co-owner's own confirmation, the registrant's too."""
    now = now or timezone.now()
    # Registrations in a congregation take turns, so a repeated request key finds the
    # venture its first submission made. NO KEY UPDATE: other writes in the congregation,
    # whose foreign keys share-lock this row, go on.
    congregation = Congregation.objects.select_for_update(no_key=True).get(pk=congregation.pk)
    name = (name or "").strip()
    if earlier := replayed(Venture, request_key, congregation, name=name):
        return earlier
    people = distinct(co_owners)
    if registered_by not in people:
        # Translators: A venture is a company, association or co-op whose legal ownership
        # members share; a co-owner is one of those who share it.
        raise ValidationError({"co_owners": _("Register a venture you are a co-owner of.")})
    if len(people) < 2:
        raise ValidationError(
            # Translators: A venture is a company, association or co-op whose legal ownership
            # members share; a co-owner is one of those who share it.
            {"co_owners": _("A venture here is shared by at least two co-owners.")}
        )
    if legal_form not in LegalForm.values:
        raise ValidationError({"legal_form": _("Choose one of the legal forms listed.")})
    refuse_strangers(congregation=congregation, selves=people, field="co_owners")
    venture = Venture(
        congregation=congregation,
        name=name,
        legal_form=legal_form,
        registered_by=registered_by,
        registered_at=now,
        request_key=stored(request_key),
    )
    # The name is checked before it is looked up: PostgreSQL refuses a NUL even in a query.
    venture.full_clean(exclude=["request_key"], validate_constraints=False)
    if Venture.objects.filter(congregation=congregation, name__iexact=name).exists():
        # Its co-owners would otherwise earn level 5 twice for one venture.
        raise ValidationError(
            # Translators: A venture is a company, association or co-op whose legal ownership
            # members share; a co-owner is one of those who share it.
            {"name": _("A venture called “%(name)s” is registered already.") % {"name": name}}
        )
    venture.save()
    CoOwner.objects.bulk_create(
        CoOwner(congregation=congregation, venture=venture, co_owner=person) for person in people
    )
    ask_co_owners(venture, registered_by=registered_by, now=now)
    return venture


@tenant_service
@transaction.atomic
def confirm_co_ownership(
    *, venture: Venture, co_owner: Self, now: datetime | None = None
) -> Venture:
    """A co-owner confirms their own share; once all who remain have, each gets +100, once."""
    now = now or timezone.now()
    venture = Venture.objects.select_for_update().get(pk=venture.pk)
    if venture.withdrawn_at:
        raise ValidationError(
            _(
                # Translators: A venture is a company, association or co-op whose legal ownership
                # members share; a co-owner is one of those who share it.
                "%(venture)s was withdrawn: fewer than two co-owners remained to confirm it, "
                "so it will not score."
            )
            % {"venture": venture}
        )
    # One who left before confirming is no longer a co-owner (rules.WHEN_SOMEONE_LEAVES).
    share = CoOwner.objects.filter(venture=venture, co_owner=co_owner, left_at__isnull=True).first()
    if share is None:
        # Translators: A venture is a company, association or co-op whose legal ownership
        # members share; a co-owner is one of those who share it.
        raise ValidationError(_("Only this venture's co-owners can confirm it."))
    if share.confirmed_at:
        raise ValidationError(_("You have confirmed your share already."))
    share.confirmed_at = now
    share.save(update_fields=["confirmed_at"])
    done(venture, by=co_owner, now=now)
    if not venture.co_owners.filter(confirmed_at__isnull=True, left_at__isnull=True).exists():
        # The co-owner whose confirmation completed it: no background job wrote it.
        _complete(venture, now, recorded_by=co_owner)
    return venture


def _complete(venture: Venture, now: datetime, *, recorded_by: Self | None) -> None:
    """Every co-owner who remains has confirmed: +100 each, once. A co-owner who confirmed
    and then left stays one of record and earns it too."""
    venture.confirmed_at = now
    venture.save(update_fields=["confirmed_at"])
    done(venture, now=now)
    write(
        [
            entry(
                congregation_id=venture.congregation_id,
                member_id=owner_id,
                rule=Rule.CO_OWNED,
                parts={"venture": venture.name, "legal_form": venture.legal_form},
                key=entry_key(Rule.CO_OWNED, venture.pk, owner_id),
                occurred_at=now,
                now=now,
                recorded_by=recorded_by,
                venture=venture,
            )
            for owner_id in venture.co_owners.filter(left_at__isnull=True).values_list(
                "co_owner_id", flat=True
            )
        ]
    )


def leave_ventures(*, congregation: Congregation, member: Self, now: datetime) -> list[Detail]:
    """``member`` left the congregation: each venture waiting for their confirmation goes on
    without them. It scores when two or more remain and all have confirmed, and is
    withdrawn when fewer than two remain (rules.WHEN_SOMEONE_LEAVES). Returns what
    happened, as details of History."""
    shares = CoOwner.objects.filter(
        congregation=congregation, co_owner=member, confirmed_at__isnull=True, left_at__isnull=True
    )
    ventures = Venture.objects.select_for_update().filter(
        pk__in=shares.values("venture_id"), confirmed_at__isnull=True, withdrawn_at__isnull=True
    )
    happened: list[Detail] = []
    for venture in ventures.order_by("pk"):
        CoOwner.objects.filter(venture=venture, co_owner=member).update(left_at=now)
        done(venture, by=member, now=now)
        remaining = list(
            venture.co_owners.filter(left_at__isnull=True).values_list("confirmed_at", flat=True)
        )
        if len(remaining) < 2:
            venture.withdrawn_at = now
            venture.save(update_fields=["withdrawn_at"])
            done(venture, now=now)
            happened.append(venture_left("withdrawn", venture))
        elif all(remaining):
            _complete(venture, now, recorded_by=None)
            happened.append(venture_left("scored", venture))
        else:
            happened.append(venture_left("left", venture))
    return happened
