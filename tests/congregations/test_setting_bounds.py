"""Settings that cannot break the game: every setting within its bounds, the cap never
below the people counted against it, and no one joining past the cap."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from congregations.models import SETTING_BOUNDS, Congregation, Membership, Self
from congregations.selectors import congregation_size
from congregations.services import (
    accept_invitation,
    invite,
    sign_up_with_invitation,
    update_settings,
)
from congregations.tenancy import tenant
from tests.builders import congregation_url, refused, snapshot
from tests.factories import SelfFactory

pytestmark = pytest.mark.django_db


def settings_with(field: str, value: int) -> dict[str, Any]:
    """``field`` set to ``value``, with the size setting it must agree with made room for,
    so that only ``value`` itself is tried."""
    values = {field: value}
    if field == "soft_size_threshold":
        values["hard_size_cap"] = SETTING_BOUNDS["hard_size_cap"][1]
    if field == "hard_size_cap":
        values["soft_size_threshold"] = SETTING_BOUNDS["soft_size_threshold"][0]
    return values


EDGES = [
    pytest.param(field, edge, id=f"{field}={edge}")
    for field, (least, most) in SETTING_BOUNDS.items()
    for edge in (least, most)
]
OUTSIDE = [
    pytest.param(field, value, id=f"{field}={value}")
    for field, (least, most) in SETTING_BOUNDS.items()
    for value in (least - 1, most + 1)
]


@pytest.mark.parametrize(("field", "value"), EDGES)
def test_every_setting_is_accepted_at_its_edge(
    congregation: Congregation, facilitator: Self, field: str, value: int
) -> None:
    update_settings(
        congregation=congregation, changed_by=facilitator, **settings_with(field, value)
    )

    congregation.refresh_from_db()
    assert getattr(congregation, field) == value


@pytest.mark.parametrize(("field", "value"), OUTSIDE)
def test_every_setting_is_refused_just_outside_its_bounds_next_to_its_field(
    congregation: Congregation, facilitator: Self, field: str, value: int
) -> None:
    before = snapshot()

    with pytest.raises(ValidationError) as caught:
        update_settings(
            congregation=congregation, changed_by=facilitator, **settings_with(field, value)
        )

    assert list(caught.value.error_dict) == [field]
    assert snapshot() == before


def test_a_grace_period_of_zero_is_refused(congregation: Congregation, facilitator: Self) -> None:
    with refused("A crew needs at least 12 hours to log its meeting"):
        update_settings(congregation=congregation, changed_by=facilitator, meeting_grace_hours=0)


def test_the_cap_cannot_be_lowered_below_the_members_and_pending_invitations(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    invite(
        congregation=congregation, email="ana@example.net", invited_by=facilitator, send_email=False
    )
    lower: dict[str, Any] = {"hard_size_cap": 2, "soft_size_threshold": 2}

    with refused("Kotahi has 2 members and 1 pending invitations: the cap cannot be lower than 3"):
        update_settings(congregation=congregation, changed_by=facilitator, **lower)
    with pytest.raises(ValidationError) as caught:
        update_settings(congregation=congregation, changed_by=facilitator, **lower)
    assert list(caught.value.error_dict) == ["hard_size_cap"]

    lowered = update_settings(
        congregation=congregation, changed_by=facilitator, hard_size_cap=3, soft_size_threshold=3
    )
    with tenant(lowered):
        assert congregation_size(congregation=lowered).at_cap


def test_a_refused_cap_is_explained_next_to_its_field_on_the_page(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)
    url = congregation_url("settings", congregation)
    form = client.get(url).context["form"]
    values = {name: form[name].value() for name in form.fields}

    response = client.post(url, values | {"hard_size_cap": 1, "soft_size_threshold": 1})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "hard_size_cap": ["A congregation needs room for at least 2 people."]
    }


def test_each_number_on_the_settings_page_carries_the_bounds_of_its_validators(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)

    page = client.get(congregation_url("settings", congregation)).content.decode()

    for field, (least, most) in SETTING_BOUNDS.items():
        tag = re.search(rf'<input type="number" name="{field}"[^>]*>', page)
        assert tag is not None, field
        assert f'min="{least}"' in tag[0] and f'max="{most}"' in tag[0], tag[0]


# Joining at the cap


def at_cap_with_invitations(
    congregation: Congregation, facilitator: Self, count: int
) -> list[tuple[Self, str]]:
    """``count`` people invited while there was room, then the cap lowered to the members
    alone plus one: the state invitations sent before a cap was lowered are in (lowering it
    below them is refused now). Returns each invited Self and their link's token."""
    invited = []
    for n in range(count):
        email = f"guest{n}@example.net"
        _, token = invite(
            congregation=congregation, email=email, invited_by=facilitator, send_email=False
        )
        invited.append((SelfFactory.create(email=email), token))
    with tenant(congregation):
        members = congregation_size(congregation=congregation).members
    Congregation.objects.filter(pk=congregation.pk).update(
        hard_size_cap=members + 1, soft_size_threshold=members + 1
    )
    return invited


def test_accepting_at_the_cap_counting_ones_own_invitation_joins(
    congregation: Congregation, facilitator: Self
) -> None:
    """Members plus pending invitations fill the cap: the invitation accepted is one of
    them, so the congregation does not grow past it."""
    congregation = update_settings(
        congregation=congregation, changed_by=facilitator, hard_size_cap=2, soft_size_threshold=2
    )
    _, token = invite(
        congregation=congregation, email="ana@example.net", invited_by=facilitator, send_email=False
    )
    with tenant(congregation):
        assert congregation_size(congregation=congregation).at_cap

    membership = accept_invitation(token=token, self_=SelfFactory.create(email="ana@example.net"))

    assert membership.congregation == congregation
    with tenant(congregation):
        assert congregation_size(congregation=congregation).members == 2


def test_accepting_once_the_members_alone_fill_the_cap_is_refused(
    congregation: Congregation, facilitator: Self
) -> None:
    (first, first_token), (second, second_token) = at_cap_with_invitations(
        congregation, facilitator, 2
    )
    accept_invitation(token=first_token, self_=first)

    with refused("Kotahi is full: it has reached its cap of 2 members"):
        accept_invitation(token=second_token, self_=second)
    with tenant(congregation):
        assert not Membership.objects.filter(member=second).exists()


def test_signing_up_once_the_members_alone_fill_the_cap_is_refused_and_makes_no_account(
    congregation: Congregation, facilitator: Self
) -> None:
    _, token = invite(
        congregation=congregation, email="ana@example.net", invited_by=facilitator, send_email=False
    )
    [(guest, guest_token)] = at_cap_with_invitations(congregation, facilitator, 1)
    accept_invitation(token=guest_token, self_=guest)

    with refused("Kotahi is full"):
        sign_up_with_invitation(token=token, display_name="Ana", password="a-long-password-1")
    assert not Self.objects.filter(email="ana@example.net").exists()
