"""The meeting page's rounds, rendered once and shared by the crew (the cache in
templates/reciprocity/_meeting_rounds.html, keyed by the meeting, the reader's language and
reciprocity.selectors.meeting_rounds_version), attacked by what the existing tests leave
out: rounds recorded through the rounds page's forms, with htmx and without, the second
earning nothing; a name with markup changed on the profile page; a former member erased
after joining another congregation; a rename still being saved while a crew-mate reads;
readers outside the crew; three languages chosen three ways; what of its first reader the
copy could carry; and what a served copy costs.

Each test first has the page read, so that what it then shows comes from the shared
copy, and checks it against the rounds page, which renders the same section afresh."""

from __future__ import annotations

import re
import threading

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.services import leave_congregation, update_profile
from congregations.tenancy import tenant
from crews.models import Meeting
from crews.services import leave_crew
from privacy.services import erase_self
from reciprocity.models import LedgerEntry
from tests.builders import DAY, HOUR, congregation_url, held_meeting, membership_of, signed_in
from tests.factories import CongregationFactory, MembershipFactory
from tests.pages import text
from tests.reciprocity.test_recorded_rounds_attacked import crew_named, listening, money, read

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

# Names no generated name of a fixture's person contains.
ZOE, ANA, MIA = "Zoe Xu", "Ana Qi", "Mia Vo"


@pytest.fixture
def cast(congregation: Congregation) -> tuple[Meeting, Self, Self, Self]:
    """A held meeting of a crew of Zoe, Ana and Mia, all three there."""
    crew, (zoe, ana, mia) = crew_named(congregation, ZOE, ANA, MIA)
    return held_meeting(crew), zoe, ana, mia


def meeting_url(meeting: Meeting) -> str:
    return congregation_url("crews:meeting", meeting.congregation, pk=meeting.pk)


def rounds_url(meeting: Meeting) -> str:
    return congregation_url(
        "reciprocity:meeting_rounds", meeting.congregation, meeting_pk=meeting.pk
    )


def section_of(page: str) -> str:
    found = re.search(r'<section id="recorded-rounds".*?</section>', page, re.S)
    assert found, "the page has no recorded rounds"
    return found.group(0)


def shared(meeting: Meeting, client: Client) -> str:
    """The meeting page's rounds, as HTML: the crew's shared copy."""
    response = client.get(meeting_url(meeting))
    assert response.status_code == 200
    return section_of(response.content.decode())


def agreed(meeting: Meeting, client: Client) -> str:
    """The meeting page's rounds as the reader reads them, once checked to be, byte for
    byte, what the rounds page renders afresh for the same reader."""
    copy = shared(meeting, client)
    response = client.get(rounds_url(meeting))
    assert response.status_code == 200
    assert copy == section_of(response.content.decode())
    return read(copy)


def warm(meeting: Meeting, *readers: Self) -> None:
    for reader in readers:
        shared(meeting, signed_in(reader))


def form_key(client: Client, meeting: Meeting, form: str) -> str:
    """The request key of one of the rounds page's forms, as a browser would send it."""
    return str(client.get(rounds_url(meeting)).context[form]["request_key"].value())


def test_rounds_recorded_on_the_rounds_page_with_htmx_or_without_show_at_once(
    cast: tuple,
) -> None:
    """Rounds posted on the rounds page, with htmx and plainly, the last earning no ledger entry."""
    meeting, zoe, ana, mia = cast
    warm(meeting, zoe, ana, mia)
    recorder = signed_in(zoe)
    post = "reciprocity:record_listening_round"

    response = recorder.post(
        congregation_url(post, meeting.congregation, meeting_pk=meeting.pk),
        {
            "request_key": form_key(recorder, meeting, "listening_form"),
            "participants": [zoe.pk, ana.pk],
        },
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    swapped = section_of(response.content.decode()).replace(' data-hx-swap-oob="true"', "")
    assert shared(meeting, signed_in(mia)) == swapped  # what Zoe's page now shows, too
    seen = agreed(meeting, signed_in(mia))
    assert f"not everyone listened In the circle: {ANA}, {ZOE}." in seen
    assert "Points: none this time." in seen

    money_post = congregation_url(
        "reciprocity:record_money_round", meeting.congregation, meeting_pk=meeting.pk
    )
    response = recorder.post(
        money_post,
        {
            "request_key": form_key(recorder, meeting, "money_form"),
            "focus": mia.pk,
            "asked": "on",
            "mutual_respect": "on",
            f"offer_{ana.pk}": ["process"],
        },
    )

    assert response.status_code == 302
    seen = agreed(meeting, signed_in(ana))
    assert f"Money round: {MIA}" in seen and f"Offered: {ANA} (process)." in seen
    warm(meeting, zoe, ana, mia)
    with tenant(meeting):
        newest = LedgerEntry.objects.filter(meeting=meeting).latest("id").pk

    response = recorder.post(
        money_post, {"request_key": form_key(recorder, meeting, "money_form"), "focus": ana.pk}
    )

    assert response.status_code == 302
    with tenant(meeting):
        assert LedgerEntry.objects.filter(meeting=meeting).latest("id").pk == newest
    seen = agreed(meeting, signed_in(mia))
    assert seen.count("Money round:") == 2
    assert f"Money round: {ANA} Nobody offered anything." in seen


def test_a_name_with_markup_changed_on_the_profile_page_reaches_the_copy_as_text(
    cast: tuple,
) -> None:
    """Ana renames herself on the profile page to a name holding an image tag with a script."""
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, ana, {zoe: ["process"]})
    warm(meeting, zoe, ana, mia)
    hostile = '<img src=x onerror="alert(1)">Ana'

    response = signed_in(ana).post("/profile/", {"display_name": hostile, "timezone": "UTC"})

    assert response.status_code == 302
    copy = shared(meeting, signed_in(mia))
    assert "<img" not in copy and "&lt;img src=x" in copy
    seen = agreed(meeting, signed_in(mia))
    assert ANA not in seen
    assert f"In the circle: {hostile}, {MIA}, {ZOE}." in seen
    assert f"Money round: {hostile}" in seen and f"Points: {hostile} +6, {ZOE} +6" in seen


def test_a_former_member_erased_after_joining_another_congregation_is_no_longer_named(
    cast: tuple,
) -> None:
    """Ana leaves the congregation, joins another, and deletes her account there."""
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: ["perspective"]})
    leave_congregation(membership=membership_of(ana, meeting.congregation))
    MembershipFactory.create(congregation=CongregationFactory.create(name="Elsewhere"), member=ana)
    assert f"In the circle: {ANA}, {MIA}, {ZOE}." in agreed(meeting, signed_in(mia))
    warm(meeting, zoe)

    erase_self(self_=Self.objects.get(pk=ana.pk))

    seen = agreed(meeting, signed_in(zoe))
    assert ANA not in seen
    assert f"In the circle: Former member, {MIA}, {ZOE}." in seen
    assert "Offered: Former member (perspective)." in seen


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite's transactions take the write lock as they begin: a page waits for the rename",
)
def test_a_page_read_while_a_rename_is_being_saved_does_not_keep_the_old_name(
    cast: tuple,
) -> None:
    """Mia opens the page after Ana's new name is saved but before it is committed."""
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    warm(meeting, zoe, ana, mia)
    saved, commit = threading.Event(), threading.Event()

    def rename() -> None:
        try:
            with transaction.atomic():
                update_profile(self_=Self.objects.get(pk=ana.pk), display_name="Anahera")
                saved.set()
                commit.wait(30)
        finally:
            connection.close()

    writer = threading.Thread(target=rename)
    writer.start()
    try:
        assert saved.wait(30), "the rename never reached its commit"
        # Not committed: Mia reads the old name, cached under the token the save dropped
        # and her read made anew; the commit must drop that one too.
        assert f"In the circle: {ANA}, {MIA}, {ZOE}." in agreed(meeting, signed_in(mia))
    finally:
        commit.set()
        writer.join(30)

    assert f"In the circle: Anahera, {MIA}, {ZOE}." in agreed(meeting, signed_in(zoe))


def test_nobody_outside_the_crew_is_served_the_copy(
    cast: tuple, facilitator: Self, outsider: Self
) -> None:
    """A crew leaver, a facilitator not in the crew, another congregation's member, a visitor."""
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: ["perspective"]})
    warm(meeting, zoe, ana, mia)
    leave_crew(crew=meeting.crew, member=mia)
    elsewhere = Congregation.objects.get(name="Elsewhere")
    theirs = congregation_url("crews:meeting", elsewhere, pk=meeting.pk)
    theirs_rounds = congregation_url("reciprocity:meeting_rounds", elsewhere, meeting_pk=meeting.pk)

    for client, url, refused in [
        (signed_in(mia), meeting_url(meeting), 404),
        (signed_in(mia), rounds_url(meeting), 404),
        (signed_in(facilitator), meeting_url(meeting), 404),
        (signed_in(facilitator), rounds_url(meeting), 404),
        (signed_in(outsider), meeting_url(meeting), 404),
        (signed_in(outsider), theirs, 404),
        (signed_in(outsider), theirs_rounds, 404),
        (Client(), meeting_url(meeting), 302),
    ]:
        response = client.get(url)
        assert response.status_code == refused, url
        page = text(response)
        for shown in ["recorded-rounds", "In the circle", "perspective", ZOE, ANA]:
            assert shown not in page, (url, shown)

    # Those who stay read the rounds as they were: Mia sat in the circle.
    assert f"In the circle: {ANA}, {MIA}, {ZOE}." in agreed(meeting, signed_in(zoe))


def test_each_reader_is_served_the_copy_in_the_language_of_their_page(cast: tuple) -> None:
    """German by profile, Spanish by browser, English despite a German cookie; then a round."""
    meeting, zoe, ana, mia = cast
    Self.objects.filter(pk=zoe.pk).update(language="de")
    Self.objects.filter(pk__in=[ana.pk, mia.pk]).update(language="")
    german = signed_in(zoe)
    spanish = Client(HTTP_ACCEPT_LANGUAGE="es")
    spanish.force_login(ana)
    english = Client(HTTP_ACCEPT_LANGUAGE="en")
    english.force_login(mia)
    english.cookies["django_language"] = "de"
    readers = [
        ("de", german, "Bisher eingetragene Runden", "Im Kreis:"),
        ("es", spanish, "Rondas registradas hasta ahora", "En el círculo:"),
        ("en", english, "Rounds recorded so far", "In the circle:"),
    ]

    def page_language(client: Client) -> str:
        page = client.get(meeting_url(meeting)).content.decode()
        found = re.search(r'<html lang="([\w-]+)"', page)
        assert found
        return found.group(1)

    for language, client, heading, _ in readers * 2:
        assert page_language(client) == language
        assert agreed(meeting, client).startswith(heading)

    listening(meeting, zoe, ana, mia)

    for language, client, heading, circle in readers:
        assert page_language(client) == language
        seen = agreed(meeting, client)
        assert seen.startswith(heading) and f"{circle} {ANA}, {MIA}, {ZOE}." in seen


def test_the_copy_holds_nothing_of_the_reader_who_rendered_it(cast: tuple) -> None:
    """Zoe renders the copy into an empty cache; Mia is served it."""
    meeting, zoe, ana, mia = cast
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: ["process"], mia: []})

    first = shared(meeting, signed_in(zoe))
    served = shared(meeting, signed_in(mia))

    assert served == first
    assert f"Money round: {ZOE}" in agreed(meeting, signed_in(mia))
    for own in ["csrfmiddlewaretoken", "<form", "<input", "href=", "hx-", zoe.email, mia.email]:
        assert own not in served, own


def test_a_served_copy_reads_no_round_and_costs_the_same_whatever_their_number(
    cast: tuple,
) -> None:
    """Mia is served a meeting with no rounds and one with a listening and three money rounds."""
    meeting, zoe, ana, mia = cast
    bare = held_meeting(meeting.crew, now=timezone.now() - 30 * DAY)
    listening(meeting, zoe, ana, mia)
    money(meeting, zoe, {ana: ["process", "perspective"], mia: []})
    money(meeting, ana, {zoe: [], mia: ["introduction"]}, at=HOUR)
    money(meeting, mia, {zoe: ["encouragement"]}, at=2 * HOUR)
    reader = signed_in(mia)
    costs = []

    for each in [bare, meeting]:
        warm(each, zoe)
        with CaptureQueriesContext(connection) as served:
            copy = shared(each, reader)
        queries = [query["sql"] for query in served.captured_queries]
        for table in ["reciprocity_listeningparticipant", "reciprocity_moneyoffer"]:
            assert not any(table in sql for sql in queries), table
        assert sum("reciprocity_" in sql for sql in queries) == 1  # the version, and only it
        costs.append(len(queries))

    assert read(copy).count("Money round:") == 3
    assert costs[0] == costs[1]
