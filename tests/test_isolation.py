"""The isolation matrix: every URL under /c/<slug>/, as every persona.

The URLs come from the resolver, so a new page cannot escape: a URL without an entry in
REGISTRY fails here until someone says how to reach it and what each persona gets. Every
app's pages are here, in one table. An app that adds pages adds one REGISTRY entry per URL
name (and, if its kwargs need objects the World does not hold yet, a field on World built
in the ``world`` fixture); a facilitator's action says ``facilitators_only``, and a
member's POST to it must get 403. Whatever a caller is refused, a snapshot of every row
shows it changed nothing, an UPDATE included."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NotRequired, TypedDict
from urllib.parse import quote, urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from congregations.models import Ask, Congregation, Invitation, Membership, Self
from congregations.services import invite
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from congregations.unsubscribe import unsubscribe_url
from crews.models import Crew, CrewInvitation, Meeting
from crews.services import form_crew, invite_to_crew, schedule_meeting
from privacy.services.downloads import prepare_archive, request_archive
from reciprocity.models import (
    Conflict,
    Dispute,
    LedgerEntry,
    Venture,
)
from reciprocity.services import apply_missed_meeting_deductions, dispute_deduction
from tests.builders import conflict, held_meeting, membership_of, snapshot, venture

from .factories import MembershipFactory

CONGREGATION_ROUTE = "c/<slug:congregation_slug>/"


@dataclass(frozen=True)
class World:
    """Real objects in the congregation, for URL kwargs. The member and the facilitator are
    not in the crew; the crew-mate is."""

    congregation: Congregation
    facilitator: Self
    member: Self
    crew_mate: Self
    outsider: Self
    membership: Membership  # the member's
    invitation: Invitation  # sent by the member
    crew: Crew
    meeting: Meeting  # the crew's, next week
    crew_invitation: CrewInvitation  # to the crew, for someone new
    held: Meeting  # the crew's, logged, with a ledger entry for the crew-mate
    conflict: Conflict  # between the crew-mate and another crew member
    venture: Venture  # of the crew-mate and another member
    dispute: Dispute  # a crew member's −5 for a meeting the crew-mate was at


@dataclass(frozen=True)
class Page:
    """What a GET answers to a member, to a facilitator and to a crew-mate (by default what
    a member gets), and how to build the URL's kwargs besides the slug. Anonymous callers
    always get sent to sign in; outsiders always get 404. A facilitator's action says so."""

    member: int
    facilitator: int
    kwargs: Callable[[World], dict[str, Any]] = lambda world: {}
    crew_mate: int | None = None
    # A facilitator's action: a member's POST gets 403 and changes nothing.
    facilitators_only: bool = False


def membership_pk(world: World) -> dict[str, Any]:
    return {"pk": world.membership.pk}


def invitation_pk(world: World) -> dict[str, Any]:
    return {"pk": world.invitation.pk}


def crew_pk(world: World) -> dict[str, Any]:
    return {"pk": world.crew.pk}


def meeting_pk(world: World) -> dict[str, Any]:
    return {"pk": world.meeting.pk}


def crew_invitation_pk(world: World) -> dict[str, Any]:
    return {"pk": world.crew_invitation.pk}


def tap(world: World) -> dict[str, Any]:
    return {"pk": world.meeting.pk, "member_id": world.crew_mate.pk}


def held_meeting_pk(world: World) -> dict[str, Any]:
    return {"meeting_pk": world.held.pk}


def crew_pk_of_game(world: World) -> dict[str, Any]:
    return {"crew_pk": world.crew.pk}


def conflict_pk(world: World) -> dict[str, Any]:
    return {"pk": world.conflict.pk}


def venture_pk(world: World) -> dict[str, Any]:
    return {"pk": world.venture.pk}


def dispute_pk(world: World) -> dict[str, Any]:
    return {"pk": world.dispute.pk}


def entry_pk(world: World) -> dict[str, Any]:
    with tenant(world.congregation):
        return {"pk": LedgerEntry.objects.filter(member=world.crew_mate).values("pk")[0]["pk"]}


class Answers(TypedDict):
    """What a GET answers to each persona, for pages that share them."""

    member: int
    facilitator: int
    crew_mate: NotRequired[int]


# Crew pages are for the crew's members; a facilitator sees a crew's name and size only.
CREW_ONLY: Answers = {"member": 404, "facilitator": 404, "crew_mate": 200}
POST_ONLY: Answers = {"member": 405, "facilitator": 405}


REGISTRY: dict[str, Page] = {
    "crews:congregation": Page(member=200, facilitator=200),
    "congregations:members": Page(member=200, facilitator=200),
    "congregations:change_role": Page(
        member=405, facilitator=405, kwargs=membership_pk, facilitators_only=True
    ),
    "congregations:remove_member": Page(
        member=403, facilitator=200, kwargs=membership_pk, facilitators_only=True
    ),
    "congregations:leave": Page(member=200, facilitator=200),
    "congregations:invitations": Page(member=200, facilitator=200),
    "congregations:resend_invitation": Page(member=405, facilitator=405, kwargs=invitation_pk),
    "congregations:revoke_invitation": Page(member=405, facilitator=405, kwargs=invitation_pk),
    "congregations:settings": Page(member=403, facilitator=200, facilitators_only=True),
    "congregations:history": Page(member=403, facilitator=200),
    "crews:people": Page(member=200, facilitator=200),
    "crews:propose": Page(member=200, facilitator=200),
    "crews:crew": Page(member=404, facilitator=200, crew_mate=200, kwargs=crew_pk),
    "crews:history": Page(**CREW_ONLY, kwargs=crew_pk),
    "crews:meeting": Page(**CREW_ONLY, kwargs=meeting_pk),
    "crews:invite": Page(**POST_ONLY, kwargs=crew_pk),
    "crews:leave": Page(**POST_ONLY, kwargs=crew_pk),
    "crews:schedule": Page(**POST_ONLY, kwargs=crew_pk),
    "crews:answer_invitation": Page(**POST_ONLY, kwargs=crew_invitation_pk),
    "crews:reschedule": Page(**POST_ONLY, kwargs=meeting_pk),
    "crews:cancel": Page(**POST_ONLY, kwargs=meeting_pk),
    "crews:tap": Page(**POST_ONLY, kwargs=tap),
    "crews:log": Page(**POST_ONLY, kwargs=meeting_pk),
    "crews:notes": Page(**POST_ONLY, kwargs=meeting_pk),
    # The game: a crew's rounds, scores and entries are its members' only, and a
    # conflict is its parties' only; ventures belong to the whole congregation.
    "reciprocity:meeting_rounds": Page(**CREW_ONLY, kwargs=held_meeting_pk),
    "reciprocity:record_listening_round": Page(**POST_ONLY, kwargs=held_meeting_pk),
    "reciprocity:record_money_round": Page(**POST_ONLY, kwargs=held_meeting_pk),
    "reciprocity:my_conflicts": Page(member=200, facilitator=200),
    "reciprocity:open_conflict": Page(**CREW_ONLY, kwargs=crew_pk_of_game),
    "reciprocity:conflict": Page(**CREW_ONLY, kwargs=conflict_pk),
    "reciprocity:confirm_resolution": Page(**POST_ONLY, kwargs=conflict_pk),
    "reciprocity:record_no_resolution": Page(**POST_ONLY, kwargs=conflict_pk),
    "reciprocity:ventures": Page(member=200, facilitator=200),
    "reciprocity:register_venture": Page(member=200, facilitator=200),
    "reciprocity:venture": Page(member=200, facilitator=200, kwargs=venture_pk),
    "reciprocity:confirm_co_ownership": Page(**POST_ONLY, kwargs=venture_pk),
    "reciprocity:crew_scores": Page(**CREW_ONLY, kwargs=crew_pk_of_game),
    "reciprocity:crew_entries": Page(**CREW_ONLY, kwargs=crew_pk_of_game),
    "reciprocity:crew_entries_csv": Page(**CREW_ONLY, kwargs=crew_pk_of_game),
    "reciprocity:crew_entries_xlsx": Page(**CREW_ONLY, kwargs=crew_pk_of_game),
    # An entry is its member's and its crew's; a facilitator outside the crew sees only a
    # missed-meeting deduction (this one is the crew-mate's points for coming).
    "reciprocity:entry": Page(**CREW_ONLY, kwargs=entry_pk),
    "reciprocity:reverse_entry": Page(**POST_ONLY, kwargs=entry_pk),
    "reciprocity:dispute_deduction": Page(**POST_ONLY, kwargs=entry_pk),
    # A dispute is seen by whoever sees its entry: a facilitator sees a deduction's.
    "reciprocity:dispute": Page(member=404, facilitator=200, crew_mate=200, kwargs=dispute_pk),
    "reciprocity:confirm_dispute": Page(**POST_ONLY, kwargs=dispute_pk),
    "reciprocity:me": Page(member=200, facilitator=200),
    "reciprocity:waiting": Page(member=200, facilitator=200),
    "reciprocity:welcome": Page(member=200, facilitator=200),
    "reciprocity:my_entries": Page(member=200, facilitator=200),
    "reciprocity:my_entries_csv": Page(member=200, facilitator=200),
    "reciprocity:my_entries_xlsx": Page(member=200, facilitator=200),
}


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = ":".join(filter(None, [namespace, pattern.namespace or ""]))
            yield from _walk(pattern.url_patterns, route, inner)
        else:
            name = ":".join(filter(None, [namespace, pattern.name or ""]))
            # An unnamed pattern cannot be reversed or registered; its route names it here.
            yield route, name if pattern.name else f"<unnamed {route}>"


def congregation_urls() -> dict[str, str]:
    """{URL name: route} for every pattern under /c/<slug>/."""
    return {
        name: route
        for route, name in _walk(get_resolver().url_patterns)
        if route.startswith(CONGREGATION_ROUTE)
    }


URLS = congregation_urls()
FACILITATOR_ACTIONS = sorted(name for name, page in REGISTRY.items() if page.facilitators_only)


def test_the_walk_finds_the_congregation_pages() -> None:
    assert {"crews:congregation", "congregations:members", "congregations:settings"} <= set(URLS)


def test_the_facilitators_actions_are_marked() -> None:
    assert {"congregations:change_role", "congregations:settings"} <= set(FACILITATOR_ACTIONS)


def test_every_congregation_url_is_in_the_registry() -> None:
    missing = sorted(f"{name} ({route})" for name, route in URLS.items() if name not in REGISTRY)
    assert not missing, (
        f"These URLs under /{CONGREGATION_ROUTE} are not in tests/test_isolation.py REGISTRY: "
        f"{', '.join(missing)}. Add one Page entry each: its kwargs and what a member and a "
        "facilitator get."
    )


def test_the_registry_names_only_urls_that_exist() -> None:
    assert not set(REGISTRY) - set(URLS), "REGISTRY names URLs the resolver does not know"


@pytest.fixture
def world(
    congregation: Congregation, facilitator: Self, member: Self, crew_mate: Self, outsider: Self
) -> World:
    invitation, _ = invite(
        congregation=congregation, email="new@example.net", invited_by=member, send_email=False
    )
    others = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
    crew = form_crew(
        congregation=congregation,
        name="Crew",
        members=[crew_mate, *others[:2]],
        now=timezone.now() - timedelta(days=30),
    )
    meeting = schedule_meeting(
        crew=crew, starts_at=timezone.now() + timedelta(days=7), scheduled_by=crew_mate
    )
    held = held_meeting(crew)
    missed = held_meeting(crew, [crew_mate, others[0]], timezone.now() - timedelta(days=3))
    apply_missed_meeting_deductions(congregation=congregation)
    with tenant(congregation):
        deduction = LedgerEntry.objects.get(meeting=missed, member=others[1])
    return World(
        congregation=congregation,
        facilitator=facilitator,
        member=member,
        crew_mate=crew_mate,
        outsider=outsider,
        membership=membership_of(member, congregation),
        invitation=invitation,
        crew=crew,
        meeting=meeting,
        crew_invitation=invite_to_crew(crew=crew, invitee=others[2], invited_by=crew_mate),
        held=held,
        conflict=conflict(crew, crew_mate, others[0]),
        venture=venture(congregation, crew_mate, others[2]),
        dispute=dispute_deduction(entry=deduction, disputed_by=others[1]),
    )


def url_of(name: str, world: World, slug: str | None = None) -> str:
    if name not in REGISTRY:
        pytest.fail(
            f"{name} ({URLS[name]}) has no entry in tests/test_isolation.py REGISTRY: "
            "say how to build its kwargs and what a member and a facilitator get."
        )
    kwargs = {"congregation_slug": slug or world.congregation.slug}
    return reverse(name, kwargs=kwargs | REGISTRY[name].kwargs(world))


@pytest.mark.parametrize("name", sorted(URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_callers_are_sent_to_sign_in(
    client: Client, world: World, name: str, method: str
) -> None:
    url = url_of(name, world)
    before = snapshot()

    response = getattr(client, method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('account_login')}?next={quote(url)}"
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(URLS))
@pytest.mark.parametrize("method", ["get", "post"])
def test_outsiders_get_the_same_404_as_for_no_congregation_at_all(
    client: Client, world: World, name: str, method: str
) -> None:
    client.force_login(world.outsider)
    before = snapshot()

    response = getattr(client, method)(url_of(name, world))
    nowhere = getattr(client, method)(url_of(name, world, slug="no-such-congregation"))

    assert response.status_code == nowhere.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("name", sorted(URLS))
@pytest.mark.parametrize("persona", ["member", "facilitator", "crew_mate"])
def test_members_and_facilitators_get_what_their_role_allows(
    client: Client, world: World, name: str, persona: str
) -> None:
    client.force_login(getattr(world, persona))
    before = snapshot()

    response = client.get(url_of(name, world))

    page = REGISTRY[name]
    expected = (
        page.member if persona == "crew_mate" and page.crew_mate is None else getattr(page, persona)
    )
    assert response.status_code == expected, f"GET {name} as a {persona}"
    assert snapshot() == before


@pytest.mark.parametrize("name", FACILITATOR_ACTIONS)
def test_a_member_posting_a_facilitators_action_gets_403_and_changes_nothing(
    client: Client, world: World, name: str
) -> None:
    client.force_login(world.member)
    before = snapshot()

    response = client.post(url_of(name, world))

    assert response.status_code == 403, f"POST {name} as a member"
    assert snapshot() == before


# --- pages outside /c/<slug>/ ---------------------------------------------------------


def test_the_privacy_page_is_public_and_linked_from_every_page_s_footer(
    client: Client, world: World
) -> None:
    privacy = reverse("privacy:privacy")
    response = client.get(privacy)
    assert response.status_code == 200
    assert "Who sees what" in response.content.decode()
    footer_link = f'<a href="{privacy}">Privacy</a>'
    member = Client()
    member.force_login(world.member)
    for page in [
        client.get(reverse("account_login")),
        member.get(url_of("crews:congregation", world)),
        member.get(reverse("profile")),
    ]:
        footer = page.content.decode().split('<footer class="site">', 1)[1]
        assert footer_link in footer


def test_a_self_s_data_archive_is_theirs_alone(client: Client, world: World) -> None:
    ask = reverse("privacy:ask_for_data")
    before = snapshot()
    anonymous = client.post(ask)
    assert anonymous.status_code == 302
    assert anonymous["Location"] == f"{reverse('account_login')}?next={quote(ask)}"
    assert snapshot() == before

    archive = request_archive(self_=world.member)
    prepare_archive(archive_id=archive.pk)
    token = archive_token(world)
    link = reverse("privacy:archive", args=[token])
    for persona in ["outsider", "crew_mate", "facilitator"]:
        client.force_login(getattr(world, persona))
        before = snapshot()
        assert client.get(link).status_code == 404, persona
        assert client.get(ask).status_code == 405, persona
        assert snapshot() == before
    client.force_login(world.member)
    assert client.get(link).status_code == 200


def archive_token(world: World) -> str:
    """The token of the member's archive, as its email carries it."""
    send_due_emails()
    (message,) = [m for m in mail.outbox if m.to == [world.member.email]]
    return message.body.split("/privacy/my-data/", 1)[1].split("/", 1)[0]


def test_an_unsubscribe_link_is_public_and_its_signed_token_the_only_key(
    client: Client, world: World
) -> None:
    """A mail program posts with no session: the page is outside the walls and names no
    congregation; the token names one Self and one kind, and a changed one opens nothing."""
    link = urlsplit(unsubscribe_url(world.member, Ask.CONFLICT)).path
    signed_in = {persona: Client() for persona in ["outsider", "crew_mate"]}
    for persona, other in signed_in.items():
        other.force_login(getattr(world, persona))
    before = snapshot()
    assert client.get(link).status_code == 200  # anonymous, not sent to sign in
    for other in signed_in.values():
        assert other.post(link.replace("/unsubscribe/", "/unsubscribe/x")).status_code == 404
    assert snapshot() == before
