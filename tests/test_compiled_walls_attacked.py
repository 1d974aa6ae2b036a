"""The compiled membership and seat queries (congregations.selectors.CURRENT_MEMBERSHIP,
crews.selectors.SEAT), asked in turn for two congregations and three Selves in one
process, never answer for the wrong one; and odd ids on the pages they guard are 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from congregations.models import Congregation, Membership, Role, Self
from congregations.selectors import current_membership
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew
from crews.selectors import crew_and_seat
from crews.services import form_crew, leave_crew
from microsolidarity.converters import LARGEST_ID
from tests.builders import congregation_url, signed_in

from .factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def crew_of_three(congregation: Congregation, first: Self) -> Crew:
    others = [MembershipFactory.create(congregation=congregation).member for _ in range(2)]
    return form_crew(
        congregation=congregation,
        name=f"Crew of {congregation.name}",
        members=[first, *others],
        now=timezone.now() - timedelta(days=100),
    )


@pytest.fixture
def two() -> tuple[Congregation, Congregation, Self, Self, Self]:
    """Congregations A and B; ana in A only, bo in B only, cy in both."""
    a, b = CongregationFactory.create(name="Aroha"), CongregationFactory.create(name="Bravo")
    ana = MembershipFactory.create(congregation=a).member
    bo = MembershipFactory.create(congregation=b).member
    cy = MembershipFactory.create(congregation=a).member
    MembershipFactory.create(congregation=b, member=cy)
    return a, b, ana, bo, cy


def test_memberships_asked_alternately_never_cross(two: tuple) -> None:
    a, b, ana, bo, cy = two
    for _ in range(3):
        for congregation, self_, expected in [
            (a, ana, a),
            (b, bo, b),
            (a, bo, None),
            (b, ana, None),
            (a, cy, a),
            (b, cy, b),
        ]:
            with tenant(congregation):
                found = current_membership(congregation=congregation, self_=self_)
            if expected is None:
                assert found is None
            else:
                assert found is not None
                assert (found.congregation_id, found.member_id) == (expected.pk, self_.pk)
            # Another congregation's membership asked inside this one's walls: none.
            other = b if congregation == a else a
            with tenant(congregation):
                assert current_membership(congregation=other, self_=cy) is None
            with across_congregations():
                crossing = current_membership(congregation=other, self_=cy)
            assert crossing is not None and crossing.congregation_id == other.pk


def test_a_member_who_left_is_no_member(two: tuple) -> None:
    a, b, ana, bo, cy = two
    with tenant(a):
        Membership.objects.filter(member=cy).update(left_at=timezone.now())
        assert current_membership(congregation=a, self_=cy) is None
    with tenant(b):
        assert current_membership(congregation=b, self_=cy) is not None
    client = signed_in(cy)
    assert client.get(congregation_url("members", a)).status_code == 404
    assert client.get(congregation_url("members", b)).status_code == 200
    assert signed_in(ana).get(congregation_url("members", b)).status_code == 404
    assert signed_in(bo).get(congregation_url("members", a)).status_code == 404


def test_seats_asked_alternately_never_cross(two: tuple) -> None:
    a, b, ana, _bo, cy = two
    crew_a, crew_b = crew_of_three(a, cy), crew_of_three(b, cy)
    for _ in range(2):
        with tenant(a):
            crew, seated = crew_and_seat(congregation=a, pk=crew_a.pk, self_=cy)
            assert crew is not None and crew.pk == crew_a.pk and seated
            assert crew_and_seat(congregation=a, pk=crew_b.pk, self_=cy) == (None, False)
            crew, seated = crew_and_seat(congregation=a, pk=crew_a.pk, self_=ana)
            assert crew is not None and crew.pk == crew_a.pk and not seated
        with tenant(b):
            crew, seated = crew_and_seat(congregation=b, pk=crew_b.pk, self_=cy)
            assert crew is not None and crew.pk == crew_b.pk and seated
            assert crew_and_seat(congregation=b, pk=crew_a.pk, self_=cy) == (None, False)
    leave_crew(crew=crew_a, member=cy, now=timezone.now())
    with tenant(a):
        crew, seated = crew_and_seat(congregation=a, pk=crew_a.pk, self_=cy)
        assert crew is not None and not seated
    client = signed_in(cy)
    assert client.get(congregation_url("crews:crew", a, pk=crew_b.pk)).status_code == 404
    assert client.get(congregation_url("crews:crew", b, pk=crew_b.pk)).status_code == 200


@pytest.mark.parametrize(
    "raw", ["0", "00", str(LARGEST_ID), str(LARGEST_ID + 1), "9" * 40, "0" * 30 + "99999"]
)
@pytest.mark.parametrize(
    "page",
    [
        "crews/{id}/",
        "crews/{id}/meetings/",
        "meetings/{id}/",
        "meetings/{id}/attendance/{id}/",
        "crews/{id}/scores/",
        "crews/{id}/entries.csv",
        "entries/{id}/",
        "ventures/{id}/",
        "members/{id}/role/",
        "invitations/{id}/revoke/",
    ],
)
def test_odd_ids_are_404(two: tuple, raw: str, page: str) -> None:
    a = two[0]
    # A facilitator, who may open every one of these pages: what answers is the id.
    client = signed_in(MembershipFactory.create(congregation=a, role=Role.FACILITATOR).member)
    path = f"/c/{a.slug}/" + page.format(id=raw)
    answers = {client.get(path).status_code, client.post(path, {}).status_code}
    # Each page answers one method with a 404 and may refuse the other (405): never a 500.
    assert 404 in answers and answers <= {404, 405}
