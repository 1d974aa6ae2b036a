"""What forming a crew tells people: an invitation asks its invitee (and emails them);
an answer, and a crew that forms, are news for the others."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from congregations.models import Ask, Notification, Self
from congregations.services.notifications import Notice, mark_read, notify

from ..links import crew_path
from ..models import Crew, CrewInvitation, CrewMembership, Meeting


def invitation_about(invitation: CrewInvitation) -> str:
    return f"crew-invitation:{invitation.pk}"


def ask_invitees(invitations: Iterable[CrewInvitation], *, now: datetime) -> None:
    notify(
        (
            Notice(
                congregation_id=invitation.congregation_id,
                recipient=invitation.invitee,
                about=invitation_about(invitation),
                ask=Ask.CREW_INVITATION,
                actor=invitation.invited_by,
                text=f"{invitation.invited_by} invites you to the "
                f"{invitation.crew.get_kind_display()} {invitation.crew}.",
                path=crew_path(invitation.crew),
                subject=f"{invitation.invited_by} invites you to join {invitation.crew}",
                template="crews/email/crew_invitation.txt",
                context={"invitation": invitation, "crew": invitation.crew},
            )
            for invitation in invitations
        ),
        now=now,
    )


def tell_answer(invitation: CrewInvitation, *, formed: bool, now: datetime) -> None:
    """The invitation is done; whoever asked hears the answer, and when it formed the
    crew, every member hears that."""
    crew = invitation.crew
    mark_read(congregation_id=crew.congregation_id, about=invitation_about(invitation), now=now)
    said = f"joined {crew}" if invitation.accepted else f"said no, thank you, to {crew}"
    news = [
        Notice(
            congregation_id=crew.congregation_id,
            recipient=invitation.invited_by,
            about=f"crew-answer:{invitation.pk}",
            actor=invitation.invitee,
            text=f"{invitation.invitee} {said}.",
            path=crew_path(crew),
        )
    ]
    if formed:
        news += formed_news(
            crew, CrewMembership.objects.filter(crew=crew).current().select_related("member")
        )
    notify(news, now=now)


def formed_news(crew: Crew, seats: Iterable[CrewMembership]) -> list[Notice]:
    seats = list(seats)
    return [
        Notice(
            congregation_id=crew.congregation_id,
            recipient=seat.member,
            about=f"crew-formed:{crew.pk}",
            text=f"{crew} is formed: {len(seats)} of you. Time to schedule its first meeting.",
            path=crew_path(crew),
        )
        for seat in seats
    ]


def invitations_closed(invitations: Iterable[CrewInvitation], *, now: datetime) -> None:
    """Invitations withdrawn without an answer (the crew filled, someone left) wait no more."""
    for invitation in invitations:
        mark_read(
            congregation_id=invitation.congregation_id,
            about=invitation_about(invitation),
            now=now,
        )


def not_to_log(crew: Crew, member: Self, *, now: datetime) -> None:
    """Who left ``crew`` is no longer asked to log its meetings."""
    meetings = Meeting.objects.filter(
        crew=crew, log_nudge_sent_at__isnull=False, deductions_applied_at__isnull=True
    )
    Notification.objects.filter(
        congregation_id=crew.congregation_id,
        recipient=member,
        read_at__isnull=True,
        about__in=[f"meeting-to-log:{pk}" for pk in meetings.values_list("pk", flat=True)],
    ).update(read_at=now)
