"""Each person reads the app in their language: the browser's Accept-Language until they
choose, then their choice, made in the profile or with the switcher at the foot of every
page, signed in or not."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from congregations.models import Congregation, Self
from congregations.roster import roster_version
from congregations.services import remember_browser_language
from tests.builders import signed_in
from tests.pages import text

from ..factories import PASSWORD, SelfFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

LOGIN = reverse("account_login")
SWITCH = reverse("switch_language")


def lang(page: str) -> str:
    return page.split('<html lang="', 1)[1].split('"', 1)[0]


def test_a_visitor_reads_the_language_their_browser_asks_for() -> None:
    response = Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9,en;q=0.5")

    assert lang(text(response)) == "es"
    assert response["Content-Language"] == "es"
    assert "Accept-Language" in response["Vary"]
    assert '<label for="language">Idioma</label>' in text(response)


def test_a_language_the_app_does_not_speak_falls_back_to_english() -> None:
    assert lang(text(Client().get(LOGIN, HTTP_ACCEPT_LANGUAGE="fr-FR,fr"))) == "en"


def test_a_self_who_chose_german_reads_german_whatever_the_browser_says(
    congregation: Congregation, member: Self
) -> None:
    member.language = "de"
    member.save()

    page = text(signed_in(member).get(f"/c/{congregation.slug}/", HTTP_ACCEPT_LANGUAGE="es"))

    assert lang(page) == "de"


def test_a_self_who_has_not_chosen_reads_their_browsers_language(
    congregation: Congregation, member: Self
) -> None:
    page = text(signed_in(member).get(f"/c/{congregation.slug}/", HTTP_ACCEPT_LANGUAGE="es"))

    assert lang(page) == "es"


def test_the_switcher_keeps_a_visitors_choice_over_their_browser() -> None:
    client = Client()

    response = client.post(SWITCH, {"language": "de", "next": LOGIN}, HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 302
    assert response["Location"] == LOGIN
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    assert lang(text(client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="es"))) == "de"


def test_the_switcher_is_a_signed_in_selfs_choice_kept_in_their_profile(
    congregation: Congregation, member: Self
) -> None:
    client = signed_in(member)
    home = f"/c/{congregation.slug}/"

    client.post(SWITCH, {"language": "es", "next": home})

    member.refresh_from_db()
    assert member.language == "es"
    assert member.email_language == "es"
    # Another device of theirs, whose browser asks for German and holds no cookie, too.
    assert lang(text(signed_in(member).get(home, HTTP_ACCEPT_LANGUAGE="de"))) == "es"


def test_the_switcher_changes_nothing_for_a_language_it_does_not_offer(member: Self) -> None:
    client = signed_in(member)

    response = client.post(SWITCH, {"language": "fr", "next": LOGIN})

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    member.refresh_from_db()
    assert member.language == ""


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_the_switcher_goes_back_only_to_a_page_of_the_app(elsewhere: str) -> None:
    response = Client().post(SWITCH, {"language": "es", "next": elsewhere})

    assert response["Location"] == reverse("home")


def test_the_switcher_changes_language_only_by_post(member: Self) -> None:
    response = signed_in(member).get(SWITCH, {"language": "es"})

    assert response.status_code == 405
    member.refresh_from_db()
    assert member.language == ""


def test_every_page_offers_the_switcher_with_each_language_named_in_itself(
    congregation: Congregation, member: Self
) -> None:
    for page in (
        text(Client().get(LOGIN)),
        text(signed_in(member).get(f"/c/{congregation.slug}/")),
    ):
        assert f'action="{SWITCH}"' in page
        assert '<option value="es" lang="es">Español</option>' in page
        assert '<option value="de" lang="de">Deutsch</option>' in page


def test_signing_in_remembers_the_browsers_language_for_emails_until_they_choose() -> None:
    person = SelfFactory.create(email="ana@example.net")
    assert person.email_language == "en"

    Client().post(
        LOGIN, {"login": person.email, "password": PASSWORD}, HTTP_ACCEPT_LANGUAGE="de-DE,de"
    )

    person.refresh_from_db()
    assert person.browser_language == "de"
    assert person.email_language == "de"
    person.language = "es"
    assert person.email_language == "es"


def test_the_profile_offers_the_language_and_the_browsers_as_the_default(member: Self) -> None:
    client = signed_in(member)
    page = text(client.get(reverse("profile")))

    assert '<option value="" selected>The language of my browser</option>' in page


def test_choosing_a_language_keeps_the_congregations_cached_pages(
    congregation: Congregation, member: Self
) -> None:
    """Nobody else sees a Self's language: choosing one drops no page cached for others."""
    before = roster_version(congregation.pk)

    signed_in(member).post(SWITCH, {"language": "de", "next": LOGIN})
    remember_browser_language(self_=member, language="es")

    assert roster_version(congregation.pk) == before
