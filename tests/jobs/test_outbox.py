from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from pytest_django.fixtures import Settings

from congregations.models import Congregation, Email, Self
from congregations.services import leave_congregation
from congregations.services.outbox import Outgoing, queue_emails, send_due_emails
from congregations.tenancy import tenant
from microsolidarity.models import ItemFailure
from microsolidarity.services.batches import MAX_ATTEMPTS
from tests.builders import membership_of

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def hello(congregation: Congregation, recipient: Self, key: str = "hello") -> Outgoing:
    return Outgoing(
        congregation_id=congregation.pk,
        recipient=recipient,
        key=key,
        subject="Hello",
        template="crews/email/rhythm_nudge.txt",
        context={"crew": {"name": "Tuesday crew"}, "url": "http://x"},
    )


def queued(*outgoing: Outgoing) -> list[Email]:
    """What queue_emails queued, called behind the walls of the emails' congregation, as
    every service that queues emails calls it."""
    with tenant(outgoing[0].congregation_id):
        return queue_emails(outgoing)


def test_an_email_is_queued_once_per_key(congregation: Congregation, member: Self) -> None:
    assert len(queued(hello(congregation, member))) == 1
    assert queued(hello(congregation, member)) == []
    assert send_due_emails() == 1
    assert send_due_emails() == 0
    assert len(mail.outbox) == 1


def test_a_refusing_mail_server_is_retried_with_backoff_then_given_up_visibly(
    congregation: Congregation, member: Self, settings: Settings
) -> None:
    settings.EMAIL_BACKEND = "tests.mail_backends.RefusingBackend"
    queued(hello(congregation, member))
    now = timezone.now()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert send_due_emails(now=now) == 0
        failure = ItemFailure.objects.get(job="send_emails")
        assert failure.attempts == attempt
        # Not tried again before its time.
        assert send_due_emails(now=failure.retry_after - timedelta(seconds=1)) == 0
        assert ItemFailure.objects.get().attempts == attempt
        now = failure.retry_after
    with tenant(congregation):
        email = Email.objects.get()
    assert failure.gave_up_at is not None
    assert email.failed_at is not None
    assert email.sent_at is None
    assert "Connection unexpectedly closed" in email.last_error
    assert send_due_emails(now=now + timedelta(days=1)) == 0


def test_emails_to_someone_who_has_left_are_not_sent(
    congregation: Congregation, member: Self
) -> None:
    queued(hello(congregation, member))
    member.is_active = False
    member.save(update_fields=["is_active"])
    assert send_due_emails() == 0
    with tenant(congregation):
        assert Email.objects.get().last_error == "The recipient has left."
    assert mail.outbox == []


def test_emails_queued_before_someone_left_the_congregation_are_not_sent(
    congregation: Congregation, member: Self, crew_mate: Self
) -> None:
    queued(hello(congregation, member), hello(congregation, crew_mate, key="hello-too"))
    leave_congregation(membership=membership_of(member, congregation))

    assert send_due_emails() == 1
    with tenant(congregation):
        left = Email.objects.get(recipient=member)
    assert (left.sent_at, left.last_error) == (None, "The recipient has left the congregation.")
    assert [m.to for m in mail.outbox] == [[crew_mate.email]]
