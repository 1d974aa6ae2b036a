"""Conflicts: opened from a crew, seen and closed by their parties only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew
from crews.services import leave_crew
from reciprocity.models import Conflict, ConflictParty, ConflictStatus, LedgerEntry
from tests.builders import conflict, congregation_url, people, signed_in
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def conflict_points(opened: Conflict) -> dict[int, int]:
    with tenant(opened):
        return dict(LedgerEntry.objects.filter(conflict=opened).values_list("member_id", "points"))


def test_a_member_opens_a_conflict_with_a_crew_mate(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    form = client.get(
        congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk)
    ).context["form"]

    response = client.post(
        congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk),
        {
            "request_key": form["request_key"].value(),
            "title": "The borrowed van",
            "parties": [crew_mate.pk],
        },
    )

    with tenant(congregation):
        opened = Conflict.objects.select_related("crew").get()
        parties = set(ConflictParty.objects.values_list("party_id", flat=True))
    assert response.status_code == 302
    assert response["Location"] == congregation_url(
        "reciprocity:conflict", congregation, pk=opened.pk
    )
    assert (opened.title, opened.opened_by, opened.crew) == ("The borrowed van", member, crew)
    assert parties == {member.pk, crew_mate.pk}


def test_the_form_offers_only_the_other_crew_members(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    form = (
        signed_in(member)
        .get(congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk))
        .context["form"]
    )

    with tenant(congregation):
        choices = set(form.fields["parties"].queryset)
    assert choices == set(people(crew)) - {member}


def test_a_conflict_needs_someone_else(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    response = signed_in(member).post(
        congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk),
        {"request_key": new_request_key(congregation), "title": "Alone", "parties": []},
    )

    assert response.status_code == 200
    assert "Choose at least one other person from your crew." in text(response)
    with tenant(congregation):
        assert not Conflict.objects.exists()


def test_posting_the_form_twice_opens_one_conflict(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    data = {"request_key": new_request_key(congregation), "title": "Van", "parties": [crew_mate.pk]}
    client = signed_in(member)

    client.post(congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk), data)
    client.post(congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk), data)

    with tenant(congregation):
        assert Conflict.objects.count() == 1


@pytest.mark.parametrize("who", ["member_not_in_crew", "facilitator", "outsider"])
def test_only_crew_members_open_conflicts_in_it(
    congregation: Congregation,
    crew: Crew,
    crew_mate: Self,
    facilitator: Self,
    outsider: Self,
    who: str,
) -> None:
    caller = {
        "member_not_in_crew": MembershipFactory.create(congregation=congregation).member,
        "facilitator": facilitator,
        "outsider": outsider,
    }[who]
    client = signed_in(caller)
    new = congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk)

    assert client.get(new).status_code == 404
    assert client.post(new, {"title": "x", "parties": [crew_mate.pk]}).status_code == 404
    with across_congregations():  # none in the caller's congregation either
        assert not Conflict.objects.exists()


def test_the_conflict_page_shows_parties_confirmations_and_deadline(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    opened = conflict(crew, member, crew_mate)

    response = signed_in(crew_mate).get(
        congregation_url("reciprocity:conflict", congregation, pk=opened.pk)
    )

    page = text(response)
    assert response.status_code == 200
    assert "The borrowed van" in page
    assert member.display_name in page and crew_mate.display_name in page
    assert "not confirmed yet" in page
    assert "Resolve it by" in page
    assert "I confirm we found a mutually agreeable resolution" in page


@pytest.mark.parametrize(
    "who", ["crew_mate_not_party", "facilitator", "member_not_in_crew", "outsider"]
)
def test_the_conflict_page_is_404_for_anyone_but_its_parties(
    congregation: Congregation,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    third: Self,
    facilitator: Self,
    outsider: Self,
    who: str,
) -> None:
    opened = conflict(crew, member, crew_mate)
    caller = {
        "crew_mate_not_party": third,
        "facilitator": facilitator,
        "member_not_in_crew": MembershipFactory.create(congregation=congregation).member,
        "outsider": outsider,
    }[who]
    client = signed_in(caller)

    assert (
        client.get(congregation_url("reciprocity:conflict", congregation, pk=opened.pk)).status_code
        == 404
    )
    assert (
        client.post(
            congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk)
        ).status_code
        == 404
    )
    assert (
        client.post(
            congregation_url("reciprocity:record_no_resolution", congregation, pk=opened.pk)
        ).status_code
        == 404
    )
    with tenant(opened):
        assert Conflict.objects.get().is_open


def test_every_party_confirming_earns_ten_each(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    opened = conflict(crew, member, crew_mate)

    first = signed_in(member).post(
        congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk)
    )
    assert first.status_code == 302
    assert conflict_points(opened) == {}
    with tenant(opened):
        assert ConflictParty.objects.get(party=member).confirmed_at is not None
        assert ConflictParty.objects.get(party=crew_mate).confirmed_at is None

    signed_in(crew_mate).post(
        congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk)
    )

    with tenant(opened):
        assert Conflict.objects.get().status == ConflictStatus.RESOLVED
    assert conflict_points(opened) == {member.pk: 10, crew_mate.pk: 10}


def test_with_htmx_a_confirmation_swaps_the_outcome(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    opened = conflict(crew, member, crew_mate)

    response = signed_in(member).post(
        congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk),
        headers={"HX-Request": "true"},
    )

    page = text(response)
    assert response.status_code == 200
    assert "<html" not in page
    assert 'id="conflict-outcome"' in page
    assert "You confirmed that you found a mutually agreeable resolution." in page
    assert "I confirm we found" not in page


def test_confirming_twice_is_refused_with_a_message(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self
) -> None:
    opened = conflict(crew, member, crew_mate, third)
    client = signed_in(member)
    client.post(congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk))

    response = client.post(
        congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk), follow=True
    )

    assert "You have confirmed this resolution already." in text(response)


def test_no_resolution_costs_every_party_twenty(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    opened = conflict(crew, member, crew_mate)

    response = signed_in(crew_mate).post(
        congregation_url("reciprocity:record_no_resolution", congregation, pk=opened.pk),
        follow=True,
    )

    assert "Recorded that no mutually agreeable resolution was found." in text(response)
    with tenant(opened):
        assert Conflict.objects.get().status == ConflictStatus.UNRESOLVED
    assert conflict_points(opened) == {member.pk: -20, crew_mate.pk: -20}


def test_past_its_deadline_a_conflict_can_no_longer_be_resolved(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    opened = conflict(crew, member, crew_mate)
    with tenant(opened):
        Conflict.objects.filter(pk=opened.pk).update(
            deadline_at=opened.opened_at - timedelta(days=1)
        )

    response = signed_in(member).post(
        congregation_url("reciprocity:confirm_resolution", congregation, pk=opened.pk), follow=True
    )

    assert "past its deadline" in text(response)
    assert conflict_points(opened) == {}


@pytest.mark.parametrize("name", ["confirm_resolution", "record_no_resolution"])
def test_closing_takes_a_post_only(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, name: str
) -> None:
    opened = conflict(crew, member, crew_mate)
    assert (
        signed_in(member)
        .get(congregation_url(f"reciprocity:{name}", congregation, pk=opened.pk))
        .status_code
        == 405
    )


def test_my_conflicts_lists_mine_only(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, third: Self
) -> None:
    mine = conflict(crew, member, crew_mate)
    conflict(crew, crew_mate, third)

    response = signed_in(member).get(congregation_url("reciprocity:my_conflicts", congregation))

    page = text(response)
    assert [seat.conflict for seat in response.context["seats"]] == [mine]
    assert congregation_url("reciprocity:conflict", congregation, pk=mine.pk) in page
    assert congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk) in page


def test_anonymous_visitors_are_sent_to_sign_in(congregation: Congregation) -> None:
    response = Client().get(congregation_url("reciprocity:my_conflicts", congregation))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_party_who_left_the_crew_sees_they_are_no_longer_one(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    opened = conflict(crew, *people(crew))
    leave_crew(crew=crew, member=crew_mate)

    response = signed_in(crew_mate).get(
        congregation_url("reciprocity:conflict", congregation, pk=opened.pk)
    )

    page = text(response)
    assert "no longer a party" in page
    assert "I confirm we found a mutually agreeable resolution" not in page
    assert "I confirm" in text(
        signed_in(member).get(congregation_url("reciprocity:conflict", congregation, pk=opened.pk))
    )
