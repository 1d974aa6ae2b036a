"""The compiled meeting query (crews.selectors.MEMBERS_MEETING) answers only a current
member of the meeting's crew, in the meeting's own congregation, whichever call came
before it in the process; and every page and action of a meeting is a 404 for anyone
else, a Self of another congregation asking at their own address included."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection  # noqa: F401 (the skipif condition reads it)
from django.test import Client
from django.utils import timezone
from django_scopes import ScopeError

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.tenancy import across_congregations, tenant
from crews.models import Crew, Meeting
from crews.selectors import MEMBERS_MEETING, find_members_meeting
from crews.services import form_crew, leave_crew
from tests.builders import (
    HOUR,
    congregation_url,
    held_meeting,
    next_july,
    scheduled_meeting,
    signed_in,
    succeeded,
    together,
    writes_nothing,
)
from tests.pages import text

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def crew_of(congregation: Congregation, *members: Self) -> Crew:
    others = [MembershipFactory.create(congregation=congregation).member for _ in range(2)]
    return form_crew(
        congregation=congregation,
        name=f"Crew of {congregation.name} {members[0].pk}",
        members=[*members, *others],
        now=timezone.now() - timedelta(days=100),
    )


@dataclass
class Two:
    """Congregations A and B. Cy is in both, and in a crew of each; Ana only in A's crew,
    Bo only in B's; Di is in A and in another crew of A."""

    a: Congregation
    b: Congregation
    ana: Self
    bo: Self
    cy: Self
    di: Self
    meeting_a: Meeting
    meeting_b: Meeting
    meeting_di: Meeting


@pytest.fixture
def two() -> Two:
    a, b = CongregationFactory.create(name="Aroha"), CongregationFactory.create(name="Bravo")
    ana, di = (MembershipFactory.create(congregation=a).member for _ in range(2))
    bo = MembershipFactory.create(congregation=b).member
    cy = MembershipFactory.create(congregation=a).member
    MembershipFactory.create(congregation=b, member=cy)
    crew_a, crew_b, crew_di = crew_of(a, cy, ana), crew_of(b, cy, bo), crew_of(a, di)
    later = timezone.now() + 7 * timedelta(days=1)
    return Two(
        a,
        b,
        ana,
        bo,
        cy,
        di,
        scheduled_meeting(crew_a, later),
        held_meeting(crew_b),
        scheduled_meeting(crew_di, later + HOUR),
    )


def found(congregation: Congregation, meeting_id: int, self_: Self) -> int | None:
    """The id of the meeting find_members_meeting answers, checking what it carries."""
    meeting = find_members_meeting(congregation=congregation, pk=meeting_id, self_=self_)
    if meeting is None:
        return None
    assert meeting.congregation_id == meeting.crew.congregation_id == congregation.pk
    with across_congregations():
        truth = Meeting.objects.select_related("crew", "logged_by").get(pk=meeting.pk)
    assert (meeting.crew_id, meeting.crew.name, meeting.starts_at, meeting.version) == (
        truth.crew_id,
        truth.crew.name,
        truth.starts_at,
        truth.version,
    )
    assert meeting.logged_by == truth.logged_by
    if meeting.logged_by is not None and truth.logged_by is not None:
        assert meeting.logged_by.display_name == truth.logged_by.display_name
    return int(meeting.pk)


def test_meeting_pages_opened_in_turn_name_their_own_crew_and_logger(
    two: Two, prepared: bool
) -> None:
    held_a = held_meeting(two.meeting_a.crew, logged_by=two.ana)
    client = signed_in(two.cy)
    pages = [
        (two.a, held_a, two.meeting_a.crew.name, two.ana.display_name),
        (two.b, two.meeting_b, two.meeting_b.crew.name, None),
        (two.a, two.meeting_a, two.meeting_a.crew.name, None),
    ]
    for _ in range(2):
        for congregation, meeting, crew_name, logger in pages:
            page = text(client.get(congregation_url("crews:meeting", congregation, pk=meeting.pk)))
            assert f"Meeting of {crew_name}" in page
            others = {m.crew.name for _, m, _, _ in pages} - {crew_name}
            assert not any(f"Meeting of {other}" in page for other in others)
            if logger:
                assert logger in page


@pytest.mark.parametrize("walls", ["tenant", "across"])
def test_meetings_asked_in_turn_never_cross_congregations_or_selves(
    two: Two, prepared: bool, walls: str
) -> None:
    t = two
    missing = max(t.meeting_a.pk, t.meeting_b.pk, t.meeting_di.pk) + 1000
    cases = [
        (t.a, t.meeting_a, t.cy, t.meeting_a),
        (t.b, t.meeting_b, t.cy, t.meeting_b),
        (t.a, t.meeting_b, t.cy, None),  # B's meeting asked at A: cy is seated in its crew
        (t.b, t.meeting_a, t.cy, None),
        (t.a, t.meeting_a, t.ana, t.meeting_a),
        (t.a, t.meeting_a, t.bo, None),
        (t.b, t.meeting_b, t.ana, None),
        (t.a, t.meeting_a, t.di, None),  # another crew of the same congregation
        (t.a, t.meeting_di, t.cy, None),
        (t.a, t.meeting_di, t.di, t.meeting_di),
        (t.b, t.meeting_b, t.bo, t.meeting_b),
    ]
    for _ in range(3):
        for congregation, meeting, self_, expected in cases:
            with tenant(congregation) if walls == "tenant" else across_congregations():
                assert found(congregation, meeting.pk, self_) == (
                    expected.pk if expected else None
                ), (congregation.name, meeting.pk, self_.pk)
                assert found(congregation, missing, self_) is None


def test_another_congregation_asked_inside_these_walls_finds_nothing(
    two: Two, prepared: bool
) -> None:
    with tenant(two.a):
        assert found(two.a, two.meeting_a.pk, two.cy) == two.meeting_a.pk
        assert found(two.b, two.meeting_b.pk, two.cy) is None
        assert found(two.b, two.meeting_a.pk, two.cy) is None
    with tenant(two.b):
        assert found(two.a, two.meeting_a.pk, two.cy) is None
        assert found(two.b, two.meeting_b.pk, two.cy) == two.meeting_b.pk


def test_asked_outside_any_walls_it_is_refused_as_any_tenant_query(
    two: Two, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MEMBERS_MEETING, "compiled", {})
    with pytest.raises(ScopeError):  # refused first: nothing is kept that answers later
        find_members_meeting(congregation=two.a, pk=two.meeting_a.pk, self_=two.cy)
    with tenant(two.a):
        assert found(two.a, two.meeting_a.pk, two.cy) == two.meeting_a.pk
    with pytest.raises(ScopeError):  # a statement compiled already is no way round it
        find_members_meeting(congregation=two.a, pk=two.meeting_a.pk, self_=two.cy)


# Threads need committed rows; SQLite's append-only ledger cannot be flushed after, and
# builds each query anew anyway.
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_asked_at_once_by_many_while_first_compiled_each_finds_their_own(
    transactional_db: None, two: Two, prepared: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MEMBERS_MEETING, "compiled", {})
    t = two
    asks = [
        (t.meeting_a, t.cy, t.meeting_a.pk),
        (t.meeting_a, t.ana, t.meeting_a.pk),
        (t.meeting_a, t.di, None),
        (t.meeting_di, t.cy, None),
        (t.meeting_di, t.di, t.meeting_di.pk),
        (t.meeting_b, t.cy, None),  # B's meeting, asked in A
    ] * 2
    calls = [partial(found, t.a, meeting.pk, self_) for meeting, self_, _ in asks]

    answers = succeeded(together(calls, congregation=t.a))

    assert answers == [expected for _, _, expected in asks]


def test_a_self_who_left_the_crew_finds_its_meeting_no_more(two: Two, prepared: bool) -> None:
    with tenant(two.a):
        assert found(two.a, two.meeting_a.pk, two.cy) == two.meeting_a.pk
    leave_crew(crew=two.meeting_a.crew, member=two.cy, now=timezone.now())
    with tenant(two.a):
        assert found(two.a, two.meeting_a.pk, two.cy) is None
        assert found(two.a, two.meeting_a.pk, two.ana) == two.meeting_a.pk
    with tenant(two.b):  # still seated in B's crew
        assert found(two.b, two.meeting_b.pk, two.cy) == two.meeting_b.pk


# --- every page and action of a meeting ------------------------------------------------


@dataclass
class Scene:
    """A crew of congregation A (Kotahi) with an upcoming, a started and a held meeting."""

    congregation: Congregation
    member: Self
    crew_mate: Self
    crew: Crew
    meetings: dict[str, Meeting]


@pytest.fixture
def scene(congregation: Congregation, crew: Crew, member: Self, crew_mate: Self) -> Scene:
    now = timezone.now()
    return Scene(
        congregation,
        member,
        crew_mate,
        crew,
        {
            "upcoming": scheduled_meeting(crew, now + 7 * timedelta(days=1)),
            "started": scheduled_meeting(crew, now - HOUR),
            "held": held_meeting(crew, now=now - 3 * HOUR),
        },
    )


Data = Callable[[Scene, Meeting, Congregation], dict[str, Any]]

# (url name, its id's keyword, GET or POST, the meeting it acts on, what a crew member posts)
ACTIONS: list[tuple[str, str, str, str, Data]] = [
    ("crews:meeting", "pk", "get", "upcoming", lambda s, m, c: {}),
    (
        "crews:reschedule",
        "pk",
        "post",
        "upcoming",
        lambda s, m, c: {
            "date": next_july(timezone.now()).isoformat(),
            "time": "20:30",
            "version": m.version,
        },
    ),
    ("crews:cancel", "pk", "post", "upcoming", lambda s, m, c: {"version": m.version}),
    ("crews:tap", "pk", "post", "started", lambda s, m, c: {"present": "1"}),
    ("crews:log", "pk", "post", "started", lambda s, m, c: {"reflections": "A meal."}),
    (
        "crews:notes",
        "pk",
        "post",
        "held",
        lambda s, m, c: {"reflections": "Better words", "envisioning": "", "version": m.version},
    ),
    ("reciprocity:meeting_rounds", "meeting_pk", "get", "held", lambda s, m, c: {}),
    (
        "reciprocity:record_listening_round",
        "meeting_pk",
        "post",
        "held",
        lambda s, m, c: {
            "request_key": new_request_key(c),
            "participants": [s.member.pk, s.crew_mate.pk],
            "everyone_listened": "on",
        },
    ),
    (
        "reciprocity:record_money_round",
        "meeting_pk",
        "post",
        "held",
        lambda s, m, c: {
            "request_key": new_request_key(c),
            "focus": s.crew_mate.pk,
            "asked": "on",
            f"offer_{s.member.pk}": ["perspective"],
            "mutual_respect": "on",
        },
    ),
]


def ask(
    client: Client, scene: Scene, action: tuple[str, str, str, str, Data], at: Congregation, pk: int
) -> int:
    name, key, method, state, data = action
    kwargs: dict[str, object] = {key: pk}
    if name == "crews:tap":
        kwargs["member_id"] = scene.member.pk
    url = congregation_url(name, at, **kwargs)
    body = data(scene, scene.meetings[state], at)
    response = client.get(url) if method == "get" else client.post(url, body)
    return int(response.status_code)


def intruder(scene: Scene, who: str) -> tuple[Self, Congregation, int | None]:
    """Who asks, at which congregation's address, for which meeting id (None: the real)."""
    a = scene.congregation
    if who in ("outsider", "in_both"):
        b = CongregationFactory.create(name="Bravo")
        if who == "in_both":  # seated in the meeting's crew, asking at B's address
            MembershipFactory.create(congregation=b, member=scene.member)
            return scene.member, b, None
        outsider = MembershipFactory.create(congregation=b).member
        crew_of(b, outsider)  # seated in a crew of their own congregation
        return outsider, b, None
    if who == "neighbour":  # in no crew
        return MembershipFactory.create(congregation=a).member, a, None
    if who == "other_crew":
        other = MembershipFactory.create(congregation=a).member
        crew_of(a, other)
        return other, a, None
    if who == "left":
        leave_crew(crew=scene.crew, member=scene.crew_mate, now=timezone.now())
        return scene.crew_mate, a, None
    assert who == "no_such_meeting"
    with across_congregations():
        missing = Meeting.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000
    return scene.member, a, missing


@pytest.mark.parametrize(
    "who", ["outsider", "in_both", "neighbour", "other_crew", "left", "no_such_meeting"]
)
@pytest.mark.parametrize("action", ACTIONS, ids=[a[0] for a in ACTIONS])
def test_every_meeting_page_and_action_is_404_for_anyone_but_its_crew(
    scene: Scene, action: tuple[str, str, str, str, Data], who: str
) -> None:
    self_, at, pk = intruder(scene, who)
    meeting = scene.meetings[action[3]]
    client = signed_in(self_)

    with writes_nothing():
        status = ask(client, scene, action, at, pk or meeting.pk)

    assert status == 404
    # The same request from a current member of the crew, at the crew's address: no 404.
    assert ask(signed_in(scene.member), scene, action, scene.congregation, meeting.pk) in (
        200,
        302,
    )
