"""What the pages cache to share among readers, attacked: the meeting page's notes form
(one per meeting, version and language) reaches nobody outside the crew, survives refused,
stale and hostile edits and every language, and a Self's change moves the roster of every
congregation they ever joined, so a former member's new or erased name reaches the cached
pages of congregations they left."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client

from congregations.models import Congregation, Self
from congregations.services import leave_congregation, update_profile
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew, Meeting
from crews.services import form_crew
from privacy.services import erase_self
from tests.builders import (
    HOUR,
    congregation_url,
    held_meeting,
    membership_of,
    money_round,
    people,
    scheduled_meeting,
    signed_in,
)
from tests.factories import CongregationFactory, MembershipFactory
from tests.pages import text

pytestmark = pytest.mark.django_db

SECRET = "Ana told us about the diagnosis"


def logged(meeting: Meeting, by: Self, reflections: str, envisioning: str = "") -> Meeting:
    return services.log_meeting(
        meeting=meeting,
        present=[by],
        logged_by=by,
        reflections=reflections,
        envisioning=envisioning,
    )


def notes_url(congregation: Congregation, meeting: Meeting) -> str:
    return congregation_url("crews:notes", congregation, pk=meeting.pk)


def meeting_url(congregation: Congregation, meeting: Meeting) -> str:
    return congregation_url("crews:meeting", congregation, pk=meeting.pk)


# --- 1. the meeting page's cached notes form ------------------------------------------


def test_nobody_outside_the_crew_reaches_the_cached_form(
    congregation: Congregation,
    member: Self,
    neighbour: Self,
    outsider: Self,
    started_meeting: Meeting,
) -> None:
    meeting = logged(started_meeting, member, SECRET)
    page = meeting_url(congregation, meeting)
    assert f"{SECRET}</textarea>" in text(signed_in(member).get(page))  # cached now

    elsewhere = Congregation.objects.get(name="Elsewhere")
    stranger, same_congregation = signed_in(outsider), signed_in(neighbour)
    for client, url in [
        (stranger, page),
        (stranger, meeting_url(elsewhere, meeting)),  # their own congregation, our meeting
        (same_congregation, page),  # of the congregation, but not of the crew
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert SECRET not in text(response), url
    # Nor can they write to it, and the crew's copy stays what the crew wrote.
    for client, url in [
        (stranger, notes_url(congregation, meeting)),
        (stranger, notes_url(elsewhere, meeting)),
        (same_congregation, notes_url(congregation, meeting)),
    ]:
        response = client.post(
            url, {"reflections": "Overwritten", "envisioning": "", "version": meeting.version}
        )
        assert response.status_code == 404, url
    assert f"{SECRET}</textarea>" in text(signed_in(member).get(page))
    assert "Overwritten" not in text(signed_in(member).get(page))


def test_two_crews_meetings_never_share_a_form(
    congregation: Congregation,
    member: Self,
    crew: Crew,
    other_crew: Crew,
    now: datetime,
) -> None:
    ours = logged(scheduled_meeting(crew, now - HOUR), member, "Tuesday's notes")
    them = people(other_crew)[0]
    theirs = logged(scheduled_meeting(other_crew, now - HOUR), them, "Thursday's notes")
    assert ours.version == theirs.version  # the same version: only the pk tells them apart

    mine = text(signed_in(member).get(meeting_url(congregation, ours)))
    other = text(signed_in(them).get(meeting_url(congregation, theirs)))
    assert "Tuesday's notes</textarea>" in mine and "Thursday's notes" not in mine
    assert "Thursday's notes</textarea>" in other and "Tuesday's notes" not in other
    # Each from the cache the second time, still its own.
    assert "Tuesday's notes</textarea>" in text(
        signed_in(member).get(meeting_url(congregation, ours))
    )
    assert "Thursday's notes</textarea>" in text(
        signed_in(them).get(meeting_url(congregation, theirs))
    )


@pytest.mark.parametrize(
    ("sent", "error"),
    [
        ("x" * 10_001, "Ensure this value has at most 10000 characters"),
        ("Null \x00 inside", "Null characters are not allowed."),
    ],
    ids=["too-long", "null-character"],
)
def test_a_refused_edit_comes_back_and_leaves_the_crew_s_copy(
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    started_meeting: Meeting,
    sent: str,
    error: str,
) -> None:
    meeting = logged(started_meeting, member, "The saved notes.")
    page = meeting_url(congregation, meeting)
    mate = signed_in(crew_mate)
    assert "The saved notes.</textarea>" in text(mate.get(page))  # cached first

    response = signed_in(member).post(
        notes_url(congregation, meeting),
        {"reflections": sent, "envisioning": "Hope", "version": meeting.version},
    )
    refused = text(response)
    assert response.status_code == 200
    assert error in refused
    assert "The saved notes.</textarea>" not in refused  # what was sent, not the crew's copy
    assert "Hope</textarea>" in refused

    # Neither the crew-mate nor the sender, reloading, sees what was refused.
    for client in (mate, signed_in(member)):
        after = text(client.get(page))
        assert "The saved notes.</textarea>" in after
        assert "Hope" not in after
        assert error not in after


def test_a_stale_edit_leaves_the_crew_s_copy_for_everyone(
    congregation: Congregation, member: Self, crew_mate: Self, started_meeting: Meeting
) -> None:
    meeting = logged(started_meeting, member, "First words.")
    page = meeting_url(congregation, meeting)
    stale_version = meeting.version
    mine, mate = signed_in(member), signed_in(crew_mate)
    assert (
        mate.post(
            notes_url(congregation, meeting),
            {"reflections": "Mate's words.", "envisioning": "", "version": stale_version},
        ).status_code
        == 302
    )
    refused = text(
        mine.post(
            notes_url(congregation, meeting),
            {"reflections": "My late words.", "envisioning": "", "version": stale_version},
        )
    )
    assert "Someone else changed" in refused and "My late words.</textarea>" in refused
    for client in (mate, mine):
        after = text(client.get(page))
        assert "Mate's words.</textarea>" in after
        assert "My late words." not in after and "First words." not in after


@pytest.mark.parametrize(
    ("language", "label", "help_text"),
    [
        ("es", "Dónde hemos estado", "Reflexiones: qué le ha pasado a cada cual"),
        ("de", "Rückblick", "Rückblick: was jede und jeder von uns"),
    ],
)
def test_each_language_gets_its_own_form_and_english_stays_english(
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    started_meeting: Meeting,
    language: str,
    label: str,
    help_text: str,
) -> None:
    meeting = logged(started_meeting, member, "A meal.")
    page = meeting_url(congregation, meeting)
    # The other language renders (and caches) first.
    Self.objects.filter(pk=crew_mate.pk).update(language=language)
    theirs = text(signed_in(crew_mate).get(page))
    assert help_text in theirs and "A meal.</textarea>" in theirs
    assert "Reflections: what happened" not in theirs
    english = text(signed_in(member).get(page))
    assert "Reflections: what happened for each of us" in english
    assert help_text not in english
    assert "A meal.</textarea>" in english
    # And the other language, from its cache, is still its own.
    again = text(signed_in(crew_mate).get(page))
    assert help_text in again and "Reflections: what happened" not in again


def test_html_in_the_notes_is_escaped_first_time_and_from_the_cache(
    congregation: Congregation, member: Self, crew_mate: Self, started_meeting: Meeting
) -> None:
    attack = '</textarea><script>alert("x")</script><textarea>'
    meeting = logged(started_meeting, member, attack, envisioning="<b>bold</b> & co")
    page = meeting_url(congregation, meeting)
    for client in (signed_in(member), signed_in(crew_mate), signed_in(member)):
        raw = client.get(page).content.decode()
        assert "<script>" not in raw
        assert "<b>bold</b>" not in raw
        assert "&lt;/textarea&gt;&lt;script&gt;" in raw
        # Read as a browser does, the textarea holds exactly what was written.
        assert f"{attack}</textarea>" in text(client.get(page))


def test_the_form_shows_what_the_page_logged_and_then_each_edit(
    congregation: Congregation, member: Self, crew_mate: Self, started_meeting: Meeting
) -> None:
    mine, mate = signed_in(member), signed_in(crew_mate)
    page = meeting_url(congregation, started_meeting)
    assert "Edit the notes" not in text(mate.get(page))  # not logged yet: no form
    logging = mine.post(
        congregation_url("crews:log", congregation, pk=started_meeting.pk),
        {"reflections": "Logged words.", "envisioning": "Logged hopes."},
    )
    assert logging.status_code == 302
    for client in (mate, mine):
        shown = text(client.get(page))
        assert "Logged words.</textarea>" in shown and "Logged hopes.</textarea>" in shown
    # Edited back and forth: each version shows its own notes, even one that repeats.
    for words in ("Second words.", "Logged words.", "Third words."):
        with tenant(started_meeting):
            version = Meeting.objects.get(pk=started_meeting.pk).version
        assert (
            mate.post(
                notes_url(congregation, started_meeting),
                {"reflections": words, "envisioning": "", "version": version},
            ).status_code
            == 302
        )
        for client in (mine, mate):
            shown = text(client.get(page))
            assert f"{words}</textarea>" in shown
            assert "Logged hopes." not in shown


def test_a_member_who_left_the_crew_no_longer_reaches_its_notes(
    congregation: Congregation, member: Self, crew_mate: Self, crew: Crew, started_meeting: Meeting
) -> None:
    meeting = logged(started_meeting, member, SECRET)
    page = meeting_url(congregation, meeting)
    leaver = signed_in(crew_mate)
    assert f"{SECRET}</textarea>" in text(leaver.get(page))  # theirs while in the crew
    services.leave_crew(crew=crew, member=crew_mate)
    response = leaver.get(page)
    assert response.status_code == 404
    assert SECRET not in text(response)


@pytest.mark.parametrize("version", ["", "abc", "0", "-3", "99999999999999999999"])
def test_a_garbled_version_is_refused_beside_the_form_and_shared_by_nobody(
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    started_meeting: Meeting,
    version: str,
) -> None:
    meeting = logged(started_meeting, member, "The saved notes.")
    page = meeting_url(congregation, meeting)
    response = signed_in(member).post(
        notes_url(congregation, meeting),
        {"reflections": "Sneaky words.", "envisioning": "", "version": version},
    )
    assert response.status_code == 200
    assert "Sneaky words.</textarea>" in text(response)
    for client in (signed_in(crew_mate), signed_in(member)):
        after = text(client.get(page))
        assert "The saved notes.</textarea>" in after and "Sneaky words." not in after


@pytest.mark.parametrize(
    ("how", "headers"),
    [
        ("browser", {"HTTP_ACCEPT_LANGUAGE": "es"}),
        ("self-over-cookie", {}),
    ],
)
def test_a_language_chosen_by_browser_or_cookie_reads_the_form_in_it_too(
    congregation: Congregation,
    member: Self,
    crew_mate: Self,
    started_meeting: Meeting,
    how: str,
    headers: dict[str, str],
) -> None:
    meeting = logged(started_meeting, member, "A meal.")
    page = meeting_url(congregation, meeting)
    Self.objects.filter(pk__in=[member.pk, crew_mate.pk]).update(language="")
    reader = signed_in(crew_mate)
    if how == "self-over-cookie":
        # A Self's own choice counts, never the switcher's cookie (SelfLanguageMiddleware):
        # the form follows the page, not the cookie.
        Self.objects.filter(pk=crew_mate.pk).update(language="es")
        reader.cookies["django_language"] = "de"
    spanish = text(reader.get(page, **headers))  # type: ignore[arg-type]
    assert "Editar las notas" in spanish  # the page around the form
    assert "Dónde hemos estado" in spanish and "Reflexiones: qué le ha pasado" in spanish
    assert "Reflections: what happened" not in spanish and "Rückblick" not in spanish
    english = text(signed_in(member).get(page, HTTP_ACCEPT_LANGUAGE="en"))
    assert "Edit the notes" in english and "Reflections: what happened" in english
    assert "Reflexiones" not in english


def test_a_refusal_in_spanish_does_not_change_what_english_readers_get(
    congregation: Congregation, member: Self, crew_mate: Self, started_meeting: Meeting
) -> None:
    meeting = logged(started_meeting, member, "The saved notes.")
    page = meeting_url(congregation, meeting)
    Self.objects.filter(pk=member.pk).update(language="es")
    refused = text(
        signed_in(member).post(
            notes_url(congregation, meeting),
            {"reflections": "x" * 10_001, "envisioning": "", "version": meeting.version},
        )
    )
    assert "Reflexiones" in refused and 'class="errorlist' in refused
    english = text(signed_in(crew_mate).get(page))
    assert "Reflections: what happened" in english and "Reflexiones" not in english
    assert "The saved notes.</textarea>" in english
    spanish = text(signed_in(member).get(page))
    assert "Reflexiones" in spanish and "The saved notes.</textarea>" in spanish
    assert 'class="errorlist' not in spanish


# --- 2. a former member's name on the pages of a congregation they left -----------------

OLD, NEW = "Ana Whetu", "Ana Kahu"


@pytest.fixture
def ana(member: Self) -> Self:
    member.display_name = OLD
    member.save()
    return member


@pytest.fixture
def rua(ana: Self, now: datetime) -> tuple[Congregation, Crew, Self]:
    """Another congregation Ana stays in, with a crew of hers and a crew-mate there."""
    elsewhere = CongregationFactory.create(name="Rua")
    MembershipFactory.create(congregation=elsewhere, member=ana)
    mates = [MembershipFactory.create(congregation=elsewhere).member for _ in range(2)]
    crew = form_crew(
        congregation=elsewhere,
        name="Rua crew",
        members=[ana, *mates],
        now=now - timedelta(days=180),
    )
    return elsewhere, crew, mates[0]


def pages_naming(
    ana: Self,
    played: Crew,
    crew_mate: Self,
    facilitator: Self,
    rua: tuple[Congregation, Crew, Self],
) -> list[tuple[Client, str]]:
    kotahi = played.congregation
    rua_congregation, rua_crew, rua_mate = rua
    with tenant(played):
        with_ana = Meeting.objects.filter(crew=played).order_by("-pk").first()
    assert with_ana is not None
    mate, facilitating, there = signed_in(crew_mate), signed_in(facilitator), signed_in(rua_mate)
    return [
        (mate, congregation_url("crews:crew", kotahi, pk=played.pk)),
        (mate, congregation_url("crews:history", kotahi, pk=played.pk)),
        (mate, congregation_url("crews:meeting", kotahi, pk=with_ana.pk)),
        (mate, congregation_url("reciprocity:meeting_rounds", kotahi, meeting_pk=with_ana.pk)),
        (mate, congregation_url("reciprocity:crew_scores", kotahi, crew_pk=played.pk)),
        (mate, congregation_url("reciprocity:crew_entries", kotahi, crew_pk=played.pk)),
        (mate, congregation_url("crews:people", kotahi)),
        (mate, congregation_url("crews:congregation", kotahi)),
        (facilitating, congregation_url("history", kotahi)),
        (facilitating, congregation_url("members", kotahi)),
        (there, congregation_url("crews:crew", rua_congregation, pk=rua_crew.pk)),
        (there, congregation_url("reciprocity:crew_scores", rua_congregation, crew_pk=rua_crew.pk)),
        (there, congregation_url("crews:people", rua_congregation)),
        (there, congregation_url("crews:congregation", rua_congregation)),
    ]


@pytest.fixture
def played_by_ana(crew: Crew, ana: Self, crew_mate: Self) -> Crew:
    """A meeting Ana logged, with a round in which she offered (+6): her name on the
    meeting, its rounds, the crew's scores and entries."""
    meeting = held_meeting(crew, logged_by=ana)
    money_round(meeting, focus=crew_mate, offerer=ana)
    return crew


def test_a_former_member_renamed_then_erased_is_named_nowhere_by_their_old_name(
    ana: Self,
    played_by_ana: Crew,
    crew_mate: Self,
    facilitator: Self,
    rua: tuple[Congregation, Crew, Self],
) -> None:
    kotahi = played_by_ana.congregation
    leave_congregation(membership=membership_of(ana, kotahi))
    pages = pages_naming(ana, played_by_ana, crew_mate, facilitator, rua)
    naming = [(client, url) for client, url in pages if OLD in text(client.get(url))]
    named_urls = {url for _, url in naming}
    # Rendered, and cached, with the old name: at least the crew's scores in Kotahi and
    # her crew's page in Rua.
    assert (
        congregation_url("reciprocity:crew_scores", kotahi, crew_pk=played_by_ana.pk) in named_urls
    )
    assert congregation_url("crews:crew", rua[0], pk=rua[1].pk) in named_urls
    for client, url in pages:
        assert text(client.get(url))  # every page renders (and caches) before the change

    update_profile(self_=ana, display_name=NEW)

    for client, url in naming:
        page = text(client.get(url))
        assert OLD not in page, url
    # Where a page names her, it now says her new name (the ledger's reasons excepted).
    for client, url in naming:
        if "history" not in url:
            assert NEW in text(client.get(url)), url

    erase_self(self_=ana)

    for client, url in pages:
        page = text(client.get(url))
        assert OLD not in page and NEW not in page, url
