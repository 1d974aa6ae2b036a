"""The switcher and the chart's member line, attacked: congregations the Self has left,
other people's, the switcher's cost, and addresses asking for a line with odd ids."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from congregations.models import Congregation, MembershipEvent, Self
from congregations.selectors import current_membership
from congregations.services import SETTINGS_FIELDS, leave_congregation, update_settings
from congregations.tenancy import tenant
from crews.models import Crew
from tests.builders import congregation_url, signed_in
from tests.pages import text

from .factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_the_switcher_leaves_out_a_congregation_the_self_has_left(
    congregation: Congregation, member: Self
) -> None:
    harbour = CongregationFactory.create(name="Harbour")
    MembershipFactory.create(member=member, congregation=harbour)
    with tenant(harbour):
        membership = current_membership(congregation=harbour, self_=member)
        assert membership is not None
        leave_congregation(membership=membership)

    listed = text(signed_in(member).get(reverse("switcher")))

    assert congregation.name in listed
    assert "Harbour" not in listed


def test_the_switcher_costs_the_same_few_queries_however_many_congregations(
    member: Self,
) -> None:
    client = signed_in(member)
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as done:
            assert client.get(reverse("switcher")).status_code == 200
        counts.append(len(done))
        for _ in range(5):
            MembershipFactory.create(member=member, congregation=CongregationFactory.create())

    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("asked", ["²", "١", "-1", "0", "1e3", " 1", "1\x00", "99999999999"])
def test_an_odd_member_id_draws_no_line_and_names_nobody(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self, asked: str
) -> None:
    url = congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)

    response = signed_in(member).get(url, {"member": asked})

    assert response.status_code == 200
    assert 'class="line member"' not in text(response)


def test_saving_the_settings_unchanged_adds_nothing_to_history(
    congregation: Congregation, facilitator: Self
) -> None:
    values = {field: getattr(congregation, field) for field in SETTINGS_FIELDS}
    with tenant(congregation):
        before = MembershipEvent.objects.count()

    update_settings(congregation=congregation, changed_by=facilitator, **values)

    with tenant(congregation):
        assert MembershipEvent.objects.count() == before
