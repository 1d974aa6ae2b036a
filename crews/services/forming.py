"""Forming crews and dyads: proposing, inviting, answering, leaving.

Functions that change who is in a crew lock the crew's row first, so two people joining at
once cannot make a crew of nine.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone as clock
from django.utils.translation import gettext, ngettext

from congregations.guards import refuse_strangers
from congregations.history import withdrew
from congregations.models import Congregation, Membership, MembershipEvent, Self
from congregations.request_keys import replayed, stored
from congregations.services.congregations import record_event
from congregations.services.notifications import notify
from congregations.tenancy import tenant_service
from reciprocity.services import release_departed

from ..guards import require_member
from ..models import SIZES, Crew, CrewInvitation, CrewMembership, Kind
from ..selectors import is_current_member
from .notices import ask_invitees, formed_news, invitations_closed, not_to_log, tell_answer


def lock_crew(crew: Crew) -> Crew:
    return Crew.objects.select_for_update().get(pk=crew.pk)


def _congregation_members(congregation: Congregation, selves: Iterable[Self]) -> list[Self]:
    """The given Selves, once each, refusing anyone who is not a current member."""
    people = list(dict.fromkeys(selves))
    refuse_strangers(congregation=congregation, selves=people)
    return people


def _kind(kind: str) -> Kind:
    if kind not in Kind.values:
        # Translators: A crew is a small group of 3–8 people who meet about once a month
        # (the proposal's "Crew"); a dyad is a partnership of two (the proposal's "Dyad").
        raise ValidationError({"kind": gettext("A circle is a crew or a dyad.")})
    return Kind(kind)


def _wrong_size(kind: Kind, count: int) -> str:
    """Why ``count`` people make no ``kind``."""
    low, high = SIZES[kind]
    if kind == Kind.DYAD:
        text = ngettext(
            # Translators: A dyad is a partnership of two people who meet about once a month
            # (the proposal's "Dyad").
            "A dyad is exactly %(size)s people; this has %(count)s.",
            "A dyad is exactly %(size)s people; this has %(count)s.",
            count,
        )
    else:
        text = ngettext(
            # Translators: A crew is a small group of 3–8 people who meet about once a month
            # (the proposal's "Crew").
            "A crew is %(low)s to %(high)s people; this has %(count)s.",
            "A crew is %(low)s to %(high)s people; this has %(count)s.",
            count,
        )
    return text % {"size": high, "low": low, "high": high, "count": count}


def _too_many_invited(kind: Kind) -> str:
    """How many a proposal of ``kind`` may invite."""
    low, high = SIZES[kind]
    if kind == Kind.DYAD:
        # Translators: A dyad is a partnership of two people who meet about once a month
        # (the proposal's "Dyad").
        text = gettext("A dyad is exactly %(size)s people: invite at most %(most)s.")
    else:
        # Translators: A crew is a small group of 3–8 people who meet about once a month
        # (the proposal's "Crew").
        text = gettext("A crew is %(low)s to %(high)s people: invite at most %(most)s.")
    return text % {"size": high, "low": low, "high": high, "most": high - 1}


def _at_most(crew: Crew) -> str:
    """The end of a refusal for a full crew: "a crew is at most 8 people"."""
    if crew.is_dyad:
        # Translators: ends a sentence saying a dyad is full. A dyad is a partnership of two
        # people who meet about once a month (the proposal's "Dyad").
        return gettext("a dyad is at most %(size)s people") % {"size": crew.max_size}
    # Translators: ends a sentence saying a crew is full. A crew is a small group of 3–8
    # people who meet about once a month (the proposal's "Crew").
    return gettext("a crew is at most %(size)s people") % {"size": crew.max_size}


def _new_crew(
    congregation: Congregation,
    name: str,
    kind: Kind,
    purpose: str,
    proposed_by: Self,
    tz: ZoneInfo | str | None,
    now: datetime,
    request_key: str | None = None,
) -> Crew:
    crew = Crew(
        congregation=congregation,
        kind=kind,
        name=(name or "").strip(),
        purpose=purpose,
        timezone=tz or proposed_by.timezone,
        proposed_by=proposed_by,
        created_at=now,
        request_key=request_key,
    )
    # The name's uniqueness is the one constraint, checked below in words a person
    # understands; its length and its being one line, here.
    crew.full_clean(exclude=["request_key"], validate_constraints=False)
    if Crew.objects.filter(congregation=congregation, name__iexact=crew.name).exists():
        # Translators: A crew is a small group of 3–8 people who meet about once a month
        # (the proposal's "Crew").
        message = gettext("There is already a crew called “%(name)s”.") % {"name": crew.name}
        raise ValidationError({"name": message})
    crew.save()
    return crew


def _join(crew: Crew, member: Self, now: datetime) -> None:
    CrewMembership.objects.create(
        congregation_id=crew.congregation_id, crew=crew, member=member, joined_at=now
    )


@tenant_service
@transaction.atomic
def form_crew(
    *,
    congregation: Congregation,
    name: str,
    members: Iterable[Self],
    kind: str = Kind.CREW,
    purpose: str = "",
    timezone: ZoneInfo | str | None = None,
    now: datetime | None = None,
) -> Crew:
    """A formed crew (3–8) or dyad (exactly 2) of congregation members who have all agreed;
    the propose-and-accept flow in the browser ends in the same state."""
    now = now or clock.now()
    kind = _kind(kind)
    people = _congregation_members(congregation, members)
    low, high = SIZES[kind]
    if not low <= len(people) <= high:
        raise ValidationError(_wrong_size(kind, len(people)))
    crew = _new_crew(congregation, name, kind, purpose, people[0], timezone, now)
    for person in people:
        _join(crew, person, now)
    crew.formed_at = now
    crew.save(update_fields=["formed_at"])
    notify(formed_news(crew, crew.memberships.select_related("member")), now=now)
    return crew


@tenant_service
@transaction.atomic
def propose_crew(
    *,
    congregation: Congregation,
    name: str,
    proposed_by: Self,
    invitees: Iterable[Self],
    kind: str = Kind.CREW,
    purpose: str = "",
    timezone: ZoneInfo | str | None = None,
    request_key: str = "",
    now: datetime | None = None,
) -> Crew:
    """Propose a crew or dyad: the proposer joins it, each invitee is asked, and it is
    formed once enough of them accept. A repeated form (the same ``request_key``) gets the
    proposal its first submission made."""
    now = now or clock.now()
    kind = _kind(kind)
    # Proposals in a congregation take turns: a repeated form finds the first one's crew,
    # and two proposals of one name cannot both pass the name check. NO KEY UPDATE: other
    # writes in the congregation, whose foreign keys share-lock this row, go on.
    congregation = Congregation.objects.select_for_update(no_key=True).get(pk=congregation.pk)
    _congregation_members(congregation, [proposed_by])
    if earlier := replayed(Crew, request_key, congregation, proposed_by=proposed_by, kind=kind):
        return earlier
    people = [p for p in _congregation_members(congregation, invitees) if p != proposed_by]
    high = SIZES[kind][1]
    if not people:
        raise ValidationError({"invitees": gettext("Invite at least one person.")})
    if len(people) > high - 1:
        raise ValidationError({"invitees": _too_many_invited(kind)})
    crew = _new_crew(
        congregation, name, kind, purpose, proposed_by, timezone, now, stored(request_key)
    )
    _join(crew, proposed_by, now)
    ask_invitees(
        [
            CrewInvitation.objects.create(
                congregation=congregation,
                crew=crew,
                invitee=person,
                invited_by=proposed_by,
                created_at=now,
            )
            for person in people
        ],
        now=now,
    )
    return crew


def _require_room(crew: Crew) -> int:
    """The crew's current size, refusing when it is full."""
    size = CrewMembership.objects.filter(crew=crew).current().count()
    if size >= crew.max_size:
        raise ValidationError(
            gettext("%(crew)s is full: %(at_most)s.") % {"crew": crew, "at_most": _at_most(crew)}
        )
    return size


def _require_free_seat(crew: Crew) -> None:
    """Seats are seats: the members and those asked and not yet answering never number
    more than the crew holds. The caller holds the crew's lock."""
    size = _require_room(crew)
    asked = CrewInvitation.objects.filter(crew=crew, answered_at__isnull=True).count()
    if size + asked >= crew.max_size:
        raise ValidationError(
            {
                "invitee": gettext(
                    "%(crew)s has no free seat: %(size)s in it and %(asked)s asked, and "
                    "%(at_most)s. Ask again if someone says no."
                )
                % {"crew": crew, "size": size, "asked": asked, "at_most": _at_most(crew)}
            }
        )


@tenant_service
@transaction.atomic
def invite_to_crew(
    *, crew: Crew, invitee: Self, invited_by: Self, now: datetime | None = None
) -> CrewInvitation:
    """A member asks someone else in the congregation to join their crew."""
    now = now or clock.now()
    crew = lock_crew(crew)
    require_member(crew, invited_by)
    _congregation_members(crew.congregation, [invitee])
    if is_current_member(crew=crew, self_=invitee):
        raise ValidationError(
            gettext("%(name)s is in %(crew)s already.") % {"name": invitee, "crew": crew}
        )
    if CrewInvitation.objects.filter(crew=crew, invitee=invitee, answered_at__isnull=True).exists():
        raise ValidationError(gettext("%(name)s has been asked already.") % {"name": invitee})
    _require_free_seat(crew)
    invitation = CrewInvitation.objects.create(
        congregation_id=crew.congregation_id,
        crew=crew,
        invitee=invitee,
        invited_by=invited_by,
        created_at=now,
    )
    ask_invitees([invitation], now=now)
    return invitation


@tenant_service
@transaction.atomic
def answer_crew_invitation(
    *, invitation: CrewInvitation, answered_by: Self, accept: bool, now: datetime | None = None
) -> CrewInvitation:
    """Only the invitee answers. Accepting joins the crew, and forms it once it has enough
    people; a full crew refuses the answer with a message. The one who fills the crew
    closes its other open invitations as withdrawn: there is no seat left to answer for."""
    now = now or clock.now()
    if invitation.invitee_id != answered_by.pk:
        raise ValidationError(gettext("Only the person invited can answer this invitation."))
    crew = lock_crew(invitation.crew)
    invitation = CrewInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.withdrawn_at:
        # A departure withdraws the invitations of the one who left at the moment they left.
        inviter_left = CrewMembership.objects.filter(
            crew=crew, member_id=invitation.invited_by_id, left_at=invitation.withdrawn_at
        ).exists()
        if inviter_left:
            raise ValidationError(
                gettext(
                    "%(name)s left %(crew)s before you answered, so their invitation was withdrawn."
                )
                % {"name": invitation.invited_by, "crew": crew}
            )
        raise ValidationError(
            gettext("%(crew)s filled up before you answered: there is no seat left.")
            % {"crew": crew}
        )
    if invitation.answered_at:
        raise ValidationError(gettext("You have answered this invitation already."))
    formed = False
    if accept:
        size = _require_room(crew) + 1
        _join(crew, answered_by, now)
        if crew.formed_at is None and size >= crew.min_size:
            crew.formed_at, formed = now, True
            crew.save(update_fields=["formed_at"])
        if size >= crew.max_size:
            unanswered = CrewInvitation.objects.filter(crew=crew, answered_at__isnull=True).exclude(
                pk=invitation.pk
            )
            invitations_closed(list(unanswered), now=now)
            unanswered.update(answered_at=now, withdrawn_at=now)
    invitation.answered_at, invitation.accepted = now, accept
    invitation.save(update_fields=["answered_at", "accepted"])
    tell_answer(invitation, formed=formed, now=now)
    return invitation


@tenant_service
@transaction.atomic
def leave_crew(*, crew: Crew, member: Self, now: datetime | None = None) -> CrewMembership:
    """Leave a crew. The membership keeps its dates, so past meetings still know who was in;
    what in the crew waited on the member is withdrawn (reciprocity.rules.WHEN_SOMEONE_LEAVES)."""
    now = now or clock.now()
    crew = lock_crew(crew)
    membership = CrewMembership.objects.filter(crew=crew, member=member).current().first()
    if membership is None:
        not_in = gettext("%(name)s is not in %(crew)s.")
        raise ValidationError(not_in % {"name": member, "crew": crew})
    membership.left_at = now
    membership.save(update_fields=["left_at"])
    not_to_log(crew, member, now=now)
    _release(crew.congregation, member, crew, actor=member, now=now)
    return membership


def end_crew_memberships(
    *, congregation: Congregation, member: Self, actor: Self, now: datetime
) -> None:
    """Someone who leaves the congregation leaves its crews, and what waited on them there
    is withdrawn (reciprocity.rules.WHEN_SOMEONE_LEAVES)."""
    CrewMembership.objects.filter(
        crew__congregation=congregation, member=member, left_at__isnull=True
    ).update(left_at=now)
    _release(congregation, member, None, actor=actor, now=now)


def _release(
    congregation: Congregation, member: Self, crew: Crew | None, *, actor: Self, now: datetime
) -> None:
    """Withdraw the open crew invitations to and from ``member`` in ``crew`` (None: in every
    crew), let the game settle what else waited on them, and say in History what was
    withdrawn, if anything was."""
    invitations = CrewInvitation.objects.filter(
        Q(invitee=member) | Q(invited_by=member),
        congregation=congregation,
        answered_at__isnull=True,
    )
    if crew is not None:
        invitations = invitations.filter(crew=crew)
    withdrawn = list(invitations)
    CrewInvitation.objects.filter(pk__in=[i.pk for i in withdrawn]).update(
        answered_at=now, withdrawn_at=now
    )
    invitations_closed(withdrawn, now=now)
    done = [withdrew("crew_invitations", len(withdrawn))] if withdrawn else []
    done += release_departed(congregation=congregation, member=member, crew=crew, now=now)
    if done:
        record_event(
            congregation, actor, MembershipEvent.Action.WITHDRAWN, now, subject=member, details=done
        )


def on_membership_ended(
    sender: Any, *, membership: Membership, actor: Self, now: datetime, **_: Any
) -> None:
    end_crew_memberships(
        congregation=membership.congregation, member=membership.member, actor=actor, now=now
    )
