"""Levels 1 and 2: listening rounds and money rounds at a meeting that has been held."""

from __future__ import annotations

from datetime import datetime

import pytest

from congregations.models import Self
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from reciprocity.models import ListeningRound, MoneyOffer, MoneyRound, OfferKind
from reciprocity.rules import Level, Rule
from reciprocity.services import record_listening_round, record_money_round
from tests.builders import (
    DAY,
    held_meeting,
    ids,
    ledger,
    levels,
    people,
    refused,
    rows,
    scheduled_meeting,
)

pytestmark = pytest.mark.embedded


def record_round(
    kind: str, meeting: Meeting, *, recorded_by: Self, selves: list[Self]
) -> ListeningRound | MoneyRound:
    """A round of ``kind`` that would score: everyone listened, or the first person is the
    focus and asks while the others offer."""
    if kind == "listening":
        return record_listening_round(
            meeting=meeting, participants=selves, everyone_listened=True, recorded_by=recorded_by
        )
    focus, *offerers = selves
    return record_money_round(
        meeting=meeting,
        focus=focus,
        asked=True,
        offerers=offerers,
        mutual_respect=True,
        recorded_by=recorded_by,
    )


# --- level 1: listening ------------------------------------------------------------------


def test_everyone_who_listened_to_everyone_earns_one_point_each(
    meeting: Meeting, member: Self, crew_mate: Self, third: Self
) -> None:
    listening = record_listening_round(
        meeting=meeting,
        participants=[member, crew_mate, third],
        everyone_listened=True,
        recorded_by=member,
    )

    assert ledger(listening_round=listening) == rows(
        (member, Rule.LISTENED, 1), (crew_mate, Rule.LISTENED, 1), (third, Rule.LISTENED, 1)
    )
    assert levels(listening_round=listening) == {(Level.LISTENING, meeting.crew_id)}


def test_only_the_participants_of_a_listening_round_earn_its_points(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    listening = record_listening_round(
        meeting=meeting,
        participants=[member, crew_mate],
        everyone_listened=True,
        recorded_by=member,
    )

    assert ledger(listening_round=listening) == rows(
        (member, Rule.LISTENED, 1), (crew_mate, Rule.LISTENED, 1)
    )


def test_a_round_in_which_not_everyone_listened_is_recorded_and_scores_nothing(
    meeting: Meeting, member: Self, crew_mate: Self, third: Self
) -> None:
    listening = record_listening_round(
        meeting=meeting,
        participants=[member, crew_mate, third],
        everyone_listened=False,
        recorded_by=member,
    )

    with tenant(meeting):
        assert ListeningRound.objects.get(meeting=meeting) == listening
        assert ids(p.participant for p in listening.participants.all()) == ids(
            [member, crew_mate, third]
        )
    assert ledger(listening_round=listening) == []


def test_a_meeting_has_one_listening_round(meeting: Meeting, member: Self, crew_mate: Self) -> None:
    record_listening_round(
        meeting=meeting,
        participants=[member, crew_mate],
        everyone_listened=False,
        recorded_by=member,
    )

    with refused("This meeting has a listening round already."):
        record_listening_round(
            meeting=meeting,
            participants=[member, crew_mate],
            everyone_listened=True,
            recorded_by=member,
        )


def test_a_listening_round_needs_two_people(meeting: Meeting, member: Self) -> None:
    with refused("A listening round needs at least two people."):
        record_listening_round(
            meeting=meeting,
            participants=[member, member],
            everyone_listened=True,
            recorded_by=member,
        )


@pytest.mark.parametrize("kind", ["listening", "money"])
def test_rounds_wait_until_the_meeting_has_been_logged(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime, kind: str
) -> None:
    meeting = scheduled_meeting(crew, t0 - DAY)

    with refused("Rounds are recorded for a meeting once it has been logged."):
        record_round(kind, meeting, recorded_by=member, selves=[member, crew_mate])


@pytest.mark.parametrize("kind", ["listening", "money"])
@pytest.mark.parametrize("recorder", ["neighbour", "other_crew", "outsider"])
def test_only_a_member_of_the_crew_records_its_rounds(
    meeting: Meeting,
    member: Self,
    crew_mate: Self,
    kind: str,
    recorder: str,
    request: pytest.FixtureRequest,
) -> None:
    fixture = request.getfixturevalue(recorder)
    someone = people(fixture)[0] if isinstance(fixture, Crew) else fixture

    with refused("Only members of Tuesday crew can record its rounds."):
        record_round(kind, meeting, recorded_by=someone, selves=[member, crew_mate])


@pytest.mark.parametrize("kind", ["listening", "money"])
def test_points_for_someone_who_was_not_at_the_meeting_are_refused(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime, kind: str
) -> None:
    meeting = held_meeting(crew, [member, crew_mate], t0)

    with refused(f"Not at this meeting: {third}."):
        record_round(kind, meeting, recorded_by=member, selves=[member, crew_mate, third])


@pytest.mark.parametrize("kind", ["listening", "money"])
@pytest.mark.parametrize("stranger", ["neighbour", "outsider"])
def test_points_for_someone_who_is_not_in_the_crew_are_refused(
    meeting: Meeting,
    member: Self,
    kind: str,
    stranger: str,
    request: pytest.FixtureRequest,
) -> None:
    someone = request.getfixturevalue(stranger)

    with refused(f"Not at this meeting: {someone}."):
        record_round(kind, meeting, recorded_by=member, selves=[member, someone])


# --- level 2: money ----------------------------------------------------------------------


def test_the_focus_person_who_asks_earns_five(meeting: Meeting, member: Self) -> None:
    money = record_money_round(
        meeting=meeting,
        focus=member,
        asked=True,
        offerers=[],
        mutual_respect=False,
        recorded_by=member,
    )

    assert ledger(money_round=money) == rows((member, Rule.ASKED, 5))


def test_each_offerer_earns_five_once_however_many_offers_they_made(
    meeting: Meeting, member: Self, crew_mate: Self, third: Self
) -> None:
    money = record_money_round(
        meeting=meeting,
        focus=member,
        asked=False,
        offerers=[crew_mate, third, crew_mate],
        mutual_respect=False,
        recorded_by=member,
        offer_kinds={crew_mate.pk: list(OfferKind.values), third.pk: [OfferKind.INTRODUCTION]},
    )

    with tenant(meeting):
        assert MoneyOffer.objects.filter(round=money, offerer=crew_mate).count() == 4
    assert ledger(money_round=money) == rows((crew_mate, Rule.OFFERED, 5), (third, Rule.OFFERED, 5))


def test_a_round_held_with_mutual_respect_and_an_offer_earns_one_for_focus_and_offerers(
    meeting: Meeting, member: Self, crew_mate: Self, third: Self
) -> None:
    money = record_money_round(
        meeting=meeting,
        focus=member,
        asked=True,
        offerers=[crew_mate, third],
        mutual_respect=True,
        recorded_by=crew_mate,
    )

    # focus: 5 for asking + 1; each offerer: 5 for offering + 1
    assert ledger(money_round=money) == rows(
        (member, Rule.ASKED, 5),
        (member, Rule.MUTUAL_RESPECT, 1),
        (crew_mate, Rule.OFFERED, 5),
        (crew_mate, Rule.MUTUAL_RESPECT, 1),
        (third, Rule.OFFERED, 5),
        (third, Rule.MUTUAL_RESPECT, 1),
    )


def test_a_money_round_with_no_offers_earns_no_respect_points(
    meeting: Meeting, member: Self
) -> None:
    money = record_money_round(
        meeting=meeting,
        focus=member,
        asked=True,
        offerers=[],
        mutual_respect=True,
        recorded_by=member,
    )

    assert ledger(money_round=money) == rows((member, Rule.ASKED, 5))


def test_a_money_round_in_which_nobody_asked_or_offered_is_recorded_and_scores_nothing(
    meeting: Meeting, member: Self
) -> None:
    money = record_money_round(
        meeting=meeting,
        focus=member,
        asked=False,
        offerers=[],
        mutual_respect=True,
        recorded_by=member,
    )

    with tenant(meeting):
        assert MoneyRound.objects.get(meeting=meeting) == money
    assert ledger(money_round=money) == []


def test_money_points_are_level_two_in_the_crew(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    money = record_round("money", meeting, recorded_by=member, selves=[member, crew_mate])

    assert levels(money_round=money) == {(Level.MONEY, meeting.crew_id)}


def test_each_person_present_may_be_the_focus_of_one_money_round_per_meeting(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    record_round("money", meeting, recorded_by=member, selves=[member, crew_mate])
    record_round("money", meeting, recorded_by=member, selves=[crew_mate, member])

    with refused(f"{member} has had a money round at this meeting already."):
        record_round("money", meeting, recorded_by=crew_mate, selves=[member, crew_mate])


def test_the_focus_person_does_not_offer_to_themselves(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    with refused("The focus person does not offer to themselves."):
        record_money_round(
            meeting=meeting,
            focus=member,
            asked=True,
            offerers=[crew_mate, member],
            mutual_respect=True,
            recorded_by=member,
        )


def test_a_focus_person_who_was_not_at_the_meeting_is_refused(
    crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [member, crew_mate], t0)

    with refused(f"Not at this meeting: {third}."):
        record_round("money", meeting, recorded_by=member, selves=[third, member])


def test_an_unknown_kind_of_offer_is_refused(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    with refused("Unknown kind of offer: money."):
        record_money_round(
            meeting=meeting,
            focus=member,
            asked=True,
            offerers=[crew_mate],
            mutual_respect=True,
            recorded_by=member,
            offer_kinds={crew_mate.pk: ["money"]},
        )
