"""The rounds on the meeting page, rendered once and shared by the crew until something they
show changes (reciprocity.selectors.meeting_rounds_version): each test opens the page
first, so that what it shows comes from the shared copy, then changes what the rounds
show and opens it again, as a crew-mate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.services import update_profile
from congregations.tenancy import tenant
from crews.models import Meeting
from privacy.services import erase_self
from reciprocity.models import LedgerEntry
from reciprocity.services import reverse_entry
from tests.builders import DAY, HOUR, congregation_url, forget_cached, held_meeting, signed_in

from .test_recorded_rounds_attacked import crew_named, listening, money, read

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


@pytest.fixture
def cast(congregation: Congregation) -> tuple[Meeting, Self, Self, Self]:
    """A held meeting of a crew of Zoe, Ana and Mia, all three there."""
    crew, (zoe, ana, mia) = crew_named(congregation, "Zoe", "Ana", "Mia")
    return held_meeting(crew), zoe, ana, mia


def rounds_seen(meeting: Meeting, client: Client) -> str:
    """The meeting page's rounds as a reader reads them."""
    response = client.get(congregation_url("crews:meeting", meeting.congregation, pk=meeting.pk))
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('<section id="recorded-rounds"')
    return read(page[start : page.index("</section>", start)])


@pytest.fixture
def seen_first(cast: tuple) -> Iterator[None]:
    """Every member of the crew has opened the page once: the shared copy is there."""
    meeting, *crew = cast
    for person in crew:
        rounds_seen(meeting, signed_in(person))
    yield


def test_a_round_recorded_after_the_page_was_shared_shows_at_once(
    cast: tuple, seen_first: None
) -> None:
    meeting, zoe, ana, mia = cast
    assert "No rounds recorded yet." in rounds_seen(meeting, signed_in(mia))

    listening(meeting, zoe, ana, mia)

    seen = rounds_seen(meeting, signed_in(mia))
    assert "In the circle: Ana, Mia, Zoe." in seen
    assert "Points: Ana +1, Mia +1, Zoe +1" in seen

    money(meeting, zoe, {ana: ["process"]}, at=HOUR)

    seen = rounds_seen(meeting, signed_in(ana))
    assert "Money round: Zoe" in seen and "Offered: Ana (process)." in seen


def test_a_round_that_earned_no_points_shows_at_once_too(cast: tuple, seen_first: None) -> None:
    meeting, zoe, ana, mia = cast
    # No points: the round alone marks it.
    listening(meeting, zoe, ana, everyone_listened=False)
    with tenant(meeting):
        assert not LedgerEntry.objects.filter(listening_round__meeting=meeting).exists()

    seen = rounds_seen(meeting, signed_in(mia))
    assert "not everyone listened" in seen and "In the circle: Ana, Zoe." in seen

    money(meeting, mia, {}, asked=False, at=HOUR)

    seen = rounds_seen(meeting, signed_in(zoe))
    assert "Money round: Mia" in seen and "Nobody offered anything." in seen


def test_a_name_changed_or_erased_is_never_shown_as_it_was(cast: tuple) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: []})
    assert "Ana" in rounds_seen(meeting, signed_in(mia))

    update_profile(self_=ana, display_name="Anahera")

    seen = rounds_seen(meeting, signed_in(mia))
    assert "In the circle: Anahera, Mia, Zoe." in seen and "Offered: Anahera." in seen

    erase_self(self_=Self.objects.get(pk=ana.pk))

    seen = rounds_seen(meeting, signed_in(mia))
    assert "Anahera" not in seen and "Mia" in seen


def test_a_correction_leaves_the_rounds_as_they_were_earned(
    cast: tuple, congregation: Congregation, facilitator: Self
) -> None:
    # A correction names no round: the rounds show what each round earned, and the
    # correction is on the ledger's pages. The shared copy agrees with a fresh one.
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    before = rounds_seen(meeting, signed_in(mia))
    with tenant(meeting):
        entry = LedgerEntry.objects.get(listening_round__meeting=meeting, member=ana)

    reverse_entry(entry=entry, reversed_by=facilitator, reason="She left early")

    assert rounds_seen(meeting, signed_in(zoe)) == before
    forget_cached()
    assert rounds_seen(meeting, signed_in(zoe)) == before


@pytest.mark.parametrize(
    ("language", "circle"), [("es", "En el círculo: Mia, Zoe."), ("de", "Im Kreis: Mia, Zoe.")]
)
def test_each_language_reads_its_own_copy(
    cast: tuple, seen_first: None, language: str, circle: str
) -> None:
    meeting, zoe, _ana, mia = cast
    listening(meeting, zoe, mia)
    assert "In the circle: Mia, Zoe." in rounds_seen(meeting, signed_in(zoe))
    reader = Client(HTTP_ACCEPT_LANGUAGE=language)
    reader.force_login(mia)

    assert circle in rounds_seen(meeting, reader)
    assert "In the circle: Mia, Zoe." in rounds_seen(meeting, signed_in(zoe))


def test_two_meetings_of_one_crew_never_share_their_rounds(cast: tuple) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    earlier = held_meeting(meeting.crew, now=timezone.now() - 30 * DAY)

    assert "In the circle" in rounds_seen(meeting, signed_in(zoe))
    assert "No rounds recorded yet." in rounds_seen(earlier, signed_in(zoe))


def test_the_shared_copy_spares_reading_the_rounds(cast: tuple) -> None:
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: ["process"]})
    reads_circles = "reciprocity_listeningparticipant"

    with CaptureQueriesContext(connection) as first:
        rounds_seen(meeting, signed_in(zoe))
    with CaptureQueriesContext(connection) as shared:
        rounds_seen(meeting, signed_in(mia))

    assert any(reads_circles in query["sql"] for query in first.captured_queries)
    assert not any(reads_circles in query["sql"] for query in shared.captured_queries)
    assert len(shared) <= len(first) - 4
