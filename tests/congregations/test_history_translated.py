"""The congregation's History reads in each facilitator's language: what a line did (the
settings it changed, what was withdrawn when someone left) is kept as details and put
into words when it is read, not written once in English when it happened."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.utils import translation

from congregations.history import conflict_left, venture_left, withdrew
from congregations.models import Congregation, MembershipEvent, Self
from congregations.services import remove_member, update_profile, update_settings
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import propose_crew
from reciprocity.models import Conflict, Dispute
from reciprocity.services import open_conflict
from tests.builders import DAY, disputed_deduction, membership_of, signed_in
from tests.builders import congregation_url as url
from tests.pages import text

pytestmark = pytest.mark.embedded


def history(reader: Self, congregation: Congregation, language: str) -> str:
    """The History page as ``reader`` reads it, having chosen ``language``."""
    update_profile(self_=reader, language=language)
    return text(signed_in(reader).get(url("history", congregation)))


def removed(self_: Self, congregation: Congregation, *, by: Self, now: datetime) -> None:
    remove_member(membership=membership_of(self_, congregation), removed_by=by, now=now)


def line(congregation: Congregation, actor: Self, subject: Self, **fields: Any) -> None:
    """A line of History written as the services write it (or, with ``detail``, as they
    wrote it before the details were kept)."""
    with tenant(congregation):
        MembershipEvent.objects.create(
            congregation=congregation,
            actor=actor,
            subject=subject,
            action=MembershipEvent.Action.WITHDRAWN,
            **fields,
        )


def proposals(congregation: Congregation, leaving: Self, others: list[Self], t0: datetime) -> None:
    """``leaving`` has one open crew invitation to or from each of ``others``."""
    for n, other in enumerate(others):
        propose_crew(
            congregation=congregation,
            name=f"Soup {n}",
            proposed_by=other,
            invitees=[leaving],
            now=t0,
        )


@pytest.fixture
def dispute(crew: Crew, member: Self, crew_mate: Self, third: Self, t0: datetime) -> Dispute:
    """The member disputes their −5 for a meeting the crew-mate and the third were marked
    present at."""
    return disputed_deduction(crew, member, [crew_mate, third], t0)


# --- settings -----------------------------------------------------------------------


def test_a_settings_change_reads_in_the_facilitators_language(
    congregation: Congregation, facilitator: Self
) -> None:
    quota = congregation.invitation_quota
    congregation.facilitators_need_second_factor = True
    congregation.save(update_fields=["facilitators_need_second_factor"])
    update_settings(
        congregation=congregation,
        changed_by=facilitator,
        invitation_quota=quota + 2,
        facilitators_need_second_factor=False,
    )

    english = history(facilitator, congregation, "en")
    spanish = history(facilitator, congregation, "es")
    german = history(facilitator, congregation, "de")

    assert (
        f"Invitations each member may send: {quota} → {quota + 2}; "
        "Facilitators need a second factor: yes → no"
    ) in english
    assert (
        f"Invitaciones que puede enviar cada miembro: {quota} → {quota + 2}; "
        "Las personas facilitadoras necesitan un segundo factor: sí → no"
    ) in spanish
    assert (
        f"Einladungen, die jedes Mitglied verschicken darf: {quota} → {quota + 2}; "
        "Facilitators brauchen einen zweiten Faktor: ja → nein"
    ) in german
    assert "Invitations each member may send" not in spanish + german


def test_a_settings_change_keeps_no_words_only_what_changed(
    congregation: Congregation, facilitator: Self
) -> None:
    old = congregation.name
    with translation.override("de"):  # whoever changes it reads German
        update_settings(congregation=congregation, changed_by=facilitator, name="Kotahi Two")

    with tenant(congregation):
        event = MembershipEvent.objects.get(action=MembershipEvent.Action.SETTINGS)
    assert (event.detail, event.details) == (
        "",
        [{"setting": "name", "from": old, "to": "Kotahi Two"}],
    )
    assert event.described() == f"Name: {old} → Kotahi Two"  # read in English


# --- someone leaves -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("invitations", "en", "es", "de"),
    [
        (
            1,
            "Withdrew 1 crew invitation",
            "Se retiró 1 invitación a un equipo",
            "1 Crew-Einladung zurückgezogen",
        ),
        (
            2,
            "Withdrew 2 crew invitations",
            "Se retiraron 2 invitaciones a equipos",
            "2 Crew-Einladungen zurückgezogen",
        ),
    ],
)
def test_withdrawn_crew_invitations_read_with_real_plurals(
    congregation: Congregation,
    facilitator: Self,
    neighbour: Self,
    member: Self,
    crew_mate: Self,
    t0: datetime,
    invitations: int,
    en: str,
    es: str,
    de: str,
) -> None:
    proposals(congregation, neighbour, [member, crew_mate][:invitations], t0)
    removed(neighbour, congregation, by=facilitator, now=t0 + DAY)

    assert en in history(facilitator, congregation, "en")
    spanish = history(facilitator, congregation, "es")
    assert f'cerró lo que esperaba a<br><span class="muted">{es}</span>' in spanish
    assert neighbour.display_name in spanish
    german = history(facilitator, congregation, "de")
    assert f'hat alles Offene geschlossen für<br><span class="muted">{de}</span>' in german
    assert "Withdrew" not in spanish + german


def test_a_closed_conflict_and_a_withdrawn_dispute_read_in_spanish_and_german(
    congregation: Congregation,
    facilitator: Self,
    crew: Crew,
    member: Self,
    crew_mate: Self,
    dispute: Dispute,
    t0: datetime,
) -> None:
    open_conflict(crew=crew, parties=[member, crew_mate], opened_by=crew_mate, title="Rent", now=t0)
    removed(member, congregation, by=facilitator, now=t0 + 5 * DAY)

    assert (
        "Closed a conflict in Tuesday crew without points: fewer than two parties remain; "
        "withdrew 1 dispute of a missed meeting"
    ) in history(facilitator, congregation, "en")
    assert (
        "Se cerró sin puntos un conflicto en Tuesday crew: quedan menos de dos partes; "
        "se retiró 1 reclamación por faltar a una reunión"
    ) in history(facilitator, congregation, "es")
    assert (
        "Einen Konflikt in Tuesday crew ohne Punkte geschlossen: weniger als zwei Beteiligte "
        "sind geblieben; 1 Widerspruch wegen eines verpassten Treffens zurückgezogen"
    ) in history(facilitator, congregation, "de")


def test_two_disputes_a_waiting_conflict_and_ventures_read_with_their_plurals(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    line(
        congregation,
        facilitator,
        member,
        details=[
            withdrew("disputes", 2),
            conflict_left("waits", "Tuesday crew"),
            venture_left("withdrawn", "Oak Co-op"),
            venture_left("scored", "Bread"),
            venture_left("left", "Soup"),
        ],
    )
    name = member.display_name

    assert (
        f"Withdrew 2 disputes of a missed meeting; {name} left a conflict in Tuesday crew, "
        f"which waits for the others; {name} dropped out of the venture Oak Co-op, which was "
        "withdrawn: fewer than two co-owners remain; "
        f"{name} dropped out of the venture Bread, which scored: every co-owner who remains "
        f"had confirmed; {name} dropped out of the venture Soup"
    ) in history(facilitator, congregation, "en")
    assert (
        f"Se retiraron 2 reclamaciones por faltar a reuniones; {name} dejó un conflicto en "
        "Tuesday crew, que sigue esperando a las demás personas; "
        f"{name} dejó el proyecto compartido Oak Co-op, que se retiró: quedan menos de dos "
        f"cotitulares; {name} dejó el proyecto compartido Bread, que sumó sus puntos"
    ) in history(facilitator, congregation, "es")
    assert (
        "2 Widersprüche wegen verpasster Treffen zurückgezogen; "
        f"{name} ist aus einem Konflikt in Tuesday crew ausgestiegen, der auf die anderen "
        f"wartet; {name} ist aus dem gemeinsamen Vorhaben Oak Co-op ausgestiegen"
    ) in history(facilitator, congregation, "de")


def test_an_older_line_shows_the_words_it_was_written_with(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    line(congregation, facilitator, member, detail="Withdrew 3 crew invitations")

    assert "Withdrew 3 crew invitations" in history(facilitator, congregation, "en")
    assert "Withdrew 3 crew invitations" in history(facilitator, congregation, "es")


def test_history_with_details_runs_as_many_queries_however_many_lines(
    congregation: Congregation,
    facilitator: Self,
    member: Self,
    django_assert_max_num_queries: Any,
) -> None:
    update_profile(self_=facilitator, language="es")
    client = signed_in(facilitator)
    for _ in range(10):
        line(congregation, facilitator, member, details=[withdrew("crew_invitations", 2)])
    with django_assert_max_num_queries(7 + 5):
        client.get(url("history", congregation))


def test_an_untitled_conflict_is_named_in_the_readers_language(
    crew: Crew, member: Self, crew_mate: Self, t0: datetime
) -> None:
    conflict = open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member, now=t0)
    with tenant(crew):
        untitled = Conflict.objects.select_related("crew").get(pk=conflict.pk)

    assert str(untitled) == "conflict in Tuesday crew"
    with translation.override("es"):
        assert str(untitled) == "conflicto en Tuesday crew"
    with translation.override("de"):
        assert str(untitled) == "Konflikt in Tuesday crew"
