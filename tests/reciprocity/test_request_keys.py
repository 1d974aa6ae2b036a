"""A form's request key makes its submission idempotent: the same call with the same key
returns what the first made and writes nothing. A key that is forged, from another
congregation, or already spent on something else is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.db.models import Model

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.selectors import memberships_of
from crews.models import Crew, Meeting
from reciprocity.models import LegalForm
from reciprocity.services import (
    open_conflict,
    record_listening_round,
    record_money_round,
    register_venture,
)
from tests.builders import DAY, held_meeting, ledger, people, refused, snapshot

# A keyed service call: (request key, by=who acts) -> the row it made.
Keyed = Callable[..., Model]


@pytest.fixture
def keyed_calls(
    congregation: Congregation, crew: Crew, meeting: Meeting, member: Self, crew_mate: Self
) -> dict[str, Keyed]:
    """Each service that takes a request key, called the same way every time."""
    return {
        "listening round": lambda key, by=member: record_listening_round(
            meeting=meeting,
            participants=[member, crew_mate],
            everyone_listened=True,
            recorded_by=by,
            request_key=key,
        ),
        "money round": lambda key, by=crew_mate: record_money_round(
            meeting=meeting,
            focus=member,
            asked=True,
            offerers=[crew_mate],
            mutual_respect=True,
            recorded_by=by,
            request_key=key,
        ),
        "conflict": lambda key: open_conflict(
            crew=crew, parties=[member, crew_mate], opened_by=member, request_key=key
        ),
        "venture": lambda key: register_venture(
            congregation=congregation,
            name="Bread co-op",
            legal_form=LegalForm.COOP,
            co_owners=[member, crew_mate],
            registered_by=member,
            request_key=key,
        ),
    }


KINDS = ["listening round", "money round", "conflict", "venture"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_same_call_with_the_same_key_returns_the_same_row_and_writes_nothing(
    congregation: Congregation, keyed_calls: dict[str, Keyed], kind: str
) -> None:
    key = new_request_key(congregation)
    first = keyed_calls[kind](key)
    before = snapshot()

    again = keyed_calls[kind](key)

    assert again == first
    assert snapshot() == before


def test_a_repeated_round_writes_no_new_entries(
    congregation: Congregation, keyed_calls: dict[str, Keyed]
) -> None:
    key = new_request_key(congregation)
    money = keyed_calls["money round"](key)
    entries = len(ledger())

    keyed_calls["money round"](key)

    assert len(ledger()) == entries
    assert len(ledger(money_round=money)) == 4  # asked, offered, and respect for each of two


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "forge",
    [lambda key: "made-up", lambda key: key[:-2] + ("AA" if key[-2:] != "AA" else "BB")],
    ids=["made up", "tampered with"],
)
def test_a_forged_key_is_refused(
    congregation: Congregation,
    keyed_calls: dict[str, Keyed],
    kind: str,
    forge: Callable[[str], str],
) -> None:
    forged = forge(new_request_key(congregation))

    with refused("This form has expired or was changed."):
        keyed_calls[kind](forged)


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_from_another_congregation_is_refused(
    keyed_calls: dict[str, Keyed], outsider: Self, kind: str
) -> None:
    (membership,) = memberships_of(self_=outsider)
    theirs = new_request_key(membership.congregation)

    with refused("This form belongs to another congregation."):
        keyed_calls[kind](theirs)


def test_a_key_spent_on_one_meetings_round_is_refused_at_another_meeting(
    congregation: Congregation,
    crew: Crew,
    meeting: Meeting,
    member: Self,
    crew_mate: Self,
    t0: datetime,
) -> None:
    key = new_request_key(congregation)
    record_listening_round(
        meeting=meeting,
        participants=[member, crew_mate],
        everyone_listened=True,
        recorded_by=member,
        request_key=key,
    )
    next_meeting = held_meeting(crew, [member, crew_mate], t0 + DAY)

    with refused("This form has been used already"):
        record_listening_round(
            meeting=next_meeting,
            participants=[member, crew_mate],
            everyone_listened=True,
            recorded_by=member,
            request_key=key,
        )


def test_a_key_spent_on_one_focus_persons_money_round_is_refused_for_another(
    congregation: Congregation, keyed_calls: dict[str, Keyed], meeting: Meeting, crew_mate: Self
) -> None:
    key = new_request_key(congregation)
    keyed_calls["money round"](key)

    with refused("This form has been used already"):
        record_money_round(
            meeting=meeting,
            focus=crew_mate,
            asked=True,
            offerers=[],
            mutual_respect=False,
            recorded_by=crew_mate,
            request_key=key,
        )


def test_a_key_spent_on_a_conflict_in_one_crew_is_refused_in_another(
    congregation: Congregation, keyed_calls: dict[str, Keyed], other_crew: Crew
) -> None:
    key = new_request_key(congregation)
    keyed_calls["conflict"](key)
    first, second, _ = people(other_crew)

    with refused("This form has been used already"):
        open_conflict(crew=other_crew, parties=[first, second], opened_by=first, request_key=key)


def test_a_key_spent_on_a_venture_is_refused_for_another_venture(
    congregation: Congregation, keyed_calls: dict[str, Keyed], member: Self, third: Self
) -> None:
    key = new_request_key(congregation)
    keyed_calls["venture"](key)

    with refused("This form has been used already"):
        register_venture(
            congregation=congregation,
            name="Tool library",
            legal_form=LegalForm.ASSOCIATION,
            co_owners=[member, third],
            registered_by=member,
            request_key=key,
        )


@pytest.mark.parametrize("kind", ["listening round", "money round"])
def test_replaying_a_key_does_not_let_someone_outside_the_crew_record_a_round(
    congregation: Congregation,
    keyed_calls: dict[str, Keyed],
    neighbour: Self,
    kind: str,
) -> None:
    key = new_request_key(congregation)
    keyed_calls[kind](key)

    with refused("Only members of Tuesday crew can record its rounds."):
        keyed_calls[kind](key, by=neighbour)
