"""What forming a crew tells people: an invitation asks its invitee (and emails them);
an answer, and a crew that forms, are news for the others. Their texts are lazy: each is
written in its recipient's language. A text that tells of someone's act (``actor``) begins
with their name in every language (privacy.services.erasure renames it there)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from congregations.models import Ask, Notification, Self
from congregations.services.notifications import Notice, mark_read, notify

from ..links import crew_path
from ..models import Crew, CrewInvitation, CrewMembership, Meeting


def invitation_about(invitation: CrewInvitation) -> str:
    return f"crew-invitation:{invitation.pk}"


def _invites_you(invitation: CrewInvitation) -> str | Promise:
    names = {"inviter": str(invitation.invited_by), "crew": str(invitation.crew)}
    if invitation.crew.is_dyad:
        # Translators: keep {inviter} first. A dyad is a partnership of two people who meet
        # about once a month (the proposal's "Dyad").
        return format_lazy(_("{inviter} invites you to the dyad {crew}."), **names)
    # Translators: keep {inviter} first. A crew is a small group of 3–8 people who meet about
    # once a month (the proposal's "Crew").
    return format_lazy(_("{inviter} invites you to the crew {crew}."), **names)


def ask_invitees(invitations: Iterable[CrewInvitation], *, now: datetime) -> None:
    notify(
        (
            Notice(
                congregation_id=invitation.congregation_id,
                recipient=invitation.invitee,
                about=invitation_about(invitation),
                ask=Ask.CREW_INVITATION,
                actor=invitation.invited_by,
                text=_invites_you(invitation),
                path=crew_path(invitation.crew),
                subject=format_lazy(
                    _("{inviter} invites you to join {crew}"),
                    inviter=str(invitation.invited_by),
                    crew=str(invitation.crew),
                ),
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
    names = {"name": str(invitation.invitee), "crew": str(crew)}
    said = (
        # Translators: keep {name} first: who joined the crew or dyad {crew}.
        format_lazy(_("{name} joined {crew}."), **names)
        if invitation.accepted
        # Translators: keep {name} first: who declined to join the crew or dyad {crew}.
        else format_lazy(_("{name} said no, thank you, to {crew}."), **names)
    )
    news = [
        Notice(
            congregation_id=crew.congregation_id,
            recipient=invitation.invited_by,
            about=f"crew-answer:{invitation.pk}",
            actor=invitation.invitee,
            text=said,
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
            text=format_lazy(
                ngettext_lazy(
                    "{crew} is formed: {count} of you. Time to schedule its first meeting.",
                    "{crew} is formed: {count} of you. Time to schedule its first meeting.",
                    len(seats),
                ),
                crew=str(crew),
                count=len(seats),
            ),
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
