"""Every game URL as every persona, from isolation_cases: what the central matrix will run."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from congregations.models import Congregation, Self
from crews.models import Crew
from reciprocity.urls import urlpatterns

from ..factories import MembershipFactory
from .isolation_cases import CASES, PERSONAS, World
from .world import signed_in

pytestmark = pytest.mark.django_db


def test_every_game_url_has_a_case() -> None:
    assert {f"reciprocity:{p.name}" for p in urlpatterns} == set(CASES)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_persona_gets_the_expected_status(
    congregation: Congregation,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    facilitator: Self,
    outsider: Self,
    name: str,
    persona: str,
) -> None:
    case = CASES[name]
    kwargs = case.kwargs(World(congregation, crew, member, crew_mate))
    path = reverse(name, kwargs={"congregation_slug": congregation.slug, **kwargs})
    client = {
        "anonymous": Client(),
        "outsider": signed_in(outsider),
        "member_not_in_crew": signed_in(MembershipFactory.create(congregation=congregation).member),
        "crew_member": signed_in(member),
        "facilitator": signed_in(facilitator),
    }[persona]

    assert client.get(path).status_code == case.status[persona]
