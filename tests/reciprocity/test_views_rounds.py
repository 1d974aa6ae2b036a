"""Recording listening and money rounds from a meeting."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew, Meeting
from crews.services import schedule_meeting
from reciprocity.models import LedgerEntry, ListeningRound, MoneyOffer, MoneyRound
from tests.builders import congregation_url, held_meeting, ledger, money_round, people, signed_in
from tests.pages import text

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def meeting(crew: Crew) -> Meeting:
    return held_meeting(crew)


def money_data(client: Client, meeting: Meeting, focus: Self, offerer: Self) -> dict[str, Any]:
    page = client.get(rounds_url(meeting))
    return {
        "request_key": page.context["money_form"]["request_key"].value(),
        "focus": focus.pk,
        "asked": "on",
        f"offer_{offerer.pk}": ["perspective", "introduction"],
        "mutual_respect": "on",
    }


def points(meeting: Meeting) -> dict[int, int]:
    found: dict[int, int] = {}
    with tenant(meeting):
        for entry in LedgerEntry.objects.filter(meeting=meeting).exclude(rule="attended"):
            found[entry.member_id] = found.get(entry.member_id, 0) + entry.points
    return found


def rounds_url(meeting: Meeting) -> str:
    return congregation_url(
        "reciprocity:meeting_rounds", meeting.congregation, meeting_pk=meeting.pk
    )


def listening_url(meeting: Meeting) -> str:
    return congregation_url(
        "reciprocity:record_listening_round", meeting.congregation, meeting_pk=meeting.pk
    )


def listening_key(client: Client, meeting: Meeting) -> str:
    """The request key of the listening round's form on the rounds page."""
    return str(client.get(rounds_url(meeting)).context["listening_form"]["request_key"].value())


def test_the_page_offers_both_rounds_to_those_present(meeting: Meeting, member: Self) -> None:
    response = signed_in(member).get(rounds_url(meeting))

    assert response.status_code == 200
    content = text(response)
    assert "Level 1: Listening" in content
    assert "Level 2: Money" in content
    for person in people(meeting.crew):
        assert person.display_name in content
    assert response.context["money_form"]["request_key"].value()


def test_a_money_round_is_recorded_with_its_points(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    data = money_data(client, meeting, focus=crew_mate, offerer=member)

    response = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        data,
    )

    assert response.status_code == 302
    assert response["Location"] == rounds_url(meeting)
    with tenant(meeting):
        recorded = MoneyRound.objects.get(meeting=meeting)
        offers = set(MoneyOffer.objects.filter(round=recorded).values_list("offerer_id", "kind"))
    assert (recorded.focus, recorded.asked, recorded.mutual_respect) == (crew_mate, True, True)
    assert offers == {(member.pk, "perspective"), (member.pk, "introduction")}
    assert points(meeting) == {crew_mate.pk: 6, member.pk: 6}
    page = text(client.get(rounds_url(meeting)))
    assert f"The money round for {crew_mate.display_name} is recorded." in page
    assert "introduction, perspective" in page
    assert "+6" in page


def test_with_htmx_the_form_comes_back_fresh_and_the_list_out_of_band(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    data = money_data(client, meeting, focus=crew_mate, offerer=member)

    response = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        data,
        headers={"HX-Request": "true"},
    )

    content = text(response)
    assert response.status_code == 200
    assert "<html" not in content
    assert 'id="money-round"' in content
    assert (
        'id="recorded-rounds" aria-labelledby="recorded-rounds-heading" data-hx-swap-oob="true"'
        in content
    )
    assert f"The money round for {crew_mate.display_name} is recorded." in content
    assert data["request_key"] not in content  # a new round gets a new key
    with tenant(meeting):
        assert MoneyRound.objects.filter(meeting=meeting).count() == 1


def test_a_listening_round_gives_each_participant_a_point_and_is_recorded_once(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    key = listening_key(client, meeting)

    response = client.post(
        listening_url(meeting),
        {"request_key": key, "participants": [member.pk, crew_mate.pk], "everyone_listened": "on"},
    )

    assert response.status_code == 302
    with tenant(meeting):
        assert ListeningRound.objects.get(meeting=meeting).everyone_listened
    assert points(meeting) == {member.pk: 1, crew_mate.pk: 1}
    page = client.get(rounds_url(meeting))
    assert page.context["listening_form"] is None
    assert "listening round is recorded" in text(page)


def test_a_round_posted_without_javascript_goes_back_without_reading_the_page(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    """The redirect's page reads the rounds itself: the answer to the post reads none."""
    client = signed_in(member)
    key = listening_key(client, meeting)

    with CaptureQueriesContext(connection) as ran:
        response = client.post(
            listening_url(meeting), {"request_key": key, "participants": [member.pk, crew_mate.pk]}
        )

    assert response.status_code == 302
    read = " ".join(query["sql"] or "" for query in ran.captured_queries)
    assert "reciprocity_moneyround" not in read  # only the page lists the money rounds
    assert "listening round is recorded" in text(client.get(rounds_url(meeting)))


def test_a_round_where_not_everyone_listened_is_recorded_and_scores_nothing(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    key = listening_key(client, meeting)

    client.post(
        listening_url(meeting), {"request_key": key, "participants": [member.pk, crew_mate.pk]}
    )

    with tenant(meeting):
        assert not ListeningRound.objects.get(meeting=meeting).everyone_listened
    assert points(meeting) == {}


def test_the_same_form_posted_twice_records_one_round(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    data = money_data(client, meeting, focus=crew_mate, offerer=member)
    record = congregation_url(
        "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
    )

    first = client.post(record, data)
    second = client.post(record, data)

    assert first.status_code == second.status_code == 302
    with tenant(meeting):
        assert MoneyRound.objects.filter(meeting=meeting).count() == 1
    assert points(meeting) == {crew_mate.pk: 6, member.pk: 6}


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("elsewhere", "This form belongs to another congregation."),
        ("forged", "This form has expired or was changed."),
    ],
)
def test_a_key_from_elsewhere_is_refused_with_a_message_and_writes_nothing(
    meeting: Meeting, member: Self, crew_mate: Self, key: str, message: str
) -> None:
    client = signed_in(member)
    data = money_data(client, meeting, focus=crew_mate, offerer=member)
    data["request_key"] = (
        new_request_key(CongregationFactory.create(name="Elsewhere"))
        if key == "elsewhere"
        else data["request_key"][:-2] + "xx"
    )
    entries_before = len(ledger())

    response = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        data,
    )

    assert response.status_code == 200
    assert message in text(response)
    with across_congregations():  # nor in the congregation the key came from
        assert not MoneyRound.objects.exists()
    assert len(ledger()) == entries_before


def test_the_focus_person_offering_to_themselves_is_refused_next_to_their_offers(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    client = signed_in(member)
    data = money_data(client, meeting, focus=crew_mate, offerer=crew_mate)

    response = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        data,
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert response.context["money_form"].errors == {
        f"offer_{crew_mate.pk}": ["The focus person does not offer to themselves."]
    }
    assert "<html" not in text(response)
    with tenant(meeting):
        assert not MoneyRound.objects.exists()


def test_a_second_money_round_for_the_same_person_is_refused(
    meeting: Meeting, member: Self, crew_mate: Self
) -> None:
    money_round(meeting, focus=crew_mate, offerer=member)
    client = signed_in(member)

    response = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        money_data(client, meeting, focus=crew_mate, offerer=member),
    )

    assert "has had a money round at this meeting already" in text(response)
    with tenant(meeting):
        assert MoneyRound.objects.filter(meeting=meeting).count() == 1


def test_someone_absent_cannot_be_the_focus(crew: Crew, member: Self, crew_mate: Self) -> None:
    third = next(p for p in people(crew) if p not in (member, crew_mate))
    meeting = held_meeting(crew, present=[member, third])
    client = signed_in(member)
    data = money_data(client, meeting, focus=member, offerer=third)
    data["focus"] = crew_mate.pk

    response = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        data,
    )

    assert response.context["money_form"].errors["focus"] == [
        "Choose someone who was at this meeting."
    ]
    with tenant(meeting):
        assert not MoneyRound.objects.exists()


def test_a_meeting_not_yet_logged_has_no_forms(
    crew: Crew, member: Self, crew_mate: Self, congregation: Congregation
) -> None:
    meeting = schedule_meeting(
        crew=crew, starts_at=timezone.now() + timedelta(days=2), scheduled_by=member
    )
    response = signed_in(member).get(
        congregation_url("reciprocity:meeting_rounds", congregation, meeting_pk=meeting.pk)
    )

    assert "Rounds are recorded once the meeting has been logged." in text(response)
    assert b"Record the money round" not in response.content


@pytest.mark.parametrize("name", ["record_listening_round", "record_money_round"])
def test_recording_takes_a_post_only(meeting: Meeting, member: Self, name: str) -> None:
    response = signed_in(member).get(
        congregation_url(f"reciprocity:{name}", meeting.congregation, meeting_pk=meeting.pk)
    )
    assert response.status_code == 405


def test_the_rounds_page_takes_no_post(meeting: Meeting, member: Self) -> None:
    response = signed_in(member).post(rounds_url(meeting))
    assert response.status_code == 405


@pytest.mark.parametrize("who", ["member_not_in_crew", "facilitator", "outsider"])
def test_nobody_outside_the_crew_sees_or_records_its_rounds(
    meeting: Meeting, crew_mate: Self, facilitator: Self, outsider: Self, who: str
) -> None:
    caller = {
        "member_not_in_crew": MembershipFactory.create(congregation=meeting.congregation).member,
        "facilitator": facilitator,
        "outsider": outsider,
    }[who]
    client = signed_in(caller)

    page = client.get(rounds_url(meeting))
    post = client.post(
        congregation_url(
            "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
        ),
        {"request_key": new_request_key(meeting.congregation), "focus": crew_mate.pk},
    )

    assert page.status_code == post.status_code == 404
    with across_congregations():  # none in the caller's congregation either
        assert not MoneyRound.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(meeting: Meeting) -> None:
    response = Client().get(rounds_url(meeting))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_meeting_page_fragment_lists_rounds_for_the_crew_only(
    meeting: Meeting, member: Self, crew_mate: Self, facilitator: Self
) -> None:
    money_round(meeting, focus=crew_mate, offerer=member)

    def fragment(self_: Self) -> str:
        """The fragment as the meeting's page renders it: inside the congregation's walls."""
        request = RequestFactory().get("/")
        request.user = self_
        request.congregation = meeting.congregation  # type: ignore[attr-defined]
        with tenant(meeting):
            return render_to_string(
                "crews/_meeting_game.html", {"meeting": meeting}, request=request
            )

    seen = html.unescape(fragment(member))
    assert rounds_url(meeting) in seen
    assert f"Money round: {crew_mate.display_name}" in seen
    assert fragment(facilitator).strip() == ""
