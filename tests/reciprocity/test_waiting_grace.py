"""What waits for a Self across congregations: each meeting to log on its own
congregation's grace period, and none of a crew the Self has left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from congregations.models import Congregation, Membership, Self
from congregations.tenancy import tenant
from crews.models import Crew
from crews.services import form_crew, leave_crew
from reciprocity.selectors.waiting import waiting_for
from tests.builders import scheduled_meeting
from tests.factories import CongregationFactory, MembershipFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_each_congregation_keeps_its_own_grace_and_a_left_crew_asks_nothing(
    crew: Crew, congregation: Congregation, member: Self
) -> None:
    now = timezone.now()
    Congregation.objects.filter(pk=congregation.pk).update(meeting_grace_hours=12)
    elsewhere = CongregationFactory.create(name="Elsewhere", meeting_grace_hours=72)
    MembershipFactory.create(congregation=elsewhere, member=member)
    mates = [MembershipFactory.create(congregation=elsewhere).member for _ in range(2)]
    theirs = form_crew(
        congregation=elsewhere,
        name="Theirs",
        members=[member, *mates],
        now=now - timedelta(days=30),
    )
    left = form_crew(
        congregation=elsewhere,
        name="Left",
        members=[member, *mates],
        now=now - timedelta(days=30),
    )
    ours_meeting = scheduled_meeting(crew, now - timedelta(hours=24))
    theirs_meeting = scheduled_meeting(theirs, now - timedelta(hours=24))
    scheduled_meeting(left, now - timedelta(hours=24))
    leave_crew(crew=left, member=member, now=now - timedelta(hours=1))

    for _ in range(2):  # compiled, then bound
        found = [w for w in waiting_for(self_=member, now=now) if w.kind == "meeting_to_log"]
        assert [(w.path.rstrip("/").split("/")[-1], w.until) for w in found] == [
            (str(theirs_meeting.pk), theirs_meeting.starts_at + timedelta(hours=72))
        ]
    with tenant(congregation):
        membership = Membership.objects.select_related("congregation").get(member=member)
        mine = waiting_for(self_=member, now=now, membership=membership)
    assert [w for w in mine if w.kind == "meeting_to_log"] == []
    assert ours_meeting.starts_at + timedelta(hours=12) < now
