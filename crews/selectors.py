"""Read-only queries about crews, their members and their meetings."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from congregations.models import Self

from .models import Crew, CrewMembership, Meeting


def members_at(*, crew: Crew, moment: datetime) -> QuerySet[Self]:
    """The Selves who were in the crew at ``moment``."""
    ids = CrewMembership.objects.filter(crew=crew).at(moment).values("member_id")
    return Self.objects.filter(pk__in=ids).order_by("display_name")


def current_members(*, crew: Crew) -> QuerySet[Self]:
    ids = CrewMembership.objects.filter(crew=crew).current().values("member_id")
    return Self.objects.filter(pk__in=ids).order_by("display_name")


def is_current_member(*, crew: Crew, self_: Self) -> bool:
    return CrewMembership.objects.filter(crew=crew, member=self_).current().exists()


def meeting_members(*, meeting: Meeting) -> QuerySet[Self]:
    """Who was in the crew when the meeting started: the people it concerns."""
    return members_at(crew=meeting.crew, moment=meeting.starts_at)
