"""Every action answered through congregations.web.swap_or_back, done and refused, with
htmx (the page's fragment with the outcome in it, made from the context it is given to
make) and without (a redirect back, the outcome said as a message on the page)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from congregations.models import Congregation, Invitation, Membership, Role, Self
from congregations.request_keys import new_request_key
from congregations.services import invite, revoke_invitation
from congregations.tenancy import tenant
from crews.models import Attendance, Crew, Meeting
from reciprocity.models import ConflictParty, CoOwner, ListeningRound, MoneyRound
from reciprocity.services import confirm_resolution
from tests.builders import (
    HOUR,
    conflict,
    congregation_url,
    held_meeting,
    membership_of,
    scheduled_meeting,
    signed_in,
    venture,
)
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@dataclass
class Case:
    """Who posts what where; the outcome said; the element the fragment is; the page
    the answer without htmx goes back to; whether the database shows the outcome."""

    caller: Self
    url: str
    data: dict[str, Any]
    says: str
    fragment: str
    back: str
    written: Callable[[], bool]


def role_change(congregation: Congregation, facilitator: Self, member: Self, role: str) -> Case:
    target = membership_of(member, congregation)

    def written() -> bool:
        return membership_of(member, congregation).role == Role.FACILITATOR

    return Case(
        facilitator,
        congregation_url("change_role", congregation, pk=target.pk),
        {"role": role},
        f"{member.display_name} is now a facilitator."
        if role == "facilitator"
        else "Choose facilitator or member.",
        f'<li id="member-{target.pk}">',
        congregation_url("members", congregation),
        written if role == "facilitator" else lambda: not written(),
    )


def invitation_answer(
    congregation: Congregation, facilitator: Self, action: str, already_revoked: bool
) -> Case:
    invitation, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, send_email=False
    )
    if already_revoked:
        revoke_invitation(invitation=invitation, revoked_by=facilitator)

    def revoked() -> bool:
        with tenant(congregation):
            return Invitation.objects.get(pk=invitation.pk).revoked_at is not None

    says = {
        "resend": "A new link is on its way to a@example.net.",
        "revoke": "The link sent to a@example.net no longer works.",
    }[action]
    refusals = {
        "resend": "Only an invitation that has not been answered can be resent.",
        "revoke": "answered or revoked already",
    }
    return Case(
        facilitator,
        congregation_url(f"{action}_invitation", congregation, pk=invitation.pk),
        {},
        refusals[action] if already_revoked else says,
        f'<li id="invitation-{invitation.pk}">',
        congregation_url("invitations", congregation),
        revoked if action == "revoke" or already_revoked else lambda: not revoked(),
    )


def conflict_confirmation(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self, twice: bool
) -> Case:
    opened = conflict(crew, member, crew_mate, third)
    if twice:
        confirm_resolution(conflict=opened, party=member)

    def confirmed() -> bool:
        with tenant(congregation):
            party = ConflictParty.objects.get(conflict=opened, party=member)
            return party.confirmed_at is not None

    return Case(
        member,
        congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk),
        {},
        "You have confirmed this resolution already."
        if twice
        else "You confirmed that you found a mutually agreeable resolution.",
        'id="conflict-outcome"',
        congregation_url("reciprocity:conflict", congregation, pk=opened.pk),
        confirmed,
    )


def co_ownership(congregation: Congregation, caller: Self, member: Self, crew_mate: Self) -> Case:
    registered = venture(congregation, member, crew_mate)
    co_owner = caller == member

    def confirmed() -> bool:
        with tenant(congregation):
            return CoOwner.objects.filter(venture=registered, confirmed_at__isnull=False).exists()

    return Case(
        caller,
        congregation_url("reciprocity:confirm_co_ownership", congregation, pk=registered.pk),
        {},
        "You confirmed that you share legal ownership."
        if co_owner
        else "Only this venture's co-owners can confirm it.",
        'id="co-owners"',
        congregation_url("reciprocity:venture", congregation, pk=registered.pk),
        confirmed if co_owner else lambda: not confirmed(),
    )


def round_recorded(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, kind: str
) -> Case:
    meeting = held_meeting(crew)
    key = new_request_key(congregation)
    model: type[ListeningRound | MoneyRound]
    if kind == "listening":
        data: dict[str, Any] = {
            "request_key": key,
            "participants": [member.pk, crew_mate.pk],
            "everyone_listened": "on",
        }
        says, model = "The listening round is recorded.", ListeningRound
    else:  # a money round
        data = {"request_key": key, "focus": crew_mate.pk, f"offer_{member.pk}": ["process"]}
        says, model = f"The money round for {crew_mate.display_name} is recorded.", MoneyRound

    def recorded() -> bool:
        with tenant(congregation):
            return model.objects.filter(meeting=meeting).exists()

    return Case(
        member,
        congregation_url(f"reciprocity:record_{kind}_round", congregation, meeting_pk=meeting.pk),
        data,
        says,
        'id="recorded-rounds" aria-labelledby="recorded-rounds-heading" data-hx-swap-oob="true"',
        congregation_url("reciprocity:meeting_rounds", congregation, meeting_pk=meeting.pk),
        recorded,
    )


def tap(congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, ok: bool) -> Case:
    meeting: Meeting = scheduled_meeting(crew, timezone.now() - HOUR)

    def present() -> bool:
        with tenant(congregation):
            return Attendance.objects.filter(
                meeting=meeting, member=crew_mate, present=True
            ).exists()

    return Case(
        member,
        congregation_url("crews:tap", congregation, pk=meeting.pk, member_id=crew_mate.pk),
        {"present": "1" if ok else "maybe"},
        crew_mate.display_name if ok else "That tap was not understood",
        f'<li id="attendee-{crew_mate.pk}">',
        congregation_url("crews:meeting", congregation, pk=meeting.pk),
        present if ok else lambda: not present(),
    )


def fixtures(f: pytest.FixtureRequest, *names: str) -> dict[str, Any]:
    return {name: f.getfixturevalue(name) for name in names}


PEOPLE = ("congregation", "crew", "member", "crew_mate")

CASES: dict[str, Callable[[pytest.FixtureRequest], Case]] = {
    "role_done": lambda f: role_change(
        **fixtures(f, "congregation", "facilitator", "member"), role="facilitator"
    ),
    "role_refused": lambda f: role_change(
        **fixtures(f, "congregation", "facilitator", "member"), role="king"
    ),
    "resend_done": lambda f: invitation_answer(
        **fixtures(f, "congregation", "facilitator"), action="resend", already_revoked=False
    ),
    "resend_refused": lambda f: invitation_answer(
        **fixtures(f, "congregation", "facilitator"), action="resend", already_revoked=True
    ),
    "revoke_done": lambda f: invitation_answer(
        **fixtures(f, "congregation", "facilitator"), action="revoke", already_revoked=False
    ),
    "revoke_refused": lambda f: invitation_answer(
        **fixtures(f, "congregation", "facilitator"), action="revoke", already_revoked=True
    ),
    "conflict_done": lambda f: conflict_confirmation(**fixtures(f, *PEOPLE, "third"), twice=False),
    "conflict_refused": lambda f: conflict_confirmation(
        **fixtures(f, *PEOPLE, "third"), twice=True
    ),
    "venture_done": lambda f: co_ownership(
        **fixtures(f, "congregation", "member", "crew_mate"), caller=f.getfixturevalue("member")
    ),
    "venture_refused": lambda f: co_ownership(
        **fixtures(f, "congregation", "member", "crew_mate"),
        caller=f.getfixturevalue("facilitator"),
    ),
    "listening_done": lambda f: round_recorded(**fixtures(f, *PEOPLE), kind="listening"),
    "money_done": lambda f: round_recorded(**fixtures(f, *PEOPLE), kind="money"),
    "tap_done": lambda f: tap(**fixtures(f, *PEOPLE), ok=True),
    "tap_refused": lambda f: tap(**fixtures(f, *PEOPLE), ok=False),
}


@pytest.mark.parametrize("name", CASES)
def test_with_htmx_the_fragment_comes_back_with_the_outcome(
    request: pytest.FixtureRequest, name: str
) -> None:
    case = CASES[name](request)

    response = signed_in(case.caller).post(case.url, case.data, headers={"HX-Request": "true"})

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert case.fragment in page
    assert case.says in page
    assert case.written()


@pytest.mark.parametrize("name", CASES)
def test_without_htmx_the_answer_goes_back_and_the_page_says_the_outcome(
    request: pytest.FixtureRequest, name: str
) -> None:
    case = CASES[name](request)
    client = signed_in(case.caller)

    response = client.post(case.url, case.data)

    assert response.status_code == 302
    assert response["Location"] == case.back
    assert case.written()
    page = client.get(case.back)
    assert page.status_code == 200
    assert case.says in text(page)


def test_a_facilitator_who_steps_down_with_htmx_gets_their_row_back(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    """The row is made after the change: it shows the role the member now has."""
    signed_in(facilitator).post(
        congregation_url("change_role", congregation, pk=membership_of(member, congregation).pk),
        {"role": "facilitator"},
    )
    own = membership_of(facilitator, congregation)

    response = signed_in(facilitator).post(
        congregation_url("change_role", congregation, pk=own.pk),
        {"role": "member"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert f"{facilitator.display_name} is now a member." in text(response)
    with tenant(congregation):
        assert Membership.objects.get(pk=own.pk).role == Role.MEMBER
