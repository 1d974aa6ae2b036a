"""Identical requests and jobs racing each other against real PostgreSQL: each thread has
its own connection and transaction, released together by a barrier."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from crews.services import cancel_meeting, log_meeting
from reciprocity.models import Dispute, LedgerEntry, LegalForm, ListeningRound, MoneyRound
from reciprocity.rules import Rule
from reciprocity.selectors import member_score
from reciprocity.services import (
    apply_missed_meeting_deductions,
    confirm_co_ownership,
    confirm_dispute,
    confirm_resolution,
    dispute_deduction,
    expire_open_conflicts,
    open_conflict,
    record_listening_round,
    record_money_round,
    register_venture,
    reverse_entry,
)
from tests.builders import (
    DAY,
    DEADLINE,
    GRACE,
    HOUR,
    all_at_once,
    held_meeting,
    ledger,
    people,
    rows,
    scheduled_meeting,
    succeeded,
    together,
)
from tests.reciprocity.test_views_disputes import missed_meeting

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 20


def refusals(results: Sequence[object]) -> list[str]:
    return [e.messages[0] for e in results if isinstance(e, ValidationError)]


def test_twenty_identical_listening_rounds_with_one_key_make_one_round(
    congregation: Congregation, meeting: Meeting, member: Self, crew_mate: Self, third: Self
) -> None:
    key = new_request_key(congregation)

    results = all_at_once(
        REQUESTS,
        lambda: record_listening_round(
            meeting=meeting,
            participants=[member, crew_mate, third],
            everyone_listened=True,
            recorded_by=member,
            request_key=key,
        ),
        congregation=congregation,
    )

    with tenant(meeting):
        listening = ListeningRound.objects.get(meeting=meeting)
    assert results == [listening] * REQUESTS
    assert ledger(listening_round=listening) == rows(
        (member, Rule.LISTENED, 1), (crew_mate, Rule.LISTENED, 1), (third, Rule.LISTENED, 1)
    )


def test_twenty_identical_money_rounds_with_one_key_make_one_round(
    congregation: Congregation, meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    key = new_request_key(congregation)

    results = all_at_once(
        REQUESTS,
        lambda: record_money_round(
            meeting=meeting,
            focus=member,
            asked=True,
            offerers=[crew_mate],
            mutual_respect=False,
            recorded_by=crew_mate,
            request_key=key,
        ),
        congregation=congregation,
    )

    with tenant(meeting):
        money = MoneyRound.objects.get(meeting=meeting)
    assert results == [money] * REQUESTS
    assert ledger(money_round=money) == rows((member, Rule.ASKED, 5), (crew_mate, Rule.OFFERED, 5))


def test_twenty_listening_rounds_without_a_key_make_one_and_refuse_the_rest(
    congregation: Congregation, meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    results = all_at_once(
        REQUESTS,
        lambda: record_listening_round(
            meeting=meeting,
            participants=[member, crew_mate],
            everyone_listened=True,
            recorded_by=member,
        ),
        congregation=congregation,
    )

    assert refusals(results) == ["This meeting has a listening round already."] * (REQUESTS - 1)
    with tenant(congregation):
        assert ListeningRound.objects.filter(meeting=meeting).count() == 1
        assert LedgerEntry.objects.filter(rule=Rule.LISTENED).count() == 2


def test_twenty_people_logging_one_meeting_at_once_log_it_once(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    meeting = scheduled_meeting(crew, t0)

    results = all_at_once(
        REQUESTS,
        lambda: log_meeting(
            meeting=meeting, present=[member, crew_mate], logged_by=member, now=t0 + HOUR
        ),
        congregation=congregation,
    )

    assert refusals(results) == ["This meeting has been logged already."] * (REQUESTS - 1)
    assert ledger(meeting=meeting) == rows(
        (member, Rule.ATTENDED, 1), (crew_mate, Rule.ATTENDED, 1)
    )


def test_two_meetings_of_a_crew_logged_at_once_count_as_first_and_second(
    congregation: Congregation, crew: Crew, member: Self, t0: datetime
) -> None:
    meetings = [scheduled_meeting(crew, t0), scheduled_meeting(crew, t0 + HOUR)]

    succeeded(
        together(
            [
                partial(log_meeting, meeting=m, present=[member], logged_by=member, now=t0 + DAY)
                for m in meetings
            ],
            congregation=congregation,
        )
    )

    with tenant(congregation):
        assert sorted(LedgerEntry.objects.values_list("points", flat=True)) == [1, 3]


def test_both_parties_confirming_at_once_resolve_the_conflict(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    conflict = open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member, now=t0)

    succeeded(
        together(
            [
                partial(confirm_resolution, conflict=conflict, party=party, now=t0 + DAY)
                for party in (member, crew_mate)
            ],
            congregation=congregation,
        )
    )

    assert ledger(conflict=conflict) == rows(
        (member, Rule.RESOLVED, 10), (crew_mate, Rule.RESOLVED, 10)
    )


def test_all_co_owners_confirming_at_once_earn_their_hundred_once(
    congregation: Congregation, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    owners = (member, crew_mate, third)
    venture = register_venture(
        congregation=congregation,
        name="Savings pool",
        legal_form=LegalForm.SAVINGS_POOL,
        co_owners=owners,
        registered_by=member,
        now=t0,
    )

    succeeded(
        together(
            [
                partial(confirm_co_ownership, venture=venture, co_owner=owner, now=t0)
                for owner in owners
            ],
            congregation=congregation,
        )
    )

    assert ledger(venture=venture) == rows(*((o, Rule.CO_OWNED, 100) for o in owners))


def test_a_deduction_disputed_twenty_times_at_once_is_disputed_once_and_confirmed_once(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    meeting = held_meeting(crew, [crew_mate, third], t0)
    apply_missed_meeting_deductions(now=t0 + GRACE)
    with tenant(meeting):
        missed = LedgerEntry.objects.get(meeting=meeting, rule=Rule.MISSED)

    disputes = all_at_once(
        REQUESTS,
        lambda: dispute_deduction(entry=missed, disputed_by=member, now=t0 + GRACE + HOUR),
        congregation=congregation,
    )
    [dispute] = [d for d in disputes if isinstance(d, Dispute)]
    assert refusals(disputes) == ["You have said you were there already."] * (REQUESTS - 1)

    confirmed = together(
        [
            partial(confirm_dispute, dispute=dispute, confirmed_by=witness, now=t0 + GRACE + DAY)
            for witness in (crew_mate, third)
        ],
        congregation=congregation,
    )

    assert len(refusals(confirmed)) == 1
    assert ledger(member=member) == rows((member, Rule.MISSED, -5), (member, Rule.REVERSAL, 5))


def test_two_missed_meeting_jobs_at_once_deduct_each_missed_meeting_once(
    congregation: Congregation, crew: Crew, other_crew: Crew, t0: datetime
) -> None:
    for day in range(5):
        scheduled_meeting(crew, t0 + day * DAY)
        scheduled_meeting(other_crew, t0 + day * DAY)

    written = all_at_once(
        2,
        lambda: apply_missed_meeting_deductions(now=t0 + 5 * DAY + GRACE),
        congregation=congregation,
    )

    # 10 meetings nobody logged, 3 people in each crew
    with tenant(congregation):
        keys = Counter(LedgerEntry.objects.values_list("meeting_id", "member_id"))
    assert sum(succeeded(written)) == len(keys) == 30
    assert set(keys.values()) == {1}


def test_two_conflict_expiry_jobs_at_once_take_twenty_from_each_party_once(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> None:
    for pair in ([member, crew_mate], [crew_mate, third], [member, third]):
        open_conflict(crew=crew, parties=pair, opened_by=pair[0], now=t0)

    written = all_at_once(
        2,
        lambda: expire_open_conflicts(now=t0 + DEADLINE + DAY),
        congregation=congregation,
    )

    assert sum(succeeded(written)) == 6
    assert ledger() == rows(*((p, Rule.EXPIRED, -20) for p in (member, crew_mate, third) * 2))


# --- what a change locks -----------------------------------------------------------------


CHANGES: dict[str, Callable[[Crew, Self, Self, datetime], object]] = {
    "cancelling a meeting": lambda crew, a, b, t0: cancel_meeting(
        meeting=scheduled_meeting(crew, t0 + DAY), cancelled_by=a, now=t0
    ),
    "logging a meeting": lambda crew, a, b, t0: log_meeting(
        meeting=scheduled_meeting(crew, t0), present=[a], logged_by=a, now=t0 + HOUR
    ),
    "opening a conflict": lambda crew, a, b, t0: open_conflict(
        crew=crew, parties=[a, b], opened_by=a, now=t0
    ),
    "registering a venture": lambda crew, a, b, t0: register_venture(
        congregation=crew.congregation,
        name="Bread co-op",
        legal_form=LegalForm.COOP,
        co_owners=[a, b],
        registered_by=a,
        now=t0,
    ),
}


@pytest.fixture
def other_crews_meeting(other_crew: Crew, t0: datetime) -> Meeting:
    return held_meeting(other_crew, people(other_crew), t0)


@pytest.fixture(params=list(CHANGES.values()), ids=list(CHANGES))
def change_in_progress(
    request: pytest.FixtureRequest,
    congregation: Congregation,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    t0: datetime,
    other_crews_meeting: Meeting,
) -> Iterator[None]:
    """One of the crew's changes, made in a transaction that stays open, holding whatever
    locks it took, until the test is done; meanwhile the test gives up on any lock it waits
    for after 2 seconds."""
    made, done = threading.Event(), threading.Event()

    def change() -> None:
        try:
            with tenant(congregation), transaction.atomic():
                request.param(crew, member, crew_mate, t0)
                made.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=change)
    thread.start()
    try:
        assert made.wait(timeout=10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        yield
    finally:
        done.set()
        thread.join()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")


def test_a_change_in_one_crew_does_not_hold_up_a_round_in_another(
    other_crews_meeting: Meeting, change_in_progress: None
) -> None:
    """Every row names its congregation, and PostgreSQL checks those foreign keys when the
    round commits: a change that locked the congregation's row would hold it up."""
    crew = other_crews_meeting.crew

    listening = record_listening_round(
        meeting=other_crews_meeting,
        participants=people(crew),
        everyone_listened=True,
        recorded_by=people(crew)[0],
    )

    assert len(ledger(listening_round=listening)) == 3


def test_two_confirmations_and_a_correction_at_once_give_5_back_once(
    crew: Crew, member: Self, crew_mate: Self, third: Self, facilitator: Self
) -> None:
    missed = missed_meeting(crew, [crew_mate, third], member, timezone.now() - GRACE)
    dispute = dispute_deduction(entry=missed, disputed_by=member)

    results = together(
        [
            partial(confirm_dispute, dispute=dispute, confirmed_by=crew_mate),
            partial(confirm_dispute, dispute=dispute, confirmed_by=third),
            partial(reverse_entry, entry=missed, reversed_by=facilitator, reason="Was there"),
        ],
        congregation=crew.congregation,
    )

    assert sum(isinstance(r, LedgerEntry) for r in results) == 1
    assert all(isinstance(r, LedgerEntry | ValidationError) for r in results), results
    assert ledger(member=member, rule=Rule.REVERSAL) == [(member.pk, "reversal", 5)]
    with tenant(crew):
        assert member_score(self_=member, congregation=crew.congregation) == 0
        dispute.refresh_from_db()
    assert not dispute.is_pending
