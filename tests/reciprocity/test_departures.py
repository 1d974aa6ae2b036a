"""When someone leaves a crew or the congregation, nothing waits on them
(reciprocity.rules.WHEN_SOMEONE_LEAVES): their crew invitations are withdrawn, their
conflicts and ventures go on with those who remain or close without points, their disputes
are withdrawn, nobody is charged for them, they get no more email, and History says so."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from congregations.models import Congregation, Email, MembershipEvent, Notification, Self
from congregations.services import leave_congregation, remove_member, send_due_emails
from congregations.services.notifications import Notice, notify
from congregations.tenancy import tenant
from crews.models import Crew, CrewInvitation
from crews.services import answer_crew_invitation, invite_to_crew, leave_crew, propose_crew
from reciprocity.models import Conflict, ConflictStatus, Dispute, Venture
from reciprocity.rules import Rule
from reciprocity.services import (
    confirm_co_ownership,
    confirm_resolution,
    expire_open_conflicts,
    mind_conflict_deadlines,
    open_conflict,
    record_no_resolution,
    register_venture,
    release_departed,
)
from tests.builders import (
    DAY,
    DEADLINE,
    HOUR,
    disputed_deduction,
    held_meeting,
    join,
    ledger,
    membership_of,
    people,
    recorders,
    refused,
    rows,
    signed_in,
    writes_nothing,
)
from tests.builders import congregation_url as url
from tests.pages import text

pytestmark = pytest.mark.embedded


def removed(self_: Self, congregation: Congregation, *, by: Self, now: datetime) -> None:
    remove_member(membership=membership_of(self_, congregation), removed_by=by, now=now)


def told(self_: Self, about: str, congregation: Congregation) -> None:
    """``self_`` has an unread notification about ``about``, as the lead's services write."""
    with tenant(congregation):
        notify(
            [
                Notice(
                    congregation_id=congregation.pk, recipient=self_, about=about, text="", path="/"
                )
            ]
        )


def unread(self_: Self, about: str, congregation: Congregation) -> bool:
    with tenant(congregation):
        return Notification.objects.filter(recipient=self_, about=about, read_at=None).exists()


def emails_to(self_: Self, congregation: Congregation) -> list[Email]:
    with tenant(congregation):
        return list(Email.objects.filter(recipient=self_))


def fresh(row: Conflict | Venture | CrewInvitation | Dispute) -> None:
    with tenant(row.congregation_id):
        row.refresh_from_db()


def withdrawn_detail(congregation: Congregation) -> list[str]:
    with tenant(congregation):
        events = MembershipEvent.objects.filter(action=MembershipEvent.Action.WITHDRAWN)
        return [event.described() for event in events.select_related("subject")]


# --- conflicts ------------------------------------------------------------------------


@pytest.fixture
def conflict(crew: Crew, member: Self, crew_mate: Self, t0: datetime) -> Conflict:
    """Rent money, between the member and the crew-mate, opened by the member at t0."""
    return open_conflict(
        crew=crew, parties=[member, crew_mate], opened_by=member, title="Rent money", now=t0
    )


@pytest.fixture
def three_way(crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime) -> Conflict:
    return open_conflict(
        crew=crew, parties=[member, crew_mate, third], opened_by=member, title="Van", now=t0
    )


def test_a_party_removed_from_the_congregation_costs_the_one_who_stayed_nothing(
    congregation: Congregation,
    facilitator: Self,
    conflict: Conflict,
    member: Self,
    crew_mate: Self,
    t0: datetime,
) -> None:
    # The deadline's warning is queued for both, a few days before the crew-mate is removed.
    mind_conflict_deadlines(now=t0 + DEADLINE - 3 * DAY)
    told(crew_mate, f"conflict:{conflict.pk}", congregation)
    leaving = t0 + DEADLINE - 2 * DAY
    removed(crew_mate, congregation, by=facilitator, now=leaving)

    fresh(conflict)
    assert (conflict.status, conflict.closed_at, conflict.closed_by) == (
        ConflictStatus.WITHDRAWN,
        leaving,
        None,
    )
    with refused("This conflict is closed"):
        confirm_resolution(conflict=conflict, party=member, now=leaving + HOUR)
    mind_conflict_deadlines(now=t0 + DEADLINE + DAY)
    expire_open_conflicts(now=t0 + DEADLINE + DAY)
    send_due_emails(now=t0 + DEADLINE + DAY)

    assert ledger(conflict=conflict) == []
    assert not unread(crew_mate, f"conflict:{conflict.pk}", congregation)
    # What was queued before they left (the conflict's asking, its warning) is given up;
    # nothing was queued for them since.
    left = "The recipient has left the congregation."
    assert sorted((e.key, e.sent_at, e.last_error) for e in emails_to(crew_mate, congregation)) == [
        (f"conflict-warning:{conflict.pk}:{crew_mate.pk}", None, left),
        (f"notice:conflict:{conflict.pk}:{crew_mate.pk}", None, left),
    ]
    assert withdrawn_detail(congregation) == [
        "Closed a conflict in Tuesday crew without points: fewer than two parties remain"
    ]


def test_past_the_deadline_only_the_parties_who_remain_lose_twenty_and_are_warned(
    congregation: Congregation,
    facilitator: Self,
    three_way: Conflict,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    removed(crew_mate, congregation, by=facilitator, now=t0 + DAY)
    fresh(three_way)
    assert three_way.status == ConflictStatus.OPEN

    mind_conflict_deadlines(now=t0 + DEADLINE - 3 * DAY)
    mind_conflict_deadlines(now=t0 + DEADLINE + DAY)

    assert ledger(conflict=three_way) == rows(
        (member, Rule.EXPIRED, -20), (third, Rule.EXPIRED, -20)
    )
    send_due_emails(now=t0 + DEADLINE + DAY)
    assert [e.sent_at for e in emails_to(crew_mate, congregation)] == [None]  # the asking's
    with tenant(congregation):
        warned = Email.objects.filter(key__startswith="conflict-warning:")
        assert set(warned.values_list("recipient_id", flat=True)) == {member.pk, third.pk}
    assert withdrawn_detail(congregation) == [
        f"{crew_mate} left a conflict in Tuesday crew, which waits for the others"
    ]


def test_when_one_of_three_leaves_the_two_who_remain_confirm_and_earn_ten_each(
    congregation: Congregation,
    three_way: Conflict,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    leave_congregation(membership=membership_of(crew_mate, congregation), now=t0 + DAY)
    confirm_resolution(conflict=three_way, party=member, now=t0 + 2 * DAY)
    confirm_resolution(conflict=three_way, party=third, now=t0 + 3 * DAY)

    fresh(three_way)
    assert three_way.status == ConflictStatus.RESOLVED
    assert ledger(conflict=three_way) == rows(
        (member, Rule.RESOLVED, 10), (third, Rule.RESOLVED, 10)
    )


def test_a_departure_resolves_a_conflict_everyone_who_remains_had_confirmed(
    congregation: Congregation,
    three_way: Conflict,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    confirm_resolution(conflict=three_way, party=member, now=t0 + DAY)
    confirm_resolution(conflict=three_way, party=third, now=t0 + DAY)
    leave_congregation(membership=membership_of(crew_mate, congregation), now=t0 + 2 * DAY)

    fresh(three_way)
    assert (three_way.status, three_way.closed_at) == (ConflictStatus.RESOLVED, t0 + 2 * DAY)
    assert ledger(conflict=three_way) == rows(
        (member, Rule.RESOLVED, 10), (third, Rule.RESOLVED, 10)
    )
    assert recorders(conflict=three_way) == {None}


def test_a_party_who_left_can_neither_confirm_nor_record_no_resolution(
    congregation: Congregation, crew: Crew, three_way: Conflict, crew_mate: Self, t0: datetime
) -> None:
    leave_crew(crew=crew, member=crew_mate, now=t0 + DAY)

    with refused("Only the parties to this conflict can confirm a resolution."):
        confirm_resolution(conflict=three_way, party=crew_mate, now=t0 + 2 * DAY)
    with refused("Only the parties to this conflict can record"):
        record_no_resolution(conflict=three_way, recorded_by=crew_mate, now=t0 + 2 * DAY)


def test_no_resolution_recorded_after_a_departure_costs_only_those_who_remain(
    congregation: Congregation,
    crew: Crew,
    three_way: Conflict,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    leave_crew(crew=crew, member=crew_mate, now=t0 + DAY)
    record_no_resolution(conflict=three_way, recorded_by=member, now=t0 + 2 * DAY)

    assert ledger(conflict=three_way) == rows(
        (member, Rule.UNRESOLVED, -20), (third, Rule.UNRESOLVED, -20)
    )


def test_leaving_a_crew_closes_that_crews_conflict_and_no_other(
    congregation: Congregation,
    crew: Crew,
    other_crew: Crew,
    conflict: Conflict,
    member: Self,
    crew_mate: Self,
    t0: datetime,
) -> None:
    join(other_crew, crew_mate, invited_by=other_crew.proposed_by, at=t0)
    elsewhere = open_conflict(
        crew=other_crew, parties=[crew_mate, other_crew.proposed_by], opened_by=crew_mate, now=t0
    )
    leave_crew(crew=crew, member=crew_mate, now=t0 + DAY)

    fresh(conflict)
    fresh(elsewhere)
    assert (conflict.status, elsewhere.status) == (ConflictStatus.WITHDRAWN, ConflictStatus.OPEN)
    assert ledger(conflict=conflict) == []


def test_a_conflict_past_its_deadline_is_left_to_its_minus_twenty(
    congregation: Congregation,
    facilitator: Self,
    conflict: Conflict,
    member: Self,
    crew_mate: Self,
    t0: datetime,
) -> None:
    removed(crew_mate, congregation, by=facilitator, now=t0 + DEADLINE + HOUR)
    expire_open_conflicts(now=t0 + DEADLINE + DAY)

    assert ledger(conflict=conflict) == rows(
        (member, Rule.EXPIRED, -20), (crew_mate, Rule.EXPIRED, -20)
    )
    assert withdrawn_detail(congregation) == []


# --- ventures -------------------------------------------------------------------------


@pytest.fixture
def oak(
    congregation: Congregation, member: Self, crew_mate: Self, third: Self, t0: datetime
) -> Venture:
    """Oak Co-op, registered by the member and co-owned with the crew-mate and the third."""
    return register_venture(
        congregation=congregation,
        name="Oak Co-op",
        legal_form="coop",
        co_owners=[member, crew_mate, third],
        registered_by=member,
        now=t0,
    )


def test_an_unconfirmed_co_owner_who_leaves_drops_out_and_the_rest_score_once_confirmed(
    congregation: Congregation,
    facilitator: Self,
    oak: Venture,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    told(crew_mate, f"venture:{oak.pk}", congregation)
    confirm_co_ownership(venture=oak, co_owner=member, now=t0 + DAY)
    removed(crew_mate, congregation, by=facilitator, now=t0 + 2 * DAY)
    assert ledger(venture=oak) == []

    confirm_co_ownership(venture=oak, co_owner=third, now=t0 + 3 * DAY)

    assert ledger(venture=oak) == rows((member, Rule.CO_OWNED, 100), (third, Rule.CO_OWNED, 100))
    assert not unread(crew_mate, f"venture:{oak.pk}", congregation)
    assert withdrawn_detail(congregation) == [f"{crew_mate} dropped out of the venture Oak Co-op"]


def test_a_departure_completes_a_venture_the_others_had_all_confirmed(
    congregation: Congregation,
    oak: Venture,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    confirm_co_ownership(venture=oak, co_owner=member, now=t0 + DAY)
    confirm_co_ownership(venture=oak, co_owner=third, now=t0 + DAY)
    leave_congregation(membership=membership_of(crew_mate, congregation), now=t0 + 2 * DAY)

    fresh(oak)
    assert oak.confirmed_at == t0 + 2 * DAY
    assert ledger(venture=oak) == rows((member, Rule.CO_OWNED, 100), (third, Rule.CO_OWNED, 100))
    with refused("Only this venture's co-owners can confirm it."):
        confirm_co_ownership(venture=oak, co_owner=crew_mate, now=t0 + 3 * DAY)


def test_a_co_owner_who_confirmed_and_left_stays_one_of_record(
    congregation: Congregation,
    oak: Venture,
    member: Self,
    crew_mate: Self,
    third: Self,
    t0: datetime,
) -> None:
    confirm_co_ownership(venture=oak, co_owner=crew_mate, now=t0 + DAY)
    leave_congregation(membership=membership_of(crew_mate, congregation), now=t0 + 2 * DAY)
    confirm_co_ownership(venture=oak, co_owner=member, now=t0 + 3 * DAY)
    confirm_co_ownership(venture=oak, co_owner=third, now=t0 + 3 * DAY)

    assert ledger(venture=oak) == rows(
        (member, Rule.CO_OWNED, 100), (crew_mate, Rule.CO_OWNED, 100), (third, Rule.CO_OWNED, 100)
    )
    assert withdrawn_detail(congregation) == []


def test_a_venture_with_fewer_than_two_co_owners_left_is_withdrawn_and_never_scores(
    congregation: Congregation, member: Self, crew_mate: Self, t0: datetime
) -> None:
    venture = register_venture(
        congregation=congregation,
        name="Bread co-op",
        legal_form="coop",
        co_owners=[member, crew_mate],
        registered_by=member,
        now=t0,
    )
    confirm_co_ownership(venture=venture, co_owner=member, now=t0 + DAY)
    leave_congregation(membership=membership_of(crew_mate, congregation), now=t0 + 2 * DAY)

    fresh(venture)
    assert (venture.withdrawn_at, venture.confirmed_at) == (t0 + 2 * DAY, None)
    assert ledger(venture=venture) == []
    with refused("Bread co-op was withdrawn: fewer than two co-owners remained"):
        confirm_co_ownership(venture=venture, co_owner=member, now=t0 + 3 * DAY)
    assert withdrawn_detail(congregation) == [
        f"{crew_mate} dropped out of the venture Bread co-op, which was withdrawn: "
        "fewer than two co-owners remain"
    ]


def test_leaving_a_crew_leaves_the_congregations_ventures_alone(
    crew: Crew, oak: Venture, crew_mate: Self, t0: datetime
) -> None:
    leave_crew(crew=crew, member=crew_mate, now=t0 + DAY)

    with tenant(oak):
        assert oak.co_owners.filter(left_at__isnull=False).count() == 0


# --- crew invitations -----------------------------------------------------------------


def test_crew_invitations_to_and_from_someone_who_left_are_withdrawn(
    congregation: Congregation,
    facilitator: Self,
    member: Self,
    crew_mate: Self,
    neighbour: Self,
    t0: datetime,
) -> None:
    asked = propose_crew(
        congregation=congregation, name="Soup", proposed_by=neighbour, invitees=[member], now=t0
    )
    asking = propose_crew(
        congregation=congregation, name="Bread", proposed_by=member, invitees=[crew_mate], now=t0
    )
    with tenant(congregation):
        to_them = CrewInvitation.objects.get(crew=asked)
        from_them = CrewInvitation.objects.get(crew=asking)
    told(crew_mate, f"crew-invitation:{from_them.pk}", congregation)
    removed(member, congregation, by=facilitator, now=t0 + DAY)

    for invitation in (to_them, from_them):
        fresh(invitation)
        assert (invitation.answered_at, invitation.withdrawn_at, invitation.accepted) == (
            t0 + DAY,
            t0 + DAY,
            None,
        )
    assert not unread(crew_mate, f"crew-invitation:{from_them.pk}", congregation)
    with refused(f"{member} left Bread before you answered, so their invitation was withdrawn."):
        answer_crew_invitation(
            invitation=from_them, answered_by=crew_mate, accept=True, now=t0 + 2 * DAY
        )
    assert withdrawn_detail(congregation) == ["Withdrew 2 crew invitations"]


def test_leaving_a_crew_withdraws_only_the_invitations_sent_for_it(
    crew: Crew, other_crew: Crew, member: Self, neighbour: Self, t0: datetime
) -> None:
    join(other_crew, member, invited_by=other_crew.proposed_by, at=t0)
    for circle in (crew, other_crew):
        invite_to_crew(crew=circle, invitee=neighbour, invited_by=member, now=t0 + HOUR)
    leave_crew(crew=crew, member=member, now=t0 + DAY)

    with tenant(crew):
        still_open = CrewInvitation.objects.filter(invitee=neighbour, answered_at=None)
        assert list(still_open.values_list("crew_id", flat=True)) == [other_crew.pk]


# --- disputes -------------------------------------------------------------------------


@pytest.fixture
def dispute(crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime) -> Dispute:
    """The member disputes their −5 for a meeting the crew-mate and the third were marked
    present at."""
    return disputed_deduction(crew, member, [crew_mate, third], t0)


def test_a_dispute_whose_disputer_left_is_withdrawn(
    congregation: Congregation, dispute: Dispute, member: Self, t0: datetime
) -> None:
    leave_congregation(membership=membership_of(member, congregation), now=t0 + 5 * DAY)

    fresh(dispute)
    assert dispute.withdrawn_at == t0 + 5 * DAY
    assert withdrawn_detail(congregation) == ["Withdrew 1 dispute of a missed meeting"]


def test_a_dispute_is_withdrawn_once_every_attendee_who_could_confirm_has_left(
    crew: Crew, dispute: Dispute, crew_mate: Self, third: Self, t0: datetime
) -> None:
    leave_crew(crew=crew, member=crew_mate, now=t0 + 5 * DAY)
    fresh(dispute)
    assert dispute.is_pending

    leave_crew(crew=crew, member=third, now=t0 + 6 * DAY)
    fresh(dispute)
    assert dispute.withdrawn_at == t0 + 6 * DAY


# --- once, and in History -------------------------------------------------------------


def test_leaving_twice_is_refused_and_settling_again_writes_nothing(
    congregation: Congregation,
    facilitator: Self,
    crew: Crew,
    three_way: Conflict,
    oak: Venture,
    crew_mate: Self,
    t0: datetime,
) -> None:
    membership = membership_of(crew_mate, congregation)
    remove_member(membership=membership, removed_by=facilitator, now=t0 + DAY)

    with refused("is no longer a member"):
        remove_member(membership=membership, removed_by=facilitator, now=t0 + 2 * DAY)
    with refused("is not in"):
        leave_crew(crew=crew, member=crew_mate, now=t0 + 2 * DAY)
    with writes_nothing():
        assert release_departed(congregation=congregation, member=crew_mate, now=t0 + 2 * DAY) == []


def test_history_says_what_was_withdrawn_and_by_whom(
    congregation: Congregation,
    facilitator: Self,
    conflict: Conflict,
    oak: Venture,
    crew_mate: Self,
    t0: datetime,
) -> None:
    removed(crew_mate, congregation, by=facilitator, now=t0 + DAY)

    page = text(signed_in(facilitator).get(url("history", congregation)))

    row = page[page.index("closed what waited on") - 200 :]
    assert facilitator.display_name in row[:300]
    assert crew_mate.display_name in row
    assert (
        "Closed a conflict in Tuesday crew without points: fewer than two parties remain; "
        f"{crew_mate} dropped out of the venture Oak Co-op" in row
    )


def test_leaving_makes_as_many_queries_however_long_the_history(
    crew: Crew, other_crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    # The crew-mate has a history in the crew: meetings and conflicts resolved long ago.
    for n in range(4):
        held_meeting(crew, now=t0 - (n + 1) * 7 * DAY)
        done = open_conflict(
            crew=crew, parties=[member, crew_mate], opened_by=member, now=t0 - 60 * DAY
        )
        for party in (member, crew_mate):
            confirm_resolution(conflict=done, party=party, now=t0 - 59 * DAY)
    newcomers = people(other_crew)
    for circle, pair in ((crew, [member, crew_mate]), (other_crew, newcomers[:2])):
        open_conflict(crew=circle, parties=pair, opened_by=pair[0], now=t0)

    with CaptureQueriesContext(connection) as long_history:
        leave_crew(crew=crew, member=crew_mate, now=t0 + DAY)
    with CaptureQueriesContext(connection) as none:
        leave_crew(crew=other_crew, member=newcomers[1], now=t0 + DAY)

    assert len(long_history) == len(none)
