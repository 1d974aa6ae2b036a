"""The rounds recorded at a meeting (reciprocity.selectors.recorded_rounds, on compiled
queries) as the meeting page and the rounds page show them: the circle and the offers by
name, in order and escaped, each offerer once with what they offered, the points each
earned, in the reader's language, and never a name of another congregation."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew, Meeting
from crews.services import form_crew
from reciprocity.models import MoneyRound
from reciprocity.selectors import RecordedRound, recorded_rounds
from reciprocity.services import record_listening_round, record_money_round
from tests.builders import HOUR, congregation_url, held_meeting, signed_in

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ANA = "<b>Ana</b>"


def crew_named(congregation: Congregation, *names: str) -> tuple[Crew, list[Self]]:
    selves = [
        MembershipFactory.create(congregation=congregation, member__display_name=name).member
        for name in names
    ]
    crew = form_crew(
        congregation=congregation,
        name=f"Crew of {congregation.name}",
        members=selves,
        now=timezone.now() - timedelta(days=100),
    )
    return crew, selves


@pytest.fixture
def cast(congregation: Congregation) -> tuple[Meeting, Self, Self, Self]:
    """A held meeting of a crew of Zoe, <b>Ana</b> and Mia, all three there."""
    crew, (zoe, ana, mia) = crew_named(congregation, "Zoe", ANA, "Mia")
    return held_meeting(crew), zoe, ana, mia


def listening(meeting: Meeting, *people: Self, everyone_listened: bool = True) -> None:
    record_listening_round(
        meeting=meeting,
        participants=people,
        everyone_listened=everyone_listened,
        recorded_by=people[0],
    )


def money(
    meeting: Meeting,
    focus: Self,
    offers: dict[Self, Sequence[str]],
    *,
    asked: bool = True,
    at: timedelta = timedelta(0),
) -> None:
    record_money_round(
        meeting=meeting,
        focus=focus,
        asked=asked,
        offerers=list(offers),
        offer_kinds={offerer.pk: list(kinds) for offerer, kinds in offers.items()},
        mutual_respect=True,
        recorded_by=focus,
        now=timezone.now() + at,
    )


def pages(meeting: Meeting, client: Client) -> dict[str, str]:
    """The recorded-rounds section of the meeting page and of the rounds page: its raw
    HTML, and as a reader reads it (no tags, entities unescaped, spaces collapsed)."""
    found = {}
    for name, url in [
        ("meeting", congregation_url("crews:meeting", meeting.congregation, pk=meeting.pk)),
        (
            "rounds",
            congregation_url(
                "reciprocity:meeting_rounds", meeting.congregation, meeting_pk=meeting.pk
            ),
        ),
    ]:
        response = client.get(url)
        assert response.status_code == 200
        section = re.search(
            r'<section id="recorded-rounds".*?</section>', response.content.decode(), re.S
        )
        assert section, f"the {name} page has no recorded rounds"
        found[name] = section.group(0)
    return found


def read(section: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", section)).split()).replace(" ,", ",")


def both_read(meeting: Meeting, client: Client) -> list[str]:
    return [read(section) for section in pages(meeting, client).values()]


def test_the_circle_is_named_in_order_and_escaped(cast: tuple) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)

    sections = pages(meeting, signed_in(zoe))

    for section in sections.values():
        assert ANA not in section
        assert "&lt;b&gt;Ana&lt;/b&gt;" in section
        seen = read(section)
        assert f"In the circle: {ANA}, Mia, Zoe." in seen
        assert f"Points: {ANA} +1, Mia +1, Zoe +1" in seen
        assert "everyone listened to everyone" in seen


def test_a_listening_round_where_not_everyone_listened_names_its_circle_and_no_points(
    cast: tuple,
) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, mia, zoe, everyone_listened=False)

    for seen in both_read(meeting, signed_in(ana)):
        assert "not everyone listened" in seen
        assert "In the circle: Mia, Zoe." in seen
        assert "Points: none this time." in seen


def test_each_offerer_is_named_once_with_every_kind_and_an_offer_of_no_kind_bare(
    cast: tuple,
) -> None:
    meeting, zoe, ana, mia = cast
    # Zoe joined first (the lowest id): the offerers still come by name.
    money(meeting, mia, {zoe: [], ana: ["perspective", "introduction", "encouragement"]})

    for section in pages(meeting, signed_in(mia)).values():
        assert ANA not in section
        seen = read(section)
        assert "Money round: Mia" in seen
        assert f"Offered: {ANA} (encouragement, introduction, perspective); Zoe." in seen
        assert f"Points: {ANA} +6, Mia +6, Zoe +6" in seen
        assert seen.count("Offered:") == 1


def test_a_money_round_nobody_offered_in_says_so_and_gives_the_asker_five(cast: tuple) -> None:
    meeting, zoe, ana, mia = cast
    money(meeting, mia, {})
    money(meeting, zoe, {}, asked=False, at=HOUR)

    for seen in both_read(meeting, signed_in(ana)):
        first, second = seen.split("Money round: ")[1:]
        assert first.startswith("Mia") and second.startswith("Zoe")
        assert "Nobody offered anything." in first and "Points: Mia +5" in first
        assert "Nobody offered anything." in second and "Points: none this time." in second
        assert "Offered:" not in seen


def test_money_rounds_come_in_the_order_they_were_recorded_after_the_listening_round(
    cast: tuple,
) -> None:
    meeting, zoe, ana, mia = cast
    money(meeting, ana, {mia: ["process"]}, at=2 * HOUR)  # recorded first, said later
    money(meeting, zoe, {ana: []}, at=HOUR)
    listening(meeting, zoe, ana, mia)

    for seen in both_read(meeting, signed_in(mia)):
        assert seen.index("Listening round") < seen.index("Money round: Zoe")
        assert seen.index("Money round: Zoe") < seen.index(f"Money round: {ANA}")
        zoe_round = seen[seen.index("Money round: Zoe") : seen.index(f"Money round: {ANA}")]
        ana_round = seen[seen.index(f"Money round: {ANA}") :]
        assert f"Offered: {ANA}." in zoe_round and f"Points: {ANA} +6, Zoe +6" in zoe_round
        assert "Offered: Mia (process)." in ana_round
        assert f"Points: {ANA} +6, Mia +6" in ana_round


def test_a_meeting_with_no_rounds_says_none_are_recorded(cast: tuple) -> None:
    meeting, zoe, _ana, _mia = cast

    for seen in both_read(meeting, signed_in(zoe)):
        assert "No rounds recorded yet." in seen
        assert "Points:" not in seen


@pytest.mark.parametrize(
    ("language", "offered", "kinds", "circle"),
    [
        ("es", "Ofrecieron:", "ánimo, perspectiva", "En el círculo:"),
        ("de", "Angeboten haben:", "Ermutigung, Perspektive", "Im Kreis:"),
    ],
)
def test_the_kinds_offered_are_in_the_readers_language(
    cast: tuple, language: str, offered: str, kinds: str, circle: str
) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, mia)
    money(meeting, zoe, {ana: ["perspective", "encouragement"], mia: []})
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(mia)

    for seen in both_read(meeting, client):
        assert f"{circle} Mia, Zoe." in seen
        assert f"{offered} {ANA} ({kinds}); Mia." in seen
        assert "perspective" not in seen and "encouragement" not in seen


def test_names_of_another_congregation_never_appear_asked_in_turn(
    cast: tuple, prepared: bool
) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: ["perspective"]})
    elsewhere = CongregationFactory.create(name="Elsewhere")
    crew_b, (xan, yul, wim) = crew_named(elsewhere, "Xan", "Yul", "Wim")
    meeting_b = held_meeting(crew_b)
    listening(meeting_b, xan, yul)
    money(meeting_b, wim, {xan: ["process"]})
    here, there = signed_in(mia), signed_in(wim)

    for _ in range(2):
        for seen in both_read(meeting, here):
            assert f"In the circle: {ANA}, Mia, Zoe." in seen
            assert not {"Xan", "Yul", "Wim", "process"} & set(re.findall(r"\w+", seen))
        for seen in both_read(meeting_b, there):
            assert "In the circle: Xan, Yul." in seen
            assert "Offered: Xan (process)." in seen
            assert "Points: Wim +6, Xan +6" in seen
            assert not {"Ana", "Mia", "Zoe", "perspective"} & set(re.findall(r"\w+", seen))


def test_the_rounds_cost_two_queries_with_none_and_five_with_both(cast: tuple) -> None:
    meeting, zoe, ana, mia = cast
    with tenant(meeting), CaptureQueriesContext(connection) as none:
        assert recorded_rounds(meeting=meeting) == []
    listening(meeting, zoe, ana)
    money(meeting, mia, {zoe: ["process"]})
    with tenant(meeting), CaptureQueriesContext(connection) as some:
        found = recorded_rounds(meeting=meeting)

    assert (len(none), len(some)) == (2, 5)
    assert [(r.circle, r.offers) for r in found] == [
        ([ANA, "Zoe"], []),
        ([], [("Zoe", ["process"])]),
    ]


def test_a_kind_label_or_name_with_markup_is_escaped_in_the_list(cast: tuple) -> None:
    """A translation may put any character in a kind's label: it is text, never markup."""
    meeting, zoe, _ana, mia = cast
    money(meeting, zoe, {mia: ["process"]})
    with tenant(meeting):
        money_round = MoneyRound.objects.get(meeting=meeting)
    request = RequestFactory().get("/")
    request.user = zoe

    shown = render_to_string(
        "reciprocity/_recorded_rounds.html",
        {
            "rounds": [
                RecordedRound(
                    money_round,
                    [("Tom & <i>Jo</i>", 6)],
                    offers=[("Tom & <i>Jo</i>", ["<i>help</i>", "a & b"])],
                )
            ]
        },
        request=request,
    )

    assert "<i>" not in shown
    assert "Tom &amp; &lt;i&gt;Jo&lt;/i&gt; (&lt;i&gt;help&lt;/i&gt;, a &amp; b)." in shown


def test_two_people_of_the_same_name_each_keep_their_own_points(
    congregation: Congregation,
) -> None:
    """Display names are not unique: two Sams who each offered are two people who each
    earned +6, as the circle and the offers already show them, not one Sam with +12."""
    crew, (zoe, sam, other_sam) = crew_named(congregation, "Zoe", "Sam", "Sam")
    meeting = held_meeting(crew)
    listening(meeting, zoe, sam, other_sam)
    money(meeting, zoe, {sam: ["process"], other_sam: []})

    for seen in both_read(meeting, signed_in(zoe)):
        assert "In the circle: Sam, Sam, Zoe." in seen
        assert "Offered: Sam (process); Sam." in seen
        assert "Points: Sam +1, Sam +1, Zoe +1" in seen
        assert "Points: Sam +6, Sam +6, Zoe +6" in seen
