"""Level 1 (listening) and level 2 (money): rounds recorded at a logged meeting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from congregations.models import Self
from congregations.request_keys import replayed, stored
from congregations.tenancy import tenant_service
from crews.models import Meeting

from ..models import (
    ListeningParticipant,
    ListeningRound,
    MoneyOffer,
    MoneyRound,
    OfferKind,
)
from ..rules import (
    Rule,
    entry_key,
    listening_round_awards,
    money_round_awards,
)
from .guards import distinct, lock_logged_meeting, require_crew_member, require_present
from .ledger import describe, entry, write


@tenant_service
@transaction.atomic
def record_listening_round(
    *,
    meeting: Meeting,
    participants: Iterable[Self],
    everyone_listened: bool,
    recorded_by: Self,
    request_key: str = "",
    now: datetime | None = None,
) -> ListeningRound:
    """+1 to each participant when everyone listened to everyone; a round in which not
    everyone did is still recorded, and scores nothing."""
    now = now or timezone.now()
    meeting = lock_logged_meeting(meeting)
    require_crew_member(
        meeting.crew,
        recorded_by,
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet about
        # once a month).
        _("Only members of %(crew)s can record its rounds."),
    )
    if earlier := replayed(ListeningRound, request_key, meeting.congregation, meeting=meeting):
        return earlier
    people = distinct(participants)
    if len(people) < 2:
        # Translators: A listening round: one at a time, each says something true for them.
        raise ValidationError({"participants": _("A listening round needs at least two people.")})
    require_present(meeting, people, "participants")
    if ListeningRound.objects.filter(meeting=meeting).exists():
        # Translators: A listening round: one at a time, each says something true for them.
        raise ValidationError(_("This meeting has a listening round already."))
    listening = ListeningRound.objects.create(
        congregation_id=meeting.congregation_id,
        meeting=meeting,
        everyone_listened=everyone_listened,
        recorded_by=recorded_by,
        recorded_at=now,
        request_key=stored(request_key),
    )
    ListeningParticipant.objects.bulk_create(
        ListeningParticipant(
            congregation_id=meeting.congregation_id, round=listening, participant=person
        )
        for person in people
    )
    awards = listening_round_awards(participants=people, everyone_listened=everyone_listened)
    write(
        [
            entry(
                congregation_id=meeting.congregation_id,
                crew_id=meeting.crew_id,
                member_id=person.pk,
                rule=rule,
                parts=describe(meeting),
                key=entry_key(rule, listening.pk, person.pk),
                occurred_at=meeting.starts_at,
                recorded_by=recorded_by,
                now=now,
                meeting=meeting,
                listening_round=listening,
            )
            for person, rule in awards
        ]
    )
    return listening


@tenant_service
@transaction.atomic
def record_money_round(
    *,
    meeting: Meeting,
    focus: Self,
    asked: bool,
    offerers: Iterable[Self],
    mutual_respect: bool,
    recorded_by: Self,
    offer_kinds: Mapping[int, Sequence[str]] | None = None,
    request_key: str = "",
    now: datetime | None = None,
) -> MoneyRound:
    """+5 to the focus person for asking; +5 to each offerer, once per round however many
    offers; and, held with mutual respect and positive regard with at least one offer, +1
    to the focus person and to each offerer. ``offer_kinds`` maps an offerer's id to what
    they offered (perspective, process, introduction, encouragement)."""
    now = now or timezone.now()
    meeting = lock_logged_meeting(meeting)
    require_crew_member(
        meeting.crew,
        recorded_by,
        # Translators: crew is the name of a crew (a small group of 3–8 people who meet about
        # once a month).
        _("Only members of %(crew)s can record its rounds."),
    )
    if earlier := replayed(
        MoneyRound, request_key, meeting.congregation, meeting=meeting, focus=focus
    ):
        return earlier
    people = distinct(offerers)
    if focus in people:
        raise ValidationError({"offerers": _("The focus person does not offer to themselves.")})
    require_present(meeting, [focus], "focus")
    require_present(meeting, people, "offerers")
    kinds = {pk: list(dict.fromkeys(k for k in ks if k)) for pk, ks in (offer_kinds or {}).items()}
    unknown = {k for ks in kinds.values() for k in ks} - set(OfferKind.values)
    if unknown:
        kinds_named = ", ".join(sorted(unknown))
        raise ValidationError(
            {"offerers": _("Unknown kind of offer: %(kinds)s.") % {"kinds": kinds_named}}
        )
    if MoneyRound.objects.filter(meeting=meeting, focus=focus).exists():
        raise ValidationError(
            # Translators: A money round: one person talks about their paid and their meaningful
            # work; the others offer help. name is that person's name.
            _("%(name)s has had a money round at this meeting already.") % {"name": focus}
        )
    money = MoneyRound.objects.create(
        congregation_id=meeting.congregation_id,
        meeting=meeting,
        focus=focus,
        asked=asked,
        mutual_respect=mutual_respect,
        recorded_by=recorded_by,
        recorded_at=now,
        request_key=stored(request_key),
    )
    MoneyOffer.objects.bulk_create(
        MoneyOffer(congregation_id=meeting.congregation_id, round=money, offerer=person, kind=kind)
        for person in people
        for kind in kinds.get(person.pk) or [""]
    )
    label = describe(meeting)
    awards = money_round_awards(
        focus=focus, asked=asked, offerers=people, mutual_respect=mutual_respect
    )
    write(
        [
            entry(
                congregation_id=meeting.congregation_id,
                crew_id=meeting.crew_id,
                member_id=person.pk,
                rule=rule,
                parts={**label, "focus": str(focus)} if rule == Rule.OFFERED else label,
                key=entry_key(rule, money.pk, person.pk),
                occurred_at=meeting.starts_at,
                recorded_by=recorded_by,
                now=now,
                meeting=meeting,
                money_round=money,
            )
            for person, rule in awards
        ]
    )
    return money
