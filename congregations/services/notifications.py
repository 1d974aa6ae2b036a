"""Notifications: what happened to a Self, and what asks them to act.

Services of every app tell people through ``notify``: one row per Self per subject
(``about``), however often a service or job runs, and for a notification that asks, one
email through the outbox, unless the Self turned that kind off or takes one email a day.
A subject that is done, withdrawn or expired is marked read for everyone it was about
(``mark_read``), so the unread count says what is new.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise

from microsolidarity.arrays import one_of
from microsolidarity.enqueue import enqueue_after_commit

from .. import tasks
from ..models import Ask, EmailOptOut, Notification, Self
from ..tenancy import across_congregations
from .outbox import Outgoing, queue_emails

TEXT_LENGTH = Notification._meta.get_field("text").max_length or 500


@dataclass
class Notice:
    """One thing to tell ``recipient``: ``text`` in one line, and the page (``path``) where
    it is read or done. One that asks (``ask``) is emailed with ``subject`` from
    ``template``, whose context gets ``url``, the page's full address. ``text`` and
    ``subject`` are lazy (``gettext_lazy``, ``format_lazy``): they are written in the
    recipient's language, not the language of whoever's act made them."""

    congregation_id: int
    recipient: Self
    about: str
    text: str | Promise
    path: str
    ask: Ask | str = ""
    # Whoever's act it tells of, when ``text`` begins with their name.
    actor: Self | None = None
    subject: str | Promise = ""
    template: str = ""
    context: dict[str, Any] = field(default_factory=dict)

    def written_text(self) -> str:
        with translation.override(self.recipient.email_language):
            return str(self.text)

    @property
    def url(self) -> str:
        return settings.SITE_URL + self.path

    def email(self) -> Outgoing:
        return Outgoing(
            congregation_id=self.congregation_id,
            recipient=self.recipient,
            key=f"notice:{self.about}:{self.recipient.pk}",
            subject=self.subject,
            template=self.template,
            context={**self.context, "url": self.url, "text": self.text},
            kind=self.ask,
        )


def can_hear(self_: Self) -> bool:
    """A Self who left for good hears nothing more."""
    return self_.is_active and self_.anonymised_at is None


def notify(notices: Iterable[Notice], *, now: datetime | None = None) -> list[Notification]:
    """Write the notifications that are new and queue the emails of those that ask;
    returns the new rows. Call it inside the transaction that made what it tells of."""
    now = now or timezone.now()
    notices = [n for n in notices if can_hear(n.recipient)]
    if not notices:
        return []
    known = set(
        Notification.objects.filter(
            congregation_id__in={n.congregation_id for n in notices},
            about__in=one_of([n.about for n in notices]),
        ).values_list("congregation_id", "recipient_id", "about")
    )
    new = [n for n in notices if (n.congregation_id, n.recipient.pk, n.about) not in known]
    emailed = _emailed_now(new)
    rows = [
        Notification(
            congregation_id=n.congregation_id,
            recipient=n.recipient,
            ask=n.ask,
            about=n.about,
            text=n.written_text()[:TEXT_LENGTH],
            actor=n.actor,
            path=n.path,
            created_at=now,
            # News is never emailed; what the Self asked to hear of in a day's email waits.
            emailed_at=now if n in emailed or not n.ask else None,
        )
        for n in new
    ]
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    if queue_emails((n.email() for n in emailed), now=now):
        enqueue_after_commit(tasks.send_emails)
    return rows


def _emailed_now(notices: list[Notice]) -> list[Notice]:
    """Those of ``notices`` that ask and go out on their own email now: not turned off by
    their Self, who does not take one email a day instead."""
    asking = [n for n in notices if n.ask and n.template]
    if not asking:
        return []
    off = set(
        EmailOptOut.objects.filter(
            owner_id__in={n.recipient.pk for n in asking}, ask__in={n.ask for n in asking}
        ).values_list("owner_id", "ask")
    )
    return [
        n for n in asking if (n.recipient.pk, n.ask) not in off and not n.recipient.email_digest
    ]


def mark_read(
    *,
    congregation_id: int,
    about: str,
    recipient: Self | None = None,
    now: datetime | None = None,
) -> int:
    """The subject is done (answered, confirmed, withdrawn): its notifications, for
    ``recipient`` or everyone, are read. Returns how many were unread."""
    now = now or timezone.now()
    found = Notification.objects.filter(
        congregation_id=congregation_id, about=about, read_at__isnull=True
    )
    if recipient is not None:
        found = found.filter(recipient=recipient)
    return found.update(read_at=now)


@transaction.atomic
def mark_all_read(*, self_: Self, now: datetime | None = None) -> int:
    """Everything the Self has been told, in every congregation, is read."""
    now = now or timezone.now()
    with across_congregations():
        return Notification.objects.filter(recipient=self_, read_at__isnull=True).update(
            read_at=now
        )
