"""The navigation's congregation switcher: the Self's own congregations, read when it is
opened, and a link to all of them for a browser without JavaScript."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from congregations.models import Congregation, Self
from congregations.services.congregations import update_settings
from tests.builders import signed_in
from tests.pages import text

from ..factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_the_switcher_lists_the_selfs_congregations_and_no_others(
    congregation: Congregation, member: Self
) -> None:
    MembershipFactory.create(member=member, congregation=CongregationFactory.create(name="Harbour"))
    CongregationFactory.create(name="Elsewhere")

    listed = text(signed_in(member).get(reverse("switcher")))

    assert f">{congregation.name}</a>" in listed
    assert ">Harbour</a>" in listed
    assert "Elsewhere" not in listed
    assert f'href="{reverse("home")}">All your congregations</a>' in listed


def test_a_page_loads_the_switcher_only_when_it_opens(
    congregation: Congregation, member: Self
) -> None:
    page = text(signed_in(member).get(f"/c/{congregation.slug}/"))

    assert (
        f'data-hx-get="{reverse("switcher")}" data-hx-trigger="toggle once from:closest details"'
        in page
    )
    assert "All your congregations" in page  # what a browser without JavaScript opens


def test_the_switcher_is_for_the_signed_in(client: Client) -> None:
    response = client.get(reverse("switcher"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_menu_shown_once_to_many_follows_the_role_the_page_the_name_and_the_language(
    congregation: Congregation, member: Self, facilitator: Self
) -> None:
    """The congregation's menu is rendered once for everyone it is the same for
    (congregations/templatetags/menus.py): what tells them apart must still show."""
    home = f"/c/{congregation.slug}/"
    settings_link = reverse("congregations:settings", args=[congregation.slug])
    people = reverse("crews:people", args=[congregation.slug])

    assert settings_link in text(signed_in(facilitator).get(home))
    assert settings_link not in text(signed_in(member).get(home))
    assert f'href="{people}" aria-current="false"' in text(signed_in(member).get(home))
    assert f'href="{people}" aria-current="page"' in text(signed_in(member).get(people))

    update_settings(congregation=congregation, changed_by=facilitator, name="Harbour Lights")
    assert ">Harbour Lights</a>" in text(signed_in(member).get(home))

    german = text(signed_in(member).get(home, HTTP_ACCEPT_LANGUAGE="de"))
    assert ">Menschen</a>" in german
