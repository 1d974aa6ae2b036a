"""The congregation's pages read whole in Spanish and German: the navigation, the headings
and the counts, with each language's own plural forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from congregations.guards import refuse_strangers
from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.services import form_crew
from tests.builders import new_members, signed_in
from tests.factories import SelfFactory
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

# What the home's navigation and headings say in each language.
HOME = {
    "en": ["Notifications", "Sign out", "My crews and dyads", "Crews and dyads", "Privacy"],
    "es": ["Avisos", "Salir", "Mis equipos y díadas", "Equipos y díadas", "Privacidad"],
    "de": [
        "Benachrichtigungen",
        "Abmelden",
        "Meine Crews und Dyaden",
        "Crews und Dyaden",
        "Datenschutz",
    ],
}


@pytest.mark.parametrize("language", ["es", "de"])
def test_the_congregation_home_is_in_the_language_the_browser_asks_for(
    congregation: Congregation, member: Self, language: str
) -> None:
    page = text(signed_in(member).get(f"/c/{congregation.slug}/", HTTP_ACCEPT_LANGUAGE=language))

    assert f'<html lang="{language}">' in page
    for words in HOME[language]:
        assert words in page
    for english in HOME["en"]:
        assert english not in page


# "In one crew" and "in 3 crews": each language's own forms of the count and its noun.
IN_CREWS = {
    "en": ("in one crew", "in 3 crews"),
    "es": ("en un equipo", "en 3 equipos"),
    "de": ("in einer Crew", "in 3 Crews"),
}


@pytest.mark.parametrize("language", ["en", "es", "de"])
def test_a_self_in_one_crew_and_one_in_three_read_in_each_languages_plural(
    congregation: Congregation, member: Self, language: str
) -> None:
    busy, *others = new_members(congregation, 7)
    long_ago = timezone.now() - timedelta(days=90)
    form_crew(
        congregation=congregation, name="Alder", members=[member, busy, others[0]], now=long_ago
    )
    form_crew(congregation=congregation, name="Birch", members=[busy, *others[1:3]], now=long_ago)
    form_crew(congregation=congregation, name="Cedar", members=[busy, *others[3:6]], now=long_ago)

    page = text(
        signed_in(member).get(f"/c/{congregation.slug}/people/", HTTP_ACCEPT_LANGUAGE=language)
    )

    one, three = IN_CREWS[language]
    assert card_of(page, member).count(one) == 1
    assert card_of(page, busy).count(three) == 1


def card_of(page: str, self_: Self) -> str:
    return page.split(f'data-self="{self_.pk}"', 1)[1].split("</li>", 1)[0]


def test_a_refusal_naming_people_agrees_with_how_many_it_names(
    congregation: Congregation, outsider: Self
) -> None:
    """Spanish and German verbs agree with one name or several; English says it one way."""
    second = SelfFactory.create()
    said = {}
    for language in ("en", "es", "de"):
        for strangers in ([outsider], [outsider, second]):
            with (
                tenant(congregation),
                translation.override(language),
                pytest.raises(ValidationError) as refusal,
            ):
                refuse_strangers(congregation=congregation, selves=strangers)
            said[language, len(strangers)] = refusal.value.messages[0]

    assert said["en", 1].startswith("Not a member of")
    assert said["es", 1].startswith("No es miembro de")
    assert said["es", 2].startswith("No son miembros de")
    assert said["de", 1].startswith("Kein Mitglied von")
    assert said["de", 2].startswith("Keine Mitglieder von")
