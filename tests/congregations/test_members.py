"""The members page: roles, removing, leaving, and the notice that it may be time to split."""

from __future__ import annotations

import pytest
from django.test import Client

from congregations.models import Congregation, Membership, MembershipEvent, Role, Self
from congregations.tenancy import tenant
from tests.builders import congregation_url, membership_of
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_members_see_everyone_with_role_and_joined_date(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(member)

    response = client.get(congregation_url("members", congregation))

    assert response.status_code == 200
    page = text(response)
    assert facilitator.display_name in page and member.display_name in page
    joined = membership_of(member, congregation).joined_at
    assert f"joined {joined.astimezone(member.timezone):%-d %B %Y}" in page
    assert "Make facilitator" not in page  # only facilitators manage
    assert "Remove…" not in page


def test_facilitators_see_buttons_to_manage(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)

    page = client.get(congregation_url("members", congregation)).content.decode()

    target = membership_of(member, congregation)
    assert congregation_url("change_role", congregation, pk=target.pk) in page
    assert congregation_url("remove_member", congregation, pk=target.pk) in page


def test_the_members_page_takes_no_post(
    client: Client, congregation: Congregation, member: Self
) -> None:
    client.force_login(member)

    assert client.post(congregation_url("members", congregation)).status_code == 405


def test_the_members_page_runs_a_bounded_number_of_queries(
    client: Client,
    congregation: Congregation,
    facilitator: Self,
    django_assert_max_num_queries: object,
) -> None:
    MembershipFactory.create_batch(200, congregation=congregation)
    client.force_login(facilitator)

    # 8, and the walls' fixed cost per request: the congregation's lookup, a SAVEPOINT and
    # its RELEASE, and the two set_config statements that enter and leave them.
    with django_assert_max_num_queries(8 + 5):  # type: ignore[operator]
        response = client.get(congregation_url("members", congregation))

    assert response.content.decode().count('class="badge') == 201


def test_past_the_soft_threshold_facilitators_are_told_it_may_be_time_to_split(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    congregation.soft_size_threshold = 1
    congregation.save()

    client.force_login(facilitator)
    facilitators_page = client.get(congregation_url("members", congregation)).content.decode()
    client.force_login(member)
    members_page = client.get(congregation_url("members", congregation)).content.decode()

    assert "time to split in two" in facilitators_page
    assert "time to split in two" not in members_page


def test_at_the_soft_threshold_there_is_no_notice(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    congregation.soft_size_threshold = 2
    congregation.save()
    client.force_login(facilitator)

    page = client.get(congregation_url("members", congregation)).content.decode()

    assert "time to split in two" not in page


def test_a_facilitator_promotes_a_member(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)
    target = membership_of(member, congregation)

    response = client.post(
        congregation_url("change_role", congregation, pk=target.pk), {"role": "facilitator"}
    )

    assert response.status_code == 302
    assert response["Location"] == congregation_url("members", congregation)
    assert membership_of(member, congregation).role == Role.FACILITATOR
    with tenant(congregation):
        assert MembershipEvent.objects.filter(action="promoted", subject=member).exists()


def test_with_htmx_the_changed_row_comes_back(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)
    target = membership_of(member, congregation)

    response = client.post(
        congregation_url("change_role", congregation, pk=target.pk),
        {"role": "facilitator"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    row = response.content.decode()
    assert row.strip().startswith(f'<li id="member-{target.pk}">')
    assert "<html" not in row
    assert f"{member.display_name} is now a facilitator." in text(response)
    assert "Make member" in row


def test_the_last_facilitator_is_told_why_they_cannot_step_down(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)
    own = membership_of(facilitator, congregation)

    response = client.post(
        congregation_url("change_role", congregation, pk=own.pk), {"role": "member"}, follow=True
    )

    assert "needs at least one facilitator" in response.content.decode()
    assert membership_of(facilitator, congregation).role == Role.FACILITATOR


def test_the_refusal_shows_in_the_row_with_htmx(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)
    own = membership_of(facilitator, congregation)

    response = client.post(
        congregation_url("change_role", congregation, pk=own.pk),
        {"role": "member"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert "needs at least one facilitator" in response.content.decode()


def test_a_role_that_does_not_exist_is_refused(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)
    target = membership_of(member, congregation)

    response = client.post(
        congregation_url("change_role", congregation, pk=target.pk), {"role": "king"}, follow=True
    )

    assert "Choose facilitator or member" in response.content.decode()
    assert membership_of(member, congregation).role == Role.MEMBER


def test_members_cannot_change_roles(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    client.force_login(member)
    target = membership_of(crew_mate, congregation)
    url = congregation_url("change_role", congregation, pk=target.pk)

    assert client.post(url, {"role": "facilitator"}).status_code == 403
    assert client.get(url).status_code == 405
    assert membership_of(crew_mate, congregation).role == Role.MEMBER


def test_a_membership_of_another_congregation_is_not_found(
    client: Client, congregation: Congregation, facilitator: Self, outsider: Self
) -> None:
    client.force_login(facilitator)
    theirs = membership_of(outsider, Congregation.objects.get(name="Elsewhere"))

    for name in ("change_role", "remove_member"):
        url = congregation_url(name, congregation, pk=theirs.pk)
        assert client.post(url, {"role": "facilitator"}).status_code == 404
    with tenant(theirs):
        theirs.refresh_from_db()
    assert (theirs.role, theirs.left_at) == (Role.MEMBER, None)


def test_removing_asks_first_then_removes(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)
    url = congregation_url("remove_member", congregation, pk=membership_of(member, congregation).pk)

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert f"Remove {member.display_name} from Kotahi?" in text(confirm)
    assert membership_of(member, congregation).left_at is None

    response = client.post(url)

    assert response.status_code == 302
    with tenant(congregation):
        assert (
            not Membership.objects.current()
            .filter(congregation=congregation, member=member)
            .exists()
        )
        assert MembershipEvent.objects.filter(action="removed", subject=member).exists()
    client.force_login(member)
    assert client.get(congregation_url("members", congregation)).status_code == 404


def test_members_cannot_remove(
    client: Client, congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    client.force_login(member)
    url = congregation_url(
        "remove_member", congregation, pk=membership_of(crew_mate, congregation).pk
    )

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert client.put(url).status_code == 405
    assert membership_of(crew_mate, congregation).left_at is None


def test_a_member_leaves(client: Client, congregation: Congregation, member: Self) -> None:
    client.force_login(member)
    url = congregation_url("leave", congregation)

    assert client.get(url).status_code == 200
    response = client.post(url, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert "You have left Kotahi." in response.content.decode()
    with tenant(congregation):
        assert (
            not Membership.objects.current()
            .filter(congregation=congregation, member=member)
            .exists()
        )
        assert MembershipEvent.objects.filter(action="left", actor=member).exists()


def test_the_last_facilitator_cannot_leave_the_others_behind(
    client: Client, congregation: Congregation, facilitator: Self, member: Self
) -> None:
    client.force_login(facilitator)

    response = client.post(congregation_url("leave", congregation))

    assert response.status_code == 200
    assert "needs at least one facilitator" in response.content.decode()
    assert membership_of(facilitator, congregation).left_at is None


def test_leaving_takes_only_get_and_post(
    client: Client, congregation: Congregation, member: Self
) -> None:
    client.force_login(member)

    assert client.delete(congregation_url("leave", congregation)).status_code == 405
    assert membership_of(member, congregation).left_at is None
