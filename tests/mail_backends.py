"""A mail server that refuses every message, for tests of the outbox's retries."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class BouncingBackend(BaseEmailBackend):
    """Delivers to the in-memory outbox, except to an address that starts with "bounce"."""

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        from django.core import mail

        for message in email_messages:
            refused = [to for to in message.to if to.startswith("bounce")]
            if refused:
                raise smtplib.SMTPRecipientsRefused({to: (550, b"No such user") for to in refused})
            mail.outbox.append(message)
        return len(email_messages)
