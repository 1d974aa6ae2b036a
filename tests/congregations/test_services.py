"""The rules of congregations, memberships and invitations, through the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from congregations.models import (
    DEFAULT_PURPOSE,
    Congregation,
    Invitation,
    Membership,
    MembershipEvent,
    Role,
    Self,
)
from congregations.selectors import (
    congregation_size,
    invitations_left,
    open_invitation,
    visible_invitations,
)
from congregations.services import (
    accept_invitation,
    change_role,
    create_congregation,
    invite,
    invite_each,
    leave_congregation,
    remove_member,
    resend_invitation,
    revoke_invitation,
    sign_up_with_invitation,
    update_profile,
    update_settings,
)
from congregations.tenancy import across_congregations, tenant
from congregations.tokens import hash_token
from tests.builders import membership_of

from ..factories import MembershipFactory, SelfFactory

pytestmark = pytest.mark.django_db


def test_starting_a_congregation_makes_its_first_facilitator() -> None:
    ana = SelfFactory.create()

    congregation = create_congregation(name="Kotahi Collective", facilitator=ana)

    assert congregation.slug == "kotahi-collective"
    assert congregation.purpose == DEFAULT_PURPOSE
    assert (congregation.invitation_quota, congregation.soft_size_threshold) == (2, 100)
    assert (congregation.hard_size_cap, congregation.invitation_lifetime_days) == (200, 14)
    assert (congregation.meeting_grace_hours, congregation.conflict_deadline_days) == (48, 30)
    assert congregation.reminder_lead_hours == 24
    assert membership_of(ana, congregation).role == Role.FACILITATOR
    with tenant(congregation):
        assert MembershipEvent.objects.get(congregation=congregation).action == "created"


def test_two_congregations_with_one_name_get_two_slugs() -> None:
    first = create_congregation(name="Kotahi", facilitator=SelfFactory.create())
    second = create_congregation(name="Kotahi", facilitator=SelfFactory.create())

    assert (first.slug, second.slug) == ("kotahi", "kotahi-2")


def test_a_congregation_needs_a_name_and_writes_nothing_without_one() -> None:
    with pytest.raises(ValidationError) as refused:
        create_congregation(name="  ", facilitator=SelfFactory.create())

    assert "name" in refused.value.message_dict
    # Nothing anywhere: there is no congregation whose walls to look inside.
    with across_congregations():
        assert not Congregation.objects.exists()
        assert not Membership.objects.exists()


def test_settings_change_and_are_recorded(congregation: Congregation, facilitator: Self) -> None:
    update_settings(
        congregation=congregation, changed_by=facilitator, invitation_quota=5, purpose="food"
    )

    congregation.refresh_from_db()
    assert (congregation.invitation_quota, congregation.purpose) == (5, "food")
    with tenant(congregation):
        assert MembershipEvent.objects.filter(congregation=congregation, action="settings").exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"soft_size_threshold": 250}, "soft_size_threshold"),
        ({"hard_size_cap": 1, "soft_size_threshold": 1}, "hard_size_cap"),
        ({"invitation_lifetime_days": 0}, "invitation_lifetime_days"),
        ({"conflict_deadline_days": 0}, "conflict_deadline_days"),
    ],
)
def test_settings_that_make_no_sense_are_refused_by_field(
    congregation: Congregation, facilitator: Self, values: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        update_settings(congregation=congregation, changed_by=facilitator, **values)

    assert list(refused.value.message_dict) == [field]
    assert "Constraint" not in str(refused.value)  # words a facilitator understands
    with tenant(congregation):
        assert not MembershipEvent.objects.filter(action="settings").exists()
    congregation.refresh_from_db()
    assert congregation.hard_size_cap == 200


def test_only_facilitators_change_settings(congregation: Congregation, member: Self) -> None:
    with pytest.raises(ValidationError, match="manage the congregation"):
        update_settings(congregation=congregation, changed_by=member, name="Mine now")

    congregation.refresh_from_db()
    assert congregation.name == "Kotahi"


def test_an_invitation_stores_only_a_hash_of_its_token(
    congregation: Congregation, facilitator: Self, mailoutbox: list
) -> None:
    invitation, token = invite(
        congregation=congregation, email=" Ben@Example.NET ", invited_by=facilitator
    )

    assert invitation.email == "ben@example.net"
    assert invitation.token_hash == hash_token(token) != token
    assert invitation.expires_at - invitation.sent_at == timedelta(days=14)
    assert open_invitation(token) == invitation


@pytest.mark.parametrize(
    ("email", "says"),
    [
        ("not an address", "is not an email address"),
        ("", "is not an email address"),
    ],
)
def test_an_invalid_address_is_refused(
    congregation: Congregation, facilitator: Self, email: str, says: str
) -> None:
    with pytest.raises(ValidationError, match=says) as refused:
        invite(congregation=congregation, email=email, invited_by=facilitator)

    assert "email" in refused.value.message_dict
    with tenant(congregation):
        assert not Invitation.objects.exists()


def test_inviting_a_member_says_so(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    with pytest.raises(ValidationError, match="already a member"):
        invite(congregation=congregation, email=member.email.upper(), invited_by=facilitator)


def test_inviting_twice_says_so_instead_of_sending_twice(
    congregation: Congregation, facilitator: Self
) -> None:
    invite(congregation=congregation, email="ben@example.net", invited_by=facilitator)

    with pytest.raises(ValidationError, match="invited already"):
        invite(congregation=congregation, email="BEN@example.net", invited_by=facilitator)

    with tenant(congregation):
        assert Invitation.objects.count() == 1


def test_inviting_again_after_expiry_renews_the_one_invitation(
    congregation: Congregation, facilitator: Self
) -> None:
    now = timezone.now()
    first, old_token = invite(
        congregation=congregation, email="ben@example.net", invited_by=facilitator, now=now
    )

    later = now + timedelta(days=15)
    again, token = invite(
        congregation=congregation, email="ben@example.net", invited_by=facilitator, now=later
    )

    assert again.pk == first.pk
    assert again.expires_at == later + timedelta(days=14)
    assert open_invitation(old_token, now=later) is None
    assert open_invitation(token, now=later) == again


def test_members_invite_up_to_the_quota(congregation: Congregation, member: Self) -> None:
    membership = membership_of(member, congregation)
    with tenant(congregation):
        assert invitations_left(membership=membership) == 2
    invite(congregation=congregation, email="a@example.net", invited_by=member)
    invite(congregation=congregation, email="b@example.net", invited_by=member)
    with tenant(congregation):
        assert invitations_left(membership=membership) == 0

    with pytest.raises(ValidationError, match="used all 2 of your invitations"):
        invite(congregation=congregation, email="c@example.net", invited_by=member)

    with tenant(congregation):
        assert Invitation.objects.count() == 2


def test_a_revoked_invitation_gives_a_member_their_invitation_back(
    congregation: Congregation, member: Self
) -> None:
    invitation, _ = invite(congregation=congregation, email="a@example.net", invited_by=member)

    revoke_invitation(invitation=invitation, revoked_by=member)

    membership = membership_of(member, congregation)
    with tenant(congregation):
        assert invitations_left(membership=membership) == 2


def test_facilitators_have_no_quota(congregation: Congregation, facilitator: Self) -> None:
    for n in range(5):
        invite(congregation=congregation, email=f"p{n}@example.net", invited_by=facilitator)

    membership = membership_of(facilitator, congregation)
    with tenant(congregation):
        assert invitations_left(membership=membership) is None


def test_the_hard_cap_counts_pending_invitations_and_says_why(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    update_settings(
        congregation=congregation, changed_by=facilitator, hard_size_cap=3, soft_size_threshold=2
    )
    invite(congregation=congregation, email="a@example.net", invited_by=facilitator)

    with pytest.raises(ValidationError, match="reached its cap of 3 people") as refused:
        invite(congregation=congregation, email="b@example.net", invited_by=facilitator)

    assert "split in two" in str(refused.value)
    with tenant(congregation):
        assert Invitation.objects.count() == 1


def test_a_batch_sends_the_valid_addresses_and_says_why_the_others_were_not(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    outcomes = invite_each(
        congregation=congregation,
        emails=["a@example.net", "nope", member.email, "b@example.net"],
        invited_by=facilitator,
        note="Come along!",
    )

    assert [bool(o.invitation) for o in outcomes] == [True, False, False, True]
    assert "not an email address" in outcomes[1].refusal
    assert "already a member" in outcomes[2].refusal
    with tenant(congregation):
        invited = set(Invitation.objects.values_list("email", "note"))
    assert invited == {
        ("a@example.net", "Come along!"),
        ("b@example.net", "Come along!"),
    }


def test_resending_makes_a_new_link_and_a_new_expiry(
    congregation: Congregation, facilitator: Self
) -> None:
    now = timezone.now()
    invitation, old_token = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, now=now
    )

    later = now + timedelta(days=3)
    _, token = resend_invitation(invitation=invitation, resent_by=facilitator, now=later)

    with tenant(invitation):
        invitation.refresh_from_db()
    assert invitation.expires_at == later + timedelta(days=14)
    assert open_invitation(old_token, now=later) is None
    assert open_invitation(token, now=later) == invitation


def test_resending_an_expired_invitation_still_respects_the_quota(
    congregation: Congregation, member: Self
) -> None:
    """An expired invitation frees its place; renewing it must fit in the quota again."""
    now = timezone.now()
    stale, _ = invite(congregation=congregation, email="a@example.net", invited_by=member, now=now)
    later = now + timedelta(days=20)
    for email in ("b@example.net", "c@example.net"):
        invite(congregation=congregation, email=email, invited_by=member, now=later)

    with pytest.raises(ValidationError, match="used all 2"):
        resend_invitation(invitation=stale, resent_by=member, now=later)

    with tenant(stale):
        stale.refresh_from_db()
    assert stale.expires_at < later


def test_resending_an_expired_invitation_still_respects_the_hard_cap(
    congregation: Congregation, facilitator: Self
) -> None:
    update_settings(
        congregation=congregation, changed_by=facilitator, hard_size_cap=2, soft_size_threshold=2
    )
    now = timezone.now()
    stale, _ = invite(
        congregation=congregation, email="a@example.net", invited_by=facilitator, now=now
    )
    later = now + timedelta(days=20)
    invite(congregation=congregation, email="b@example.net", invited_by=facilitator, now=later)

    with pytest.raises(ValidationError, match="cap of 2"):
        resend_invitation(invitation=stale, resent_by=facilitator, now=later)


def test_a_member_handles_only_the_invitations_they_sent(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    invitation, _ = invite(congregation=congregation, email="a@example.net", invited_by=facilitator)

    with pytest.raises(ValidationError, match="the person who sent it"):
        revoke_invitation(invitation=invitation, revoked_by=member)
    members, facilitators = (membership_of(m, congregation) for m in (member, facilitator))
    with tenant(congregation):
        assert invitation not in visible_invitations(membership=members)
        assert invitation in visible_invitations(membership=facilitators)


def test_accepting_joins_as_a_member_and_uses_the_link_up(
    congregation: Congregation, facilitator: Self
) -> None:
    ben = SelfFactory.create(email="ben@example.net")
    _, token = invite(congregation=congregation, email="ben@example.net", invited_by=facilitator)

    membership = accept_invitation(token=token, self_=ben)

    assert membership.role == Role.MEMBER
    with tenant(congregation):
        assert Invitation.objects.get().accepted_by == ben
    assert open_invitation(token) is None
    with pytest.raises(ValidationError, match="does not work"):
        accept_invitation(token=token, self_=ben)


def test_an_invitation_is_bound_to_the_address_it_was_sent_to(
    congregation: Congregation, facilitator: Self, outsider: Self
) -> None:
    _, token = invite(congregation=congregation, email="ben@example.net", invited_by=facilitator)

    with pytest.raises(ValidationError, match="does not work"):
        accept_invitation(token=token, self_=outsider)

    with tenant(congregation):
        assert not Membership.objects.filter(member=outsider, congregation=congregation).exists()
        assert Invitation.objects.get().accepted_at is None


def test_signing_up_creates_the_account_and_joins(
    congregation: Congregation, facilitator: Self
) -> None:
    _, token = invite(congregation=congregation, email="ben@example.net", invited_by=facilitator)

    membership = sign_up_with_invitation(
        token=token, display_name=" Ben ", password="a-good-long-password"
    )

    assert membership.member.display_name == "Ben"
    assert membership.member.check_password("a-good-long-password")


def test_a_refused_sign_up_writes_nothing(congregation: Congregation, facilitator: Self) -> None:
    _, token = invite(congregation=congregation, email="ben@example.net", invited_by=facilitator)

    with pytest.raises(ValidationError):
        sign_up_with_invitation(token=token, display_name="  ", password="a-good-long-password")

    assert not Self.objects.filter(email="ben@example.net").exists()
    assert open_invitation(token) is not None


def test_promoting_and_demoting_are_recorded(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    change_role(
        membership=membership_of(member, congregation), role="facilitator", changed_by=facilitator
    )
    change_role(
        membership=membership_of(facilitator, congregation), role="member", changed_by=member
    )

    assert membership_of(member, congregation).role == Role.FACILITATOR
    assert membership_of(facilitator, congregation).role == Role.MEMBER
    with tenant(congregation):
        events = [
            (e.action, e.subject)
            for e in MembershipEvent.objects.filter(congregation=congregation)[:2]
        ]
    assert events == [
        ("demoted", facilitator),
        ("promoted", member),
    ]


def test_the_last_facilitator_cannot_step_down(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    with pytest.raises(ValidationError, match="at least one facilitator"):
        change_role(
            membership=membership_of(facilitator, congregation),
            role="member",
            changed_by=facilitator,
        )

    assert membership_of(facilitator, congregation).role == Role.FACILITATOR
    with tenant(congregation):
        assert not MembershipEvent.objects.filter(action="demoted").exists()


def test_the_last_facilitator_cannot_leave_while_others_stay(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    with pytest.raises(ValidationError, match="at least one facilitator"):
        leave_congregation(membership=membership_of(facilitator, congregation))

    assert membership_of(facilitator, congregation).left_at is None


def test_the_only_member_can_leave(congregation: Congregation, facilitator: Self) -> None:
    leave_congregation(membership=membership_of(facilitator, congregation))

    with tenant(congregation):
        assert not Membership.objects.current().filter(congregation=congregation).exists()


def test_members_cannot_change_roles_or_remove(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    with pytest.raises(ValidationError):
        change_role(
            membership=membership_of(member, congregation), role="facilitator", changed_by=member
        )
    with pytest.raises(ValidationError):
        remove_member(membership=membership_of(crew_mate, congregation), removed_by=member)

    assert membership_of(member, congregation).role == Role.MEMBER
    assert membership_of(crew_mate, congregation).left_at is None


def test_removing_keeps_the_row_as_history(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    membership = membership_of(member, congregation)

    remove_member(membership=membership, removed_by=facilitator)

    with tenant(congregation):
        membership.refresh_from_db()
        event = MembershipEvent.objects.filter(congregation=congregation).first()
    assert membership.left_at is not None
    assert event is not None
    assert (event.actor, event.action, event.subject) == (facilitator, "removed", member)


def test_a_removed_member_can_be_invited_again(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    remove_member(membership=membership_of(member, congregation), removed_by=facilitator)

    _, token = invite(congregation=congregation, email=member.email, invited_by=facilitator)
    accept_invitation(token=token, self_=member)

    assert membership_of(member, congregation).left_at is None


def test_the_size_counts_members_and_pending_invitations(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    invite(congregation=congregation, email="a@example.net", invited_by=facilitator)
    update_settings(
        congregation=congregation, changed_by=facilitator, soft_size_threshold=1, hard_size_cap=3
    )
    congregation.refresh_from_db()

    with tenant(congregation):
        size = congregation_size(congregation=congregation)

    assert (size.members, size.pending, size.occupancy) == (2, 1, 3)
    assert size.at_cap and size.time_to_split


def test_a_profile_changes(member: Self) -> None:
    update_profile(self_=member, display_name="Ben O.", timezone="Pacific/Auckland")

    member.refresh_from_db()
    assert member.display_name == "Ben O."
    assert str(member.timezone) == "Pacific/Auckland"


def test_a_refused_profile_leaves_the_self_as_it_was(member: Self) -> None:
    name = member.display_name

    with pytest.raises(ValidationError):
        update_profile(self_=member, display_name="", paid_work="x" * 3000)

    # The caller's object too, not only the row: it is often the page's request.user.
    assert member.display_name == name
    member.refresh_from_db()
    assert member.display_name == name


def test_unknown_profile_fields_are_refused(member: Self) -> None:
    with pytest.raises(ValidationError, match="is_staff"):
        update_profile(self_=member, is_staff=True)

    member.refresh_from_db()
    assert not member.is_staff


def test_a_facilitator_of_another_congregation_has_no_say_here(
    congregation: Congregation, member: Self
) -> None:
    other = MembershipFactory.create(role=Role.FACILITATOR).member

    with pytest.raises(ValidationError):
        remove_member(membership=membership_of(member, congregation), removed_by=other)
    with pytest.raises(ValidationError):
        invite(congregation=congregation, email="a@example.net", invited_by=other)

    assert membership_of(member, congregation).left_at is None
    # Neither here nor in the other facilitator's congregation.
    with across_congregations():
        assert not Invitation.objects.exists()
