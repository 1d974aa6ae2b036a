"""Ventures: registered by a co-owner, seen by the congregation, confirmed by each
co-owner for themselves."""

from __future__ import annotations

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.services import leave_congregation
from congregations.tenancy import tenant
from reciprocity.models import CoOwner, LedgerEntry, Venture
from tests.builders import congregation_url, membership_of, signed_in, venture
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def co_owner_points(registered: Venture) -> dict[int, int]:
    with tenant(registered):
        return dict(
            LedgerEntry.objects.filter(venture=registered).values_list("member_id", "points")
        )


def test_a_member_registers_a_venture_with_themselves_among_its_co_owners(
    congregation: Congregation, member: Self, facilitator: Self
) -> None:
    client = signed_in(member)
    key = (
        client.get(congregation_url("reciprocity:register_venture", congregation))
        .context["form"]["request_key"]
        .value()
    )

    response = client.post(
        congregation_url("reciprocity:register_venture", congregation),
        {
            "request_key": key,
            "name": "Seed library",
            "legal_form": "coop",
            "co_owners": [facilitator.pk],
        },
    )

    with tenant(congregation):
        registered = Venture.objects.get()
        co_owners = set(CoOwner.objects.values_list("co_owner_id", flat=True))
    assert response.status_code == 302
    assert response["Location"] == congregation_url(
        "reciprocity:venture", congregation, pk=registered.pk
    )
    assert (registered.name, registered.legal_form, registered.registered_by) == (
        "Seed library",
        "coop",
        member,
    )
    assert co_owners == {member.pk, facilitator.pk}
    assert co_owner_points(registered) == {}


def test_a_venture_needs_another_co_owner_and_a_known_legal_form(
    congregation: Congregation, member: Self
) -> None:
    response = signed_in(member).post(
        congregation_url("reciprocity:register_venture", congregation),
        {"request_key": new_request_key(congregation), "name": "Solo", "legal_form": "trust"},
    )

    form = response.context["form"]
    assert response.status_code == 200
    assert form.errors["co_owners"] == ["Choose at least one other co-owner."]
    assert "legal_form" in form.errors
    with tenant(congregation):
        assert not Venture.objects.exists()


def test_co_owners_come_from_this_congregation(
    congregation: Congregation, member: Self, outsider: Self
) -> None:
    response = signed_in(member).post(
        congregation_url("reciprocity:register_venture", congregation),
        {
            "request_key": new_request_key(congregation),
            "name": "Across",
            "legal_form": "company",
            "co_owners": [outsider.pk],
        },
    )

    assert "co_owners" in response.context["form"].errors
    with tenant(congregation):
        assert not Venture.objects.exists()


def test_registering_twice_with_one_form_makes_one_venture(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    data = {
        "request_key": new_request_key(congregation),
        "name": "Pod",
        "legal_form": "livelihood_pod",
        "co_owners": [crew_mate.pk],
    }
    client = signed_in(member)

    client.post(congregation_url("reciprocity:register_venture", congregation), data)
    client.post(congregation_url("reciprocity:register_venture", congregation), data)

    with tenant(congregation):
        assert Venture.objects.count() == 1


def test_every_member_sees_the_ventures_and_their_co_owners(
    congregation: Congregation, member: Self, crew_mate: Self, facilitator: Self
) -> None:
    registered = venture(congregation, member, crew_mate)
    bystander = MembershipFactory.create(congregation=congregation).member

    listing = signed_in(bystander).get(congregation_url("reciprocity:ventures", congregation))
    page = signed_in(facilitator).get(
        congregation_url("reciprocity:venture", congregation, pk=registered.pk)
    )

    assert listing.status_code == page.status_code == 200
    assert "Seed library co-op" in text(listing)
    assert member.display_name in text(page) and crew_mate.display_name in text(page)
    assert "I confirm I share legal ownership" not in text(page)


def test_each_co_owner_confirms_their_own_share_and_then_each_earns_a_hundred(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    registered = venture(congregation, member, crew_mate)
    confirm = congregation_url("reciprocity:confirm_co_ownership", congregation, pk=registered.pk)

    page = text(
        signed_in(member).get(
            congregation_url("reciprocity:venture", congregation, pk=registered.pk)
        )
    )
    assert "I confirm I share legal ownership" in page
    signed_in(member).post(confirm)
    assert co_owner_points(registered) == {}

    response = signed_in(crew_mate).post(confirm, follow=True)

    assert "You confirmed that you share legal ownership." in text(response)
    assert co_owner_points(registered) == {member.pk: 100, crew_mate.pk: 100}
    with tenant(registered):
        assert LedgerEntry.objects.get(member=member, venture=registered).crew is None


def test_with_htmx_a_confirmation_swaps_the_co_owners(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    registered = venture(congregation, member, crew_mate)

    response = signed_in(member).post(
        congregation_url("reciprocity:confirm_co_ownership", congregation, pk=registered.pk),
        headers={"HX-Request": "true"},
    )

    page = text(response)
    assert "<html" not in page
    assert 'id="co-owners"' in page
    assert "You confirmed that you share legal ownership." in page


def test_someone_who_is_not_a_co_owner_cannot_confirm(
    congregation: Congregation, member: Self, crew_mate: Self, facilitator: Self
) -> None:
    registered = venture(congregation, member, crew_mate)

    response = signed_in(facilitator).post(
        congregation_url("reciprocity:confirm_co_ownership", congregation, pk=registered.pk),
        follow=True,
    )

    assert "Only this venture's co-owners can confirm it." in text(response)
    with tenant(registered):
        assert not CoOwner.objects.filter(confirmed_at__isnull=False).exists()


def test_confirming_takes_a_post_only(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    registered = venture(congregation, member, crew_mate)
    response = signed_in(member).get(
        congregation_url("reciprocity:confirm_co_ownership", congregation, pk=registered.pk)
    )
    assert response.status_code == 405


def test_outsiders_see_no_venture(
    congregation: Congregation, member: Self, crew_mate: Self, outsider: Self
) -> None:
    registered = venture(congregation, member, crew_mate)
    client = signed_in(outsider)

    assert client.get(congregation_url("reciprocity:ventures", congregation)).status_code == 404
    assert (
        client.get(
            congregation_url("reciprocity:venture", congregation, pk=registered.pk)
        ).status_code
        == 404
    )
    assert (
        client.post(
            congregation_url("reciprocity:confirm_co_ownership", congregation, pk=registered.pk)
        ).status_code
        == 404
    )


def test_anonymous_visitors_are_sent_to_sign_in(congregation: Congregation) -> None:
    response = Client().get(congregation_url("reciprocity:ventures", congregation))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_venture_withdrawn_when_a_co_owner_left_says_so_and_asks_nobody_to_confirm(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    registered = venture(congregation, member, crew_mate)
    leave_congregation(membership=membership_of(crew_mate, congregation))
    client = signed_in(member)

    page = text(client.get(congregation_url("reciprocity:venture", congregation, pk=registered.pk)))

    assert "fewer than two co-owners remained to confirm it, so it does not score" in page
    assert "no longer a co-owner" in page
    assert "I confirm I share legal ownership" not in page
    listed = text(client.get(congregation_url("reciprocity:ventures", congregation)))
    assert "withdrawn: fewer than two co-owners remained" in listed
