"""The email outbox: every email the app sends is first a row here, and one periodic task
sends them.

Queuing is idempotent by key, so a job that runs twice queues each email once. Sending
goes through the one claim–process–mark loop (``microsolidarity.services.batches``): each email is
claimed, sent and marked in its own transaction, so an email that cannot be built or
delivered fails alone, is retried with backoff, and after the last attempt is marked
failed with its error, while every other email goes out; and an email sent is never
rolled back to unsent by another's failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import Promise

from microsolidarity.arrays import one_of
from microsolidarity.services.batches import each_due

from ..models import Email, Membership, Self
from ..unsubscribe import headers

JOB = "send_emails"
# Sent by one run (the job runs every minute): an outbox that filled up at once (a first
# start on a full database queued a nudge to every crew) drains over the next minutes
# instead of holding a worker and the mail server for all of it.
EMAILS_A_RUN = 1_000
SUBJECT_LENGTH = Email._meta.get_field("subject").max_length or 200
# Line breaks and other control characters in a subject would make a second header
# (Django refuses them with BadHeaderError); runs of them become one space.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\s]+")


def subject_line(text: str) -> str:
    """``text`` as one line that fits the subject's column, whatever names it holds."""
    line = CONTROL.sub(" ", text).strip()
    if len(line) > SUBJECT_LENGTH:
        line = line[: SUBJECT_LENGTH - 1].rstrip() + "…"
    return line


@dataclass(frozen=True)
class Attachment:
    name: str
    content: str
    mimetype: str


@dataclass
class Outgoing:
    """One email to queue: rendered from ``template`` with ``context`` plus the recipient.
    It goes to ``recipient``, a Self, or to ``address`` for someone not yet a Self (an
    invitation). One of a ``kind`` the recipient can turn off (``unsubscribe.KINDS``)
    carries the one-click unsubscribe headers.

    It is written in the recipient's language (``Self.email_language``), or in
    ``language`` for someone not yet a Self, whoever queues it: the template is rendered
    in it, and ``subject`` may be lazy (``gettext_lazy``, ``format_lazy``) to be read in
    it too."""

    congregation_id: int
    key: str
    subject: str | Promise
    template: str
    recipient: Self | None = None
    address: str = ""
    context: dict[str, Any] = field(default_factory=dict)
    attachment: Attachment | None = None
    send_after: datetime | None = None
    kind: str = ""
    language: str = ""

    @property
    def reader_language(self) -> str:
        if self.recipient is not None:
            return self.recipient.email_language
        return self.language or settings.LANGUAGE_CODE

    def written(self) -> tuple[str, str]:
        """Its subject and body, in its reader's language."""
        with translation.override(self.reader_language):
            body = render_to_string(self.template, {**self.context, "recipient": self.recipient})
            return subject_line(str(self.subject)), body


def queue_emails(outgoing: Iterable[Outgoing], *, now: datetime | None = None) -> list[Email]:
    """Queue the emails whose keys are new in their congregation; returns the new rows."""
    now = now or timezone.now()
    outgoing = list(outgoing)
    if not outgoing:
        return []
    known = set(
        Email.objects.filter(
            congregation_id__in={o.congregation_id for o in outgoing},
            key__in=one_of([o.key for o in outgoing]),
        ).values_list("congregation_id", "key")
    )
    # Only what is new is rendered: a job that runs again renders nothing twice.
    new = [
        Email(
            congregation_id=o.congregation_id,
            recipient=o.recipient,
            address=o.address or (o.recipient.email if o.recipient else ""),
            key=o.key,
            subject=subject,
            body=body,
            attachment_name=o.attachment.name if o.attachment else "",
            attachment=o.attachment.content if o.attachment else "",
            attachment_type=o.attachment.mimetype if o.attachment else "",
            created_at=now,
            send_after=o.send_after or now,
            kind=o.kind,
        )
        for o in outgoing
        if (o.congregation_id, o.key) not in known
        for subject, body in [o.written()]
    ]
    Email.objects.bulk_create(new, ignore_conflicts=True)
    return new


# What an email holds that a person wrote or could be recognised by; its key and state
# are what the outbox needs to never send it twice.
CONTENTS = ("address", "subject", "body", "attachment_name", "attachment", "attachment_type")


def forget_contents(emails: QuerySet[Email]) -> int:
    """Empty these emails of everything but their key and state; returns how many."""
    return emails.update(**dict.fromkeys(CONTENTS, ""))


def withdraw_emails(*, congregation_id: int, key_prefixes: Iterable[str]) -> int:
    """Drop the unsent emails whose keys start with one of ``key_prefixes``, because what
    they say is no longer true (a meeting's reminder once it is cancelled); returns how
    many. One being sent at this moment is locked by its sender: this waits for it, and
    it is then sent, so no longer matches."""
    about = Q()
    for prefix in key_prefixes:
        about |= Q(key__startswith=prefix)
    withdrawn, _ = Email.objects.filter(
        about, congregation_id=congregation_id, sent_at__isnull=True, failed_at__isnull=True
    ).delete()
    return withdrawn


def send_due_emails(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Send the queued emails that are due, the oldest first and at most ``limit`` of
    them (EMAILS_A_RUN unless told; the rest wait for the next run); returns how many went
    out."""
    now = now or timezone.now()
    limit = limit or EMAILS_A_RUN

    def due() -> QuerySet[Email]:
        return Email.objects.filter(
            sent_at__isnull=True, failed_at__isnull=True, send_after__lte=now
        ).select_related("recipient")

    return each_due(
        JOB,
        due,
        partial(_deliver, now=now),
        now=now,
        on_give_up=partial(_give_up, now=now),
        limit=limit,
    )


def _deliver(email: Email, *, now: datetime) -> int:
    """Send one email and mark it sent; raises when it cannot be built or delivered."""
    recipient = email.recipient
    if recipient is not None and (not recipient.is_active or recipient.anonymised_at):
        _give_up(email, "The recipient has left.", now=now)
        return 0
    # Whoever left the congregation hears nothing more from it, even what was queued before.
    if (
        recipient is not None
        and not Membership.objects.current()
        .filter(congregation_id=email.congregation_id, member=recipient)
        .exists()
    ):
        _give_up(email, "The recipient has left the congregation.", now=now)
        return 0
    # A Self's current address: they may have changed it since the email was queued.
    to = recipient.email if recipient is not None else email.address
    unsubscribe = headers(recipient, email.kind) if recipient is not None and email.kind else {}
    message = EmailMultiAlternatives(email.subject, email.body, to=[to], headers=unsubscribe)
    if email.attachment_type.startswith("text/calendar; method="):
        # iMIP (RFC 6047) as calendar programs send it: the calendar as an alternative of the
        # text, in the first part, where Outlook looks for it; and as a file for the rest.
        message.attach_alternative(email.attachment, email.attachment_type)
        message.attach(email.attachment_name, email.attachment.encode(), "application/ics")
    elif email.attachment_name:
        message.attach(email.attachment_name, email.attachment, email.attachment_type)
    message.send()
    email.sent_at = now
    email.save(update_fields=["sent_at"])
    return 1


def _give_up(email: Email, error: str, *, now: datetime) -> None:
    email.failed_at, email.last_error = now, error
    email.save(update_fields=["failed_at", "last_error"])
