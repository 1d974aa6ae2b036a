"""Level 5: +100 each co-owner of a venture once every co-owner, the registrant included,
has confirmed; once per venture. These points belong to the congregation, not a crew."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.exceptions import ValidationError

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew
from reciprocity.models import LegalForm, Venture
from reciprocity.rules import Level, Rule
from reciprocity.selectors import crew_scores, member_score
from reciprocity.services import confirm_co_ownership, register_venture
from tests.builders import DAY, ledger, levels, recorders, refused, rows

pytestmark = pytest.mark.embedded


@pytest.fixture
def venture(congregation: Congregation, member: Self, crew_mate: Self, t0: datetime) -> Venture:
    """A co-op the member registered, co-owned with the crew-mate; nobody has confirmed."""
    return register_venture(
        congregation=congregation,
        name="Bread co-op",
        legal_form=LegalForm.COOP,
        co_owners=[member, crew_mate],
        registered_by=member,
        now=t0,
    )


def confirm_all(venture: Venture, *owners: Self, now: datetime) -> None:
    for owner in owners:
        confirm_co_ownership(venture=venture, co_owner=owner, now=now)


def test_a_registered_venture_earns_nothing_before_confirmations(venture: Venture) -> None:
    assert venture.confirmed_at is None
    assert ledger(venture=venture) == []


def test_every_co_owner_confirming_earns_a_hundred_each(
    venture: Venture, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_all(venture, member, crew_mate, now=t0 + DAY)

    with tenant(venture):
        venture.refresh_from_db()
    assert venture.confirmed_at == t0 + DAY
    assert ledger(venture=venture) == rows(
        (member, Rule.CO_OWNED, 100), (crew_mate, Rule.CO_OWNED, 100)
    )


def test_a_venture_with_one_unconfirmed_co_owner_has_no_points(
    congregation: Congregation, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    venture = register_venture(
        congregation=congregation,
        name="Lending circle",
        legal_form=LegalForm.LENDING_CIRCLE,
        co_owners=[member, crew_mate, third],
        registered_by=member,
        now=t0,
    )

    confirm_all(venture, member, third, now=t0)

    assert ledger(venture=venture) == []


def test_the_registrant_confirms_too(venture: Venture, crew_mate: Self, t0: datetime) -> None:
    confirm_all(venture, crew_mate, now=t0)

    assert ledger(venture=venture) == []


def test_co_ownership_points_are_level_five_with_no_crew(
    venture: Venture, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_all(venture, member, crew_mate, now=t0)

    assert levels(venture=venture) == {(Level.CO_OWNERS, None)}


def test_co_ownership_points_are_recorded_by_the_co_owner_who_completed_them(
    venture: Venture, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_all(venture, crew_mate, member, now=t0)

    assert recorders(venture=venture) == {member.pk}


def test_level_five_counts_in_the_congregation_not_in_a_crew(
    congregation: Congregation,
    crew: Crew,
    venture: Venture,
    member: Self,
    crew_mate: Self,
    t0: datetime,
) -> None:
    confirm_all(venture, member, crew_mate, now=t0)

    with tenant(congregation):
        assert member_score(self_=member, congregation=congregation) == 100
        assert crew_scores(crew=crew)[member.pk] == 0


def test_a_venture_earns_its_points_once(
    venture: Venture, member: Self, crew_mate: Self, t0: datetime
) -> None:
    confirm_all(venture, member, crew_mate, now=t0)

    with refused("You have confirmed your share already."):
        confirm_co_ownership(venture=venture, co_owner=crew_mate, now=t0 + DAY)
    assert len(ledger(venture=venture)) == 2


@pytest.mark.parametrize("legal_form", LegalForm.values)
def test_each_legal_form_of_the_proposal_is_accepted(
    congregation: Congregation, member: Self, crew_mate: Self, legal_form: str
) -> None:
    venture = register_venture(
        congregation=congregation,
        name="Shared thing",
        legal_form=legal_form,
        co_owners=[member, crew_mate],
        registered_by=member,
    )

    with tenant(venture):
        assert venture.co_owners.count() == 2


# --- bad input ---------------------------------------------------------------------------


def register(
    congregation: Congregation,
    co_owners: list[Self],
    by: Self,
    *,
    name: str = "Bakery",
    legal_form: str = LegalForm.COMPANY,
) -> Venture:
    return register_venture(
        congregation=congregation,
        name=name,
        legal_form=legal_form,
        co_owners=co_owners,
        registered_by=by,
    )


@pytest.mark.parametrize("twice", [False, True], ids=["alone", "named twice"])
def test_a_venture_with_one_co_owner_is_refused(
    congregation: Congregation, member: Self, twice: bool
) -> None:
    with refused("A venture here is shared by at least two co-owners."):
        register(congregation, [member] * (1 + twice), member)


def test_a_venture_is_registered_by_one_of_its_co_owners(
    congregation: Congregation, member: Self, crew_mate: Self, third: Self
) -> None:
    with refused("Register a venture you are a co-owner of."):
        register(congregation, [member, crew_mate], third)


def test_a_co_owner_from_another_congregation_is_refused(
    congregation: Congregation, member: Self, outsider: Self
) -> None:
    with refused(f"Not a member of {congregation}: {outsider}."):
        register(congregation, [member, outsider], member)


def test_an_unknown_legal_form_is_refused(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    with refused("Choose one of the legal forms listed."):
        register(congregation, [member, crew_mate], member, legal_form="trust")


def test_a_venture_needs_a_name(congregation: Congregation, member: Self, crew_mate: Self) -> None:
    with refused("This field cannot be blank."):
        register(congregation, [member, crew_mate], member, name="  ")


@pytest.mark.parametrize("someone", ["third", "outsider"])
def test_only_a_co_owner_confirms_their_share(
    venture: Venture, t0: datetime, someone: str, request: pytest.FixtureRequest
) -> None:
    not_an_owner = request.getfixturevalue(someone)

    with refused("Only this venture's co-owners can confirm it."):
        confirm_co_ownership(venture=venture, co_owner=not_an_owner, now=t0)


def test_confirming_a_share_twice_is_refused(venture: Venture, member: Self, t0: datetime) -> None:
    confirm_co_ownership(venture=venture, co_owner=member, now=t0)

    with refused("You have confirmed your share already."):
        confirm_co_ownership(venture=venture, co_owner=member, now=t0 + DAY)


def test_registering_the_same_venture_twice_is_refused(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    register_venture(
        congregation=congregation,
        name="Seed library co-op",
        legal_form="coop",
        co_owners=[member, crew_mate],
        registered_by=member,
    )
    with pytest.raises(ValidationError, match="registered already"):
        register_venture(
            congregation=congregation,
            name="seed library co-op ",
            legal_form="coop",
            co_owners=[member, crew_mate],
            registered_by=crew_mate,
        )
    with tenant(congregation):
        assert Venture.objects.count() == 1
