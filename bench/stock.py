"""What each member of the load run needs to act, made through the app's own services
before the servers start: meetings of their crew that started within the last hours and
can be logged (everyone already tapped present, as a crew does while logging), and
invitations to crews they are not in, to answer. How many of each comes from the mix
(`bench.mix.stock_needed`), so that no member runs out during the run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from congregations.models import Congregation
from congregations.tenancy import tenant
from crews import services
from crews.models import Crew, CrewMembership, Kind
from crews.selectors import current_members

from .mix import stock_needed
from .pages import Sample


def prepare(sample: Sample, seconds: float) -> dict[str, Any]:
    """One member's part of the swarm's input."""
    now = timezone.now()
    meetings = stock_needed(seconds, "log a meeting") + 1
    invitations = stock_needed(seconds, "answer an invitation")
    congregation = Congregation.objects.get(slug=sample.slug)
    with tenant(congregation):
        crew = Crew.objects.get(pk=sample.crew)
        members = list(current_members(crew=crew))
        open_meetings = []
        for n in range(meetings):
            # Started 1 to 10 hours ago, well inside the grace period (48 hours at least 12).
            starts_at = now - timedelta(hours=1, minutes=7 * n)
            meeting = services.schedule_meeting(
                crew=crew,
                starts_at=starts_at,
                scheduled_by=sample.member,
                place="The library",
                now=starts_at - timedelta(days=7),
            )
            for person in members:
                services.mark_attendance(
                    meeting=meeting, member=person, present=True, marked_by=sample.member, now=now
                )
            open_meetings.append(meeting.pk)
        mine = CrewMembership.objects.current().filter(member=sample.member).values("crew_id")
        asked: list[int] = []
        others = (
            Crew.objects.filter(congregation=congregation, kind=Kind.CREW)
            .exclude(pk__in=mine)
            .order_by("pk")
        )
        for other in others:
            if len(asked) == invitations:
                break
            inviter = current_members(crew=other).first()
            if inviter is None:
                continue
            try:
                invitation = services.invite_to_crew(
                    crew=other, invitee=sample.member, invited_by=inviter, now=now
                )
            except ValidationError:
                continue  # full, or asked already: another crew will ask
            asked.append(invitation.pk)
    return {
        "email": sample.member.email,
        "slug": sample.slug,
        "crew": sample.crew,
        "timezone": crew.timezone.key,
        "members": [person.pk for person in members],
        "open_meetings": open_meetings,
        "invitations": asked,
    }
