"""Level 5, co-owners: +100 each when a venture's legal ownership is shared and every
co-owner has confirmed it. These points belong to the congregation, not to a crew."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from congregations.guards import refuse_strangers
from congregations.models import Congregation, Self
from congregations.request_keys import replayed, stored
from congregations.tenancy import tenant_service

from ..models import CoOwner, LegalForm, Venture
from ..rules import Rule, entry_key, entry_reason
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
        raise ValidationError({"co_owners": "Register a venture you are a co-owner of."})
    if len(people) < 2:
        raise ValidationError({"co_owners": "A venture here is shared by at least two co-owners."})
    if legal_form not in LegalForm.values:
        raise ValidationError({"legal_form": "Choose one of the legal forms listed."})
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
        raise ValidationError({"name": f"A venture called “{name}” is registered already."})
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
    """A co-owner confirms their own share; once all have, each gets +100, once."""
    now = now or timezone.now()
    venture = Venture.objects.select_for_update().get(pk=venture.pk)
    share = CoOwner.objects.filter(venture=venture, co_owner=co_owner).first()
    if share is None:
        raise ValidationError("Only this venture's co-owners can confirm it.")
    if share.confirmed_at:
        raise ValidationError("You have confirmed your share already.")
    share.confirmed_at = now
    share.save(update_fields=["confirmed_at"])
    done(venture, by=co_owner, now=now)
    if venture.co_owners.filter(confirmed_at__isnull=True).exists():
        return venture
    venture.confirmed_at = now
    venture.save(update_fields=["confirmed_at"])
    done(venture, now=now)
    write(
        [
            entry(
                congregation_id=venture.congregation_id,
                member_id=owner_id,
                rule=Rule.CO_OWNED,
                reason=entry_reason(
                    Rule.CO_OWNED, venture=venture, legal_form=venture.get_legal_form_display()
                ),
                key=entry_key(Rule.CO_OWNED, venture.pk, owner_id),
                occurred_at=now,
                now=now,
                # The co-owner whose confirmation completed it: no background job wrote it.
                recorded_by=co_owner,
                venture=venture,
            )
            for owner_id in venture.co_owners.values_list("co_owner_id", flat=True)
        ]
    )
    return venture
