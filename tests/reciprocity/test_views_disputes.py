"""The pages of a dispute: "I was there" on My scores and on the entry, and the dispute's
page where a crew-mate who was there confirms. Without JavaScript; refusals as messages."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from reciprocity.models import Dispute, LedgerEntry
from reciprocity.rules import Rule
from reciprocity.services import confirm_dispute, dispute_deduction, settle_missed_meetings
from tests.builders import GRACE, congregation_url, held_meeting, ledger, signed_in
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

# The queries of the walls and the session around every page (see test_views_scores).
WALLS = 5
I_WAS_THERE = "I was there</button>"
CONFIRM = "Yes, they were there</button>"
WAITING = "Waiting for a crew-mate who was there to confirm"


def missed_meeting(crew: Crew, present: list[Self], absent: Self, at: datetime) -> LedgerEntry:
    """A meeting logged at ``at`` with ``present`` there, settled: ``absent``'s −5."""
    meeting: Meeting = held_meeting(crew, present, at)
    settle_missed_meetings(now=at + GRACE)
    with tenant(crew):
        return LedgerEntry.objects.get(meeting=meeting, member=absent, rule=Rule.MISSED)


@pytest.fixture
def missed(crew: Crew, member: Self, crew_mate: Self, third: Self) -> LedgerEntry:
    """The member's −5, written an hour ago, for a meeting the other two were at."""
    return missed_meeting(crew, [crew_mate, third], member, timezone.now() - GRACE)


@pytest.fixture
def dispute(missed: LedgerEntry, member: Self) -> Dispute:
    return dispute_deduction(entry=missed, disputed_by=member)


def queries(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


def url(name: str, congregation: Congregation, pk: int) -> str:
    return congregation_url(f"reciprocity:{name}", congregation, pk=pk)


def test_the_member_says_they_were_there_and_a_crew_mate_confirms(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, missed: LedgerEntry
) -> None:
    me = congregation_url("reciprocity:me", congregation)
    mine = signed_in(member)
    page = text(mine.get(me))
    assert I_WAS_THERE in page
    assert "A crew-mate who was there confirms, and the 5 points come back." in page

    answer = mine.post(url("dispute_deduction", congregation, missed.pk), {"next": me})

    assert answer.status_code == 302 and answer["Location"] == me
    with tenant(congregation):
        dispute = Dispute.objects.get()
    assert (dispute.entry_id, dispute.disputed_by_id) == (missed.pk, member.pk)
    page = text(mine.get(me))
    assert "Your crew-mates who were there are asked to confirm it." in page
    assert WAITING in page and I_WAS_THERE not in page

    theirs = signed_in(crew_mate)
    page = text(theirs.get(url("dispute", congregation, dispute.pk)))
    assert f"Was {member.display_name} there?" in page
    assert missed.reason in page
    assert CONFIRM in page

    answer = theirs.post(url("confirm_dispute", congregation, dispute.pk))

    assert answer["Location"] == url("dispute", congregation, dispute.pk)
    assert ledger(member=member, rule=Rule.REVERSAL) == [(member.pk, "reversal", 5)]
    page = text(theirs.get(answer["Location"]))
    assert f"Thank you: {member.display_name}’s 5 points are back." in page
    assert CONFIRM not in page
    page = text(mine.get(url("entry", congregation, missed.pk)))
    assert f"{crew_mate.display_name} confirmed you were there: the 5 points are back." in page


def test_the_entry_page_offers_i_was_there_to_its_member_only(
    congregation: Congregation, member: Self, crew_mate: Self, missed: LedgerEntry
) -> None:
    entry = url("entry", congregation, missed.pk)

    assert I_WAS_THERE in text(signed_in(member).get(entry))
    assert I_WAS_THERE not in text(signed_in(crew_mate).get(entry))


def test_the_disputer_confirming_their_own_is_told_why_and_nothing_changes(
    congregation: Congregation, member: Self, dispute: Dispute
) -> None:
    client = signed_in(member)
    page = text(client.get(url("dispute", congregation, dispute.pk)))
    assert CONFIRM not in page and WAITING in page

    answer = client.post(url("confirm_dispute", congregation, dispute.pk), follow=True)

    assert "Nobody confirms their own dispute" in text(answer)
    assert ledger(member=member, rule=Rule.REVERSAL) == []


def test_disputing_someone_elses_deduction_is_refused_in_words(
    congregation: Congregation, crew_mate: Self, missed: LedgerEntry
) -> None:
    answer = signed_in(crew_mate).post(
        url("dispute_deduction", congregation, missed.pk), follow=True
    )

    assert "Only the member who lost these points can say they were there." in text(answer)
    with tenant(congregation):
        assert not Dispute.objects.exists()


@pytest.mark.parametrize("name", ["dispute_deduction", "confirm_dispute"])
def test_the_actions_take_a_post_only(
    congregation: Congregation, member: Self, dispute: Dispute, name: str
) -> None:
    pk = dispute.entry_id if name == "dispute_deduction" else dispute.pk

    assert signed_in(member).get(url(name, congregation, pk)).status_code == 405


def test_the_dispute_page_takes_a_get_only(
    congregation: Congregation, crew_mate: Self, dispute: Dispute
) -> None:
    assert signed_in(crew_mate).post(url("dispute", congregation, dispute.pk)).status_code == 405
    with tenant(congregation):
        assert Dispute.objects.get().confirmed_at is None


def test_a_member_of_another_congregation_sees_nothing(
    congregation: Congregation, outsider: Self, dispute: Dispute
) -> None:
    client = signed_in(outsider)

    assert client.get(url("dispute", congregation, dispute.pk)).status_code == 404
    assert client.post(url("confirm_dispute", congregation, dispute.pk)).status_code == 404
    assert client.post(url("dispute_deduction", congregation, dispute.entry_id)).status_code == 404
    with tenant(congregation):
        assert Dispute.objects.get().confirmed_at is None


def test_a_member_outside_the_crew_does_not_see_the_dispute(
    congregation: Congregation, neighbour: Self, dispute: Dispute
) -> None:
    client = signed_in(neighbour)

    assert client.get(url("dispute", congregation, dispute.pk)).status_code == 404
    assert client.post(url("confirm_dispute", congregation, dispute.pk)).status_code == 404


def test_a_facilitator_sees_the_dispute_but_cannot_confirm_it(
    congregation: Congregation, member: Self, facilitator: Self, dispute: Dispute
) -> None:
    client = signed_in(facilitator)
    page = text(client.get(url("dispute", congregation, dispute.pk)))

    assert "Only a crew-mate marked present at that meeting can confirm it." in page
    assert CONFIRM not in page
    answer = client.post(url("confirm_dispute", congregation, dispute.pk), follow=True)
    assert "Only a crew-mate marked present at that meeting" in text(answer)
    assert ledger(member=member, rule=Rule.REVERSAL) == []


@pytest.mark.parametrize("name", ["me", "entry", "dispute"])
def test_the_pages_run_as_many_queries_with_many_disputes_as_with_one(
    congregation: Congregation,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    third: Self,
    dispute: Dispute,
    django_assert_max_num_queries: Any,
    name: str,
) -> None:
    viewer = signed_in(crew_mate if name == "dispute" else member)
    path = (
        congregation_url("reciprocity:me", congregation)
        if name == "me"
        else url(name, congregation, dispute.pk if name == "dispute" else dispute.entry_id)
    )
    one = queries(viewer, path)
    for day in range(1, 6):
        more = missed_meeting(
            crew, [crew_mate, third], member, dispute.entry.occurred_at - timedelta(days=day)
        )
        if day % 2:
            disputed = dispute_deduction(entry=more, disputed_by=member)
        if day == 3:
            confirm_dispute(dispute=disputed, confirmed_by=third)

    with django_assert_max_num_queries(10 + WALLS):
        assert viewer.get(path).status_code == 200
    assert queries(viewer, path) == one
