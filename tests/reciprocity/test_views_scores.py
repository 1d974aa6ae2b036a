"""The crew scores page, the entries behind every number, one's own page, corrections."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import form_crew, leave_crew
from reciprocity.charts import step_chart
from reciprocity.models import LedgerEntry
from reciprocity.rules import Level
from reciprocity.selectors import Month
from reciprocity.services import confirm_co_ownership
from tests.builders import (
    congregation_url,
    forget_cached,
    held_meeting,
    long_ledger,
    signed_in,
    venture,
)
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db


# What entering a congregation's two walls adds to a request in the tests: the
# congregation's look-up, a SAVEPOINT and its RELEASE, and the setting made and cleared.
WALLS = 5


def queries(client: Client, path: str) -> int:
    """Queries for a page rendered afresh: a cached copy would hide the work."""
    forget_cached()
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


@pytest.mark.embedded
def test_the_scores_page_shows_each_member_by_level_and_the_crews_total(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self
) -> None:
    response = signed_in(member).get(
        congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)
    )

    breakdown = response.context["breakdown"]
    rows = {row.member: row for row in breakdown.rows}
    assert response.status_code == 200
    assert rows[member].by_level == {Level.CONSISTENCY: 1, Level.MONEY: 6}
    assert rows[crew_mate].total == 7
    assert breakdown.total == 7 + 7 + 1
    assert breakdown.by_level == {Level.CONSISTENCY: 3, Level.MONEY: 12}
    page = text(response)
    entries = congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk)
    assert f'href="{entries}?member={member.pk}&level={Level.MONEY}">+6<' in page
    assert f'href="{entries}?level={Level.CONSISTENCY}">+3<' in page
    assert f'href="{entries}">+15<' in page
    for level in ("Listening", "Money", "Consistency", "Conflict"):
        assert level in page


@pytest.mark.embedded
def test_the_chart_is_an_accessible_svg_drawn_on_the_server(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    page = text(
        signed_in(member).get(
            congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)
        )
    )

    assert '<svg viewBox="0 0 640 280" role="img" aria-labelledby="chart-title chart-desc"' in page
    assert '<title id="chart-title">' in page
    assert 'class="line" d="M' in page
    assert "<script" not in page.split("<main", 1)[1]
    month = f"{timezone.localtime(timezone.now(), played.timezone):%Y-%m}"
    assert f"?month={month}" in page


@pytest.mark.embedded
def test_the_chart_draws_a_members_line_beside_the_crews_when_asked(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self, outsider: Self
) -> None:
    client = signed_in(member)
    url = congregation_url("reciprocity:crew_scores", congregation, crew_pk=played.pk)
    page = text(client.get(url))
    assert f'href="?member={crew_mate.pk}#over-time">{crew_mate.display_name}</a>' in page
    assert 'class="line member"' not in page

    shown = text(client.get(f"{url}?member={crew_mate.pk}"))

    assert 'class="line member" d="M' in shown
    assert f"A dashed line shows {crew_mate.display_name}’s points in the crew." in shown
    assert f'<span class="key member" aria-hidden="true"></span> {crew_mate.display_name}' in shown
    for nobody in (str(outsider.pk), "x", "9" * 30):  # never in the crew, or no id at all
        assert 'class="line member"' not in text(client.get(f"{url}?member={nobody}"))


def test_a_members_line_follows_their_own_total_on_the_crews_scale() -> None:
    crew = [
        Month(date(2026, m, 1), earned, total)
        for m, earned, total in ((1, 4, 4), (2, 6, 10), (3, 2, 12))
    ]
    theirs = [Month(date(2026, 2, 1), 5, 5)]  # nothing in January, nothing new in March

    chart = step_chart(crew, theirs)

    assert chart is not None
    zero, five = chart.zero, chart.y_ticks[1].position  # the ticks go 0, +5, +10, +15
    assert chart.y_ticks[1].label == "+5"
    assert re.findall(r"V([\d.]+)", chart.member_path) == [str(zero), str(five), str(five)]


@pytest.mark.embedded
def test_a_crew_with_no_points_yet_says_so(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    response = signed_in(member).get(
        congregation_url("reciprocity:crew_scores", congregation, crew_pk=crew.pk)
    )

    assert not response.context["chart"]
    assert "No points yet" in text(response)
    assert {row.total for row in response.context["breakdown"].rows} == {0}


# Not in the embedded pass (pytest -m embedded): thousands of rows make it slow on any
# database, and the queries it counts are the same on both.
@pytest.mark.parametrize("name", ["crew_scores", "crew_entries"])
def test_a_crew_page_runs_as_many_queries_with_ten_thousand_entries_as_with_ten(
    congregation: Congregation,
    crew: Crew,
    member: Self,
    django_assert_max_num_queries: Any,
    name: str,
) -> None:
    client = signed_in(member)
    path = congregation_url(f"reciprocity:{name}", congregation, crew_pk=crew.pk)
    long_ledger(crew, 10)
    with_ten = queries(client, path)

    long_ledger(crew, 9_990, start=10)

    forget_cached()
    with django_assert_max_num_queries(12 + WALLS):
        response = client.get(path)
    assert queries(client, path) == with_ten
    if name == "crew_scores":
        assert response.context["breakdown"].total == 10_000
        assert len(response.context["history"]) >= 24
    else:
        assert response.context["page"].paginator.count == 10_000


@pytest.mark.embedded
def test_a_number_opens_to_the_entries_behind_it(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self
) -> None:
    response = signed_in(crew_mate).get(
        congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk),
        {"member": member.pk, "level": Level.MONEY},
    )

    shown = list(response.context["page"])
    assert response.status_code == 200
    assert sorted(e.points for e in shown) == [1, 5]
    assert {e.member for e in shown} == {member}
    page = text(response)
    assert f"{member.display_name} · Money" in page
    assert f"Offered {crew_mate.display_name} something" in page
    assert f"recorded by {crew_mate.display_name}" in page


@pytest.mark.embedded
def test_a_months_number_opens_to_that_months_entries(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    with tenant(congregation):
        started = LedgerEntry.objects.filter(crew=played).values_list("occurred_at", flat=True)[0]
    month = started.astimezone(played.timezone).date().replace(day=1)
    entries = congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk)
    client = signed_in(member)

    that_month = client.get(entries, {"month": f"{month:%Y-%m}"})
    month_before = client.get(entries, {"month": f"{month - timedelta(days=1):%Y-%m}"})

    assert that_month.context["page"].paginator.count == 3 + 1 + 1 + 2
    assert f"{month:%B %Y}" in text(that_month)
    assert month_before.context["page"].paginator.count == 0


@pytest.mark.embedded
def test_entries_come_a_page_at_a_time(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    long_ledger(crew, 120)
    client = signed_in(member)
    entries = congregation_url("reciprocity:crew_entries", congregation, crew_pk=crew.pk)

    first = client.get(entries, {"level": Level.LISTENING})
    third = client.get(entries, {"level": Level.LISTENING, "page": 3})

    assert first.context["page"].paginator.count == 30
    assert len(first.context["page"]) == 30
    ledger_all = client.get(entries)
    assert ledger_all.context["page"].paginator.num_pages == 3
    assert len(third.context["page"]) == 30  # past the last page: the last page
    assert "page=2" in text(client.get(entries, {"page": 1}))


@pytest.mark.embedded
def test_an_unknown_filter_value_is_ignored(
    congregation: Congregation, played: Crew, member: Self
) -> None:
    response = signed_in(member).get(
        congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk),
        {"level": "nine", "member": "x"},
    )
    with tenant(congregation):
        assert (
            response.context["page"].paginator.count
            == LedgerEntry.objects.filter(crew=played).count()
        )


@pytest.mark.embedded
def test_a_member_id_from_elsewhere_names_nobody(
    congregation: Congregation, played: Crew, member: Self, outsider: Self
) -> None:
    response = signed_in(member).get(
        congregation_url("reciprocity:crew_entries", congregation, crew_pk=played.pk),
        {"member": outsider.pk},
    )
    assert outsider.display_name not in text(response)
    assert response.context["page"].paginator.count == 0


@pytest.mark.embedded
@pytest.mark.parametrize(
    "name", ["crew_scores", "crew_entries", "crew_entries_csv", "crew_entries_xlsx"]
)
@pytest.mark.parametrize("who", ["member_not_in_crew", "facilitator", "outsider"])
def test_a_crews_scores_are_private_to_the_crew(
    congregation: Congregation, played: Crew, facilitator: Self, outsider: Self, who: str, name: str
) -> None:
    caller = {
        "member_not_in_crew": MembershipFactory.create(congregation=congregation).member,
        "facilitator": facilitator,
        "outsider": outsider,
    }[who]
    response = signed_in(caller).get(
        congregation_url(f"reciprocity:{name}", congregation, crew_pk=played.pk)
    )
    assert response.status_code == 404


@pytest.mark.embedded
@pytest.mark.parametrize("name", ["crew_scores", "crew_entries"])
def test_crew_pages_take_no_post(
    congregation: Congregation, played: Crew, member: Self, name: str
) -> None:
    assert (
        signed_in(member)
        .post(congregation_url(f"reciprocity:{name}", congregation, crew_pk=played.pk))
        .status_code
        == 405
    )


# A member's own page


@pytest.mark.embedded
def test_my_page_shows_my_score_per_crew_and_level_five(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self
) -> None:
    shared = venture(congregation, member, crew_mate)
    confirm_co_ownership(venture=shared, co_owner=member)
    confirm_co_ownership(venture=shared, co_owner=crew_mate)

    response = signed_in(member).get(congregation_url("reciprocity:me", congregation))

    mine = response.context["mine"]
    assert response.status_code == 200
    assert mine.total == 107
    assert [(c.name, c.points) for c in mine.crews] == [(played.name, 7)]
    assert mine.co_owners == 100
    page = text(response)
    entries = congregation_url("reciprocity:my_entries", congregation)
    assert f'<a href="{entries}" aria-label="My score in {congregation.name}: +107 points' in page
    assert f'href="{entries}?crew={played.pk}">+7<' in page
    assert f'href="{entries}?level=5">+100<' in page
    assert "Co-owners" in page


@pytest.mark.embedded
def test_my_page_lists_each_crew_i_am_in_and_each_i_left_with_points(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self, other_crew: Crew
) -> None:
    """A crew left with points stays, marked; one left without any goes; a crew just
    joined shows 0; another congregation's points count nowhere here."""
    newcomer = MembershipFactory.create(congregation=congregation).member
    empty = form_crew(
        congregation=congregation, name="Empty", members=[member, crew_mate, newcomer]
    )
    fresh = form_crew(
        congregation=congregation, name="Fresh", members=[member, crew_mate, newcomer]
    )
    leave_crew(crew=played, member=member)
    leave_crew(crew=empty, member=member)

    response = signed_in(member).get(congregation_url("reciprocity:me", congregation))

    mine = response.context["mine"]
    assert [(c.name, c.points, c.current) for c in mine.crews] == [
        (fresh.name, 0, True),
        (played.name, 7, False),
    ]
    assert mine.total == 7
    assert dict(mine.levels())[Level.LISTENING] == 0
    assert sum(points for _, points in mine.levels()) == 7
    assert f"{played.name} <small>(left)</small>" in text(response)
    assert other_crew.name not in text(response)


# Not in the embedded pass (pytest -m embedded): thousands of rows make it slow on any
# database, and the queries it counts are the same on both.
@pytest.mark.parametrize("name", ["me", "my_entries"])
def test_my_pages_run_as_many_queries_with_ten_thousand_entries_as_with_ten(
    congregation: Congregation, crew: Crew, member: Self, name: str
) -> None:
    client = signed_in(member)
    long_ledger(crew, 10)
    with_ten = queries(client, congregation_url(f"reciprocity:{name}", congregation))

    long_ledger(crew, 9_990, start=10)

    # My scores reads the missed meetings one may dispute with one query more.
    assert queries(client, congregation_url(f"reciprocity:{name}", congregation)) == with_ten <= 13


@pytest.mark.embedded
def test_my_entries_are_mine_only(
    congregation: Congregation, played: Crew, member: Self, crew_mate: Self
) -> None:
    response = signed_in(member).get(
        congregation_url("reciprocity:my_entries", congregation), {"member": crew_mate.pk}
    )

    assert {e.member for e in response.context["page"]} == {member}
    assert response.context["page"].paginator.count == 3


@pytest.mark.embedded
def test_my_page_is_for_every_member_and_no_outsider(
    congregation: Congregation, facilitator: Self, outsider: Self
) -> None:
    assert (
        signed_in(facilitator).get(congregation_url("reciprocity:me", congregation)).status_code
        == 200
    )
    assert (
        signed_in(outsider).get(congregation_url("reciprocity:me", congregation)).status_code == 404
    )
    assert (
        signed_in(facilitator).post(congregation_url("reciprocity:me", congregation)).status_code
        == 405
    )
    anonymous = Client().get(congregation_url("reciprocity:my_entries", congregation))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/")


# Corrections


@pytest.fixture
def facilitated(
    congregation: Congregation, facilitator: Self, member: Self, crew_mate: Self
) -> Crew:
    """A crew the facilitator is in, with a logged meeting: +1 each for coming."""
    crew = form_crew(
        congregation=congregation,
        name="Facilitated crew",
        members=[facilitator, member, crew_mate],
        now=timezone.now() - timedelta(days=90),
    )
    held_meeting(crew)
    return crew


@pytest.mark.embedded
def test_a_facilitator_reverses_an_entry_with_a_reason(
    congregation: Congregation, facilitated: Crew, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(crew=facilitated, member=member)
    entries = congregation_url("reciprocity:crew_entries", congregation, crew_pk=facilitated.pk)
    client = signed_in(facilitator)
    assert "Correct this entry" in text(client.get(entries))

    response = client.post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk),
        {"reason": "Logged the wrong meeting", "next": entries},
    )

    assert response.status_code == 302
    assert response["Location"] == entries
    with tenant(congregation):
        correction = LedgerEntry.objects.get(reverses=wrong)
    assert (correction.points, correction.member, correction.recorded_by) == (
        -1,
        member,
        facilitator,
    )
    assert "Logged the wrong meeting" in correction.reason
    page = text(client.get(entries))
    assert "corrected" in page
    assert f"by {facilitator.display_name} (−1)" in page
    assert "Reverses the entry of" in page


@pytest.mark.embedded
def test_reversing_twice_is_refused_with_a_message(
    congregation: Congregation, facilitated: Crew, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(crew=facilitated, member=member)
    client = signed_in(facilitator)
    client.post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk),
        {"reason": "Wrong"},
    )

    response = client.post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk),
        {"reason": "Again"},
        follow=True,
    )

    assert "This entry has been corrected already." in text(response)
    with tenant(congregation):
        assert LedgerEntry.objects.filter(reverses=wrong).count() == 1


@pytest.mark.embedded
def test_a_correction_needs_a_reason(
    congregation: Congregation, facilitated: Crew, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(crew=facilitated, member=member)

    response = signed_in(facilitator).post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk),
        {"reason": "  "},
        follow=True,
    )

    assert "Say why this entry is being corrected." in text(response)
    with tenant(congregation):
        assert not LedgerEntry.objects.filter(reverses=wrong).exists()


@pytest.mark.embedded
def test_a_member_cannot_correct_the_ledger(
    congregation: Congregation, facilitated: Crew, member: Self, crew_mate: Self
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(crew=facilitated, member=crew_mate)
    client = signed_in(member)

    response = client.post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk),
        {"reason": "Mine now"},
    )

    assert response.status_code == 403
    with tenant(congregation):
        assert not LedgerEntry.objects.filter(reverses=wrong).exists()
    assert "Correct this entry" not in text(
        client.get(
            congregation_url("reciprocity:crew_entries", congregation, crew_pk=facilitated.pk)
        )
    )


@pytest.mark.embedded
def test_a_facilitator_cannot_correct_an_entry_they_cannot_see(
    congregation: Congregation, played: Crew, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        hidden = LedgerEntry.objects.filter(crew=played, member=member).first()
    assert hidden is not None

    response = signed_in(facilitator).post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=hidden.pk),
        {"reason": "Blind"},
    )

    assert response.status_code == 404
    with tenant(congregation):
        assert not LedgerEntry.objects.filter(reverses=hidden).exists()


@pytest.mark.embedded
def test_a_correction_goes_back_only_to_this_site(
    congregation: Congregation, facilitated: Crew, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(crew=facilitated, member=member)

    response = signed_in(facilitator).post(
        congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk),
        {"reason": "Wrong", "next": "https://evil.example/"},
    )

    assert response["Location"] == congregation_url("reciprocity:my_entries", congregation)


@pytest.mark.embedded
def test_correcting_takes_a_post_only(
    congregation: Congregation, facilitated: Crew, facilitator: Self, member: Self
) -> None:
    with tenant(congregation):
        wrong = LedgerEntry.objects.get(crew=facilitated, member=member)
    assert (
        signed_in(facilitator)
        .get(congregation_url("reciprocity:reverse_entry", congregation, pk=wrong.pk))
        .status_code
        == 405
    )


# The chart's layout


@pytest.mark.embedded
def test_the_chart_steps_through_each_month_from_zero() -> None:
    months = [
        Month(date(2026, 1, 1), 3, 3),
        Month(date(2026, 2, 1), 0, 3),
        Month(date(2026, 3, 1), 7, 10),
    ]

    chart = step_chart(months)

    assert chart is not None
    assert chart.path.startswith(f"M{chart.left},{chart.zero}V")
    assert chart.path.count("H") == 3
    assert [t.label for t in chart.x_labels] == ["Jan 2026", "Feb 2026", "Mar 2026"]
    assert [t.label for t in chart.y_ticks] == ["0", "+5", "+10"]


@pytest.mark.embedded
def test_a_chart_below_zero_keeps_zero_on_its_axis() -> None:
    chart = step_chart([Month(date(2026, 1, 1), -5, -5)])

    assert chart is not None
    assert [t.label for t in chart.y_ticks] == ["−6", "−4", "−2", "0"]
    assert chart.zero == chart.top
    assert step_chart([]) is None


@pytest.mark.embedded
def test_the_scores_page_is_cached_until_the_ledger_grows(
    congregation: Congregation, crew: Crew, member: Self
) -> None:
    client = signed_in(member)
    path = congregation_url("reciprocity:crew_scores", congregation, crew_pk=crew.pk)
    long_ledger(crew, 10)
    assert "+10" in text(client.get(path))
    with CaptureQueriesContext(connection) as cached:
        assert "+10" in text(client.get(path))
    assert not any("reciprocity_ledgerentry" in q["sql"] and "SUM" in q["sql"] for q in cached)

    long_ledger(crew, 5, start=10)

    assert "+15" in text(client.get(path))
