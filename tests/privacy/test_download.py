"""Download my data, as a member does it: ask on the profile, get an email, follow its
link once, within a day, signed in as themselves."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from congregations.models import Congregation, Email, Self
from congregations.services import leave_congregation
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from privacy.models import DataArchive
from privacy.services.downloads import prepare_due_archives, request_archive
from tests.builders import (
    DAY,
    all_at_once,
    membership_of,
    refused,
    signed_in,
    snapshot,
    succeeded,
)


def ask(client: Client) -> str:
    """Press "Download my data" on the profile; the profile page it comes back to."""
    response = client.post(reverse("privacy:ask_for_data"), follow=True)
    assert response.redirect_chain == [(reverse("profile") + "#your-data", 302)]
    return response.content.decode()


def emailed_link(now: datetime) -> str:
    """Run the archive task and the outbox as the workers would; the path in the email."""
    assert prepare_due_archives(now=now) == 1
    send_due_emails(now=now)
    (message,) = mail.outbox
    assert message.subject == "Your data from Microsolidarity"
    (url,) = re.findall(r"https?://\S+/privacy/my-data/\S+/", str(message.body))
    return urlsplit(url).path


@pytest.fixture
def link(member: Self, now: datetime) -> str:
    ask(signed_in(member))
    return emailed_link(now)


def test_asking_says_it_is_being_prepared_and_asking_again_prepares_one(
    member: Self, now: datetime
) -> None:
    client = signed_in(member)
    page = ask(client)
    assert "We are preparing your data; you will get an email" in page
    assert page.count("We are preparing your data") == 1  # said once, not as a message too

    again = ask(client)

    assert "We are preparing your data" in again
    assert "Download my data" not in again  # the button is gone while it is prepared
    assert DataArchive.objects.filter(owner=member).count() == 1
    assert prepare_due_archives(now=now) == 1
    assert prepare_due_archives(now=now) == 0  # a second run prepares nothing more


def test_the_emailed_link_downloads_the_archive_once(
    member: Self, link: str, django_assert_max_num_queries: Any
) -> None:
    client = signed_in(member)

    with django_assert_max_num_queries(8):
        response = client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="microsolidarity-data-')
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert member.email in archive.read("profile.json").decode()
    gone = client.get(link)
    assert gone.status_code == 404
    assert "used, has expired" in gone.content.decode()  # and where to ask again
    # Nothing of it is kept once downloaded.
    assert bytes(DataArchive.objects.get(owner=member).content) == b""


def test_the_link_is_no_use_to_anyone_else(member: Self, crew_mate: Self, link: str) -> None:
    someone_else = signed_in(crew_mate)
    before = snapshot()
    assert someone_else.get(link).status_code == 404
    anonymous = Client().get(link)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert snapshot() == before
    # ...and the owner can still use it.
    assert signed_in(member).get(link).status_code == 200


def test_the_link_lapses_after_a_day(member: Self, link: str, now: datetime) -> None:
    archive = DataArchive.objects.get(owner=member)
    assert archive.ready_at == now
    assert archive.expires_at == now + DAY
    client = signed_in(member)

    with time_machine.travel(now + DAY + timedelta(seconds=1)):
        assert client.get(link).status_code == 404


def test_only_the_hash_of_the_link_s_token_is_stored(member: Self, link: str) -> None:
    token = link.rstrip("/").rsplit("/", 1)[1]
    archive = DataArchive.objects.get(owner=member)
    assert archive.token_hash and token not in archive.token_hash
    assert token not in str(DataArchive.objects.filter(owner=member).values().get())


def test_the_email_goes_through_the_outbox_of_one_of_their_congregations(
    congregation: Congregation, member: Self, link: str
) -> None:
    with tenant(congregation):
        email = Email.objects.get(key__startswith="data-archive:")
    assert email.recipient == member
    assert email.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_asking_twice_at_once_prepares_one(congregation: Congregation, member: Self) -> None:
    asked = all_at_once(2, partial(request_archive, self_=member), congregation=congregation)

    assert len({archive.pk for archive in succeeded(asked)}) == 1
    assert DataArchive.objects.filter(owner=member).count() == 1


def test_a_self_in_no_congregation_now_is_told_how_to_get_their_data(
    congregation: Congregation, member: Self
) -> None:
    leave_congregation(membership=membership_of(member, congregation))

    with refused("you belong to none now"):
        request_archive(self_=member)


def test_one_who_left_every_congregation_after_asking_is_sent_nothing(
    congregation: Congregation, member: Self, now: datetime
) -> None:
    request_archive(self_=member, now=now)
    leave_congregation(membership=membership_of(member, congregation), now=now)

    assert prepare_due_archives(now=now) == 0

    assert not DataArchive.objects.exists()
    with tenant(congregation):
        assert not Email.objects.filter(key__startswith="data-archive:").exists()
