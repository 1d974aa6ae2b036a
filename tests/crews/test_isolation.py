"""Walks isolation_cases.CASES as each persona, so the table stays true."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver, reverse

from congregations.models import Self
from crews.models import Crew

from .isolation_cases import CASES, PERSONAS, make_world


def test_every_crews_url_under_a_congregation_has_a_case() -> None:
    names = {
        f"crews:{name}"
        for name in get_resolver().namespace_dict["crews"][1].reverse_dict
        if isinstance(name, str)
    }
    assert names == set(CASES)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_url_answers_each_persona_as_the_table_says(
    client: Client,
    crew: Crew,
    member: Self,
    not_in_crew: Self,
    outsider: Self,
    facilitator: Self,
    persona: str,
) -> None:
    world = make_world(crew=crew, crew_member=member)
    signed_in = {
        "outsider": outsider,
        "member_not_in_crew": not_in_crew,
        "crew_member": member,
        "facilitator": facilitator,
    }.get(persona)
    if signed_in is not None:
        client.force_login(signed_in)
    got = {
        name: client.get(reverse(name, kwargs=case.kwargs(world))).status_code
        for name, case in CASES.items()
    }
    assert got == {name: case.status[persona] for name, case in CASES.items()}
