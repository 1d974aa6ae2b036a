"""Settings and the membership history: for facilitators only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils.http import urlencode

from congregations.models import Congregation, MembershipEvent, Self
from congregations.services import SETTINGS_FIELDS, invite, update_settings
from congregations.tenancy import tenant
from tests.builders import congregation_url
from tests.pages import text

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def current_settings(congregation: Congregation, **changes: Any) -> dict[str, Any]:
    return {field: getattr(congregation, field) for field in SETTINGS_FIELDS} | changes


def test_a_facilitator_changes_the_settings(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)
    url = congregation_url("settings", congregation)
    assert client.get(url).status_code == 200

    response = client.post(
        url,
        current_settings(
            congregation,
            name="Kotahi Collective",
            invitation_quota=3,
            soft_size_threshold=80,
            hard_size_cap=150,
            invitation_lifetime_days=7,
            meeting_grace_hours=24,
            conflict_deadline_days=21,
            reminder_lead_hours=12,
        ),
    )

    assert response.status_code == 302
    congregation.refresh_from_db()
    assert congregation.name == "Kotahi Collective"
    assert (congregation.invitation_quota, congregation.hard_size_cap) == (3, 150)
    assert (congregation.invitation_lifetime_days, congregation.reminder_lead_hours) == (7, 12)
    with tenant(congregation):
        assert MembershipEvent.objects.filter(action="settings", actor=facilitator).exists()


def test_the_history_says_which_settings_changed_from_what_to_what(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)
    old_name, old_quota = congregation.name, congregation.invitation_quota
    changes = {"name": "Kotahi Collective", "invitation_quota": old_quota + 2}
    client.post(
        congregation_url("settings", congregation), current_settings(congregation, **changes)
    )

    page = text(client.get(congregation_url("history", congregation)))

    assert f"Name: {old_name} → Kotahi Collective" in page
    assert f"Invitations each member may send: {old_quota} → {old_quota + 2}" in page
    assert "Purpose:" not in page  # what did not change is not listed


def test_a_long_value_is_quoted_short_in_the_history(
    congregation: Congregation, facilitator: Self
) -> None:
    purpose = "Growing food together " * 10

    update_settings(congregation=congregation, changed_by=facilitator, purpose=purpose)
    update_settings(congregation=congregation, changed_by=facilitator, purpose="Gardens")

    with tenant(congregation):
        last = MembershipEvent.objects.filter(action="settings").latest("at", "pk")
    assert last.described() == f"Purpose: {purpose[:59].rstrip()}… → Gardens"


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"soft_size_threshold": 300}, "soft_size_threshold", "cannot be more than"),
        ({"hard_size_cap": 1, "soft_size_threshold": 1}, "hard_size_cap", "at least 2"),
        ({"invitation_lifetime_days": 0}, "invitation_lifetime_days", "a day at least"),
        ({"invitation_quota": -1}, "invitation_quota", "greater than or equal to 0"),
        ({"name": ""}, "name", "required"),
    ],
)
def test_a_refused_setting_is_explained_next_to_its_field_and_nothing_changes(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    changes: dict[str, Any],
    field: str,
    says: str,
) -> None:
    client.force_login(facilitator)

    response = client.post(
        congregation_url("settings", congregation), current_settings(congregation, **changes)
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert says in errors[field][0]
    with tenant(congregation):
        assert not MembershipEvent.objects.filter(action="settings").exists()
    before = current_settings(congregation)
    congregation.refresh_from_db()
    assert current_settings(congregation) == before


def test_members_may_not_see_or_change_the_settings(
    client: Client, congregation: Congregation, member: Self
) -> None:
    client.force_login(member)
    url = congregation_url("settings", congregation)

    assert client.get(url).status_code == 403
    assert client.post(url, current_settings(congregation, name="Ours")).status_code == 403
    congregation.refresh_from_db()
    assert congregation.name == "Kotahi"


def test_the_settings_take_only_get_and_post(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)

    assert client.delete(congregation_url("settings", congregation)).status_code == 405


def test_the_history_shows_who_did_what_when_in_the_viewers_timezone(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    facilitator.timezone = "Pacific/Auckland"
    facilitator.save()
    invite(
        congregation=congregation,
        email="ben@example.net",
        invited_by=member,
        send_email=False,
        now=datetime(2025, 1, 15, 22, 30, tzinfo=UTC),
    )
    client.force_login(facilitator)

    response = client.get(congregation_url("history", congregation))

    assert response.status_code == 200
    page = text(response)
    # 22:30 UTC is 11:30 the next morning in Auckland's summer.
    assert "16 Jan 2025, 11:30" in page
    row = page[page.index("16 Jan 2025, 11:30") :]
    assert member.display_name in row[:300] and "ben@example.net" in row[:400]


def test_the_history_is_paged(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    with tenant(congregation):
        MembershipEvent.objects.bulk_create(
            MembershipEvent(congregation=congregation, actor=facilitator, action="settings")
            for _ in range(60)
        )
    client.force_login(facilitator)

    first = client.get(congregation_url("history", congregation))
    second = client.get(f"{congregation_url('history', congregation)}?{urlencode({'page': 2})}")

    assert len(first.context["page"]) == 50
    assert len(second.context["page"]) == 10
    assert "page 2 of 2" in second.content.decode()


def test_the_history_runs_a_bounded_number_of_queries(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(30):
        invite(
            congregation=congregation,
            email=f"p{n}@example.net",
            invited_by=facilitator,
            send_email=False,
        )
    client.force_login(facilitator)

    # 7, and the walls' fixed cost per request: the congregation's lookup, a SAVEPOINT and
    # its RELEASE, and the two set_config statements that enter and leave them.
    with django_assert_max_num_queries(7 + 5):
        client.get(congregation_url("history", congregation))


def test_members_may_not_see_the_history(
    client: Client, congregation: Congregation, member: Self
) -> None:
    client.force_login(member)

    assert client.get(congregation_url("history", congregation)).status_code == 403
    assert client.post(congregation_url("history", congregation)).status_code == 405
