"""The privacy app in its reader's language: the archive-ready email and the archive
itself in the owner's, the pages in the visitor's."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from congregations.models import Self
from congregations.services.outbox import send_due_emails
from crews.models import Crew
from privacy.models import DataArchive
from privacy.services import export_self_data
from privacy.services.downloads import prepare_due_archives, request_archive
from tests.builders import signed_in

pytestmark = pytest.mark.django_db


def test_the_archive_ready_email_to_a_german_self_is_german(member: Self, now: datetime) -> None:
    member.language = "de"
    member.save(update_fields=["language"])
    request_archive(self_=member, now=now)

    assert prepare_due_archives(now=now) == 1
    send_due_emails(now=now)

    (message,) = mail.outbox
    assert message.subject == "Deine Daten von Microsolidarity"
    body = str(message.body)
    assert body.startswith(f"Hallo {member.display_name},")
    assert "Deine Daten von Microsolidarity sind fertig" in body
    assert "Stunden lang" in body
    assert "Your data" not in body
    # The archive inside is German too; its files and keys stay as programs read them.
    archive = DataArchive.objects.get(owner=member)
    with zipfile.ZipFile(io.BytesIO(bytes(archive.content))) as files:
        assert (
            files.read("README.txt")
            .decode()
            .startswith("Alles, was Microsolidarity über dich speichert")
        )
        assert '"display_name"' in files.read("profile.json").decode()


def test_the_ledger_in_the_archive_reads_in_the_owners_language(
    played: Crew, member: Self, now: datetime
) -> None:
    from django.utils import translation

    with translation.override("es"):
        content = export_self_data(self_=member, now=now)
    with zipfile.ZipFile(io.BytesIO(content)) as files:
        rows = list(csv.reader(io.StringIO(files.read("ledger.csv").decode())))
    assert rows[0][:6] == ["congregación", "equipo", "nivel", "regla", "puntos", "motivo"]
    reasons = {row[5] for row in rows[1:]}
    assert any(reason.startswith("Reunión número 1 con el equipo: ") for reason in reasons)
    assert not any("Meeting number" in reason for reason in reasons)


def test_the_privacy_page_in_spanish_is_spanish() -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="es").get(reverse("privacy:privacy"))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="es"' in page
    assert "<h1>Privacidad</h1>" in page
    assert "Lo que guardamos" in page
    assert "días después de caducar o de retirarse" in page
    assert "What we keep" not in page


def test_the_delete_account_page_in_german_is_german(member: Self) -> None:
    client = signed_in(member)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "de"
    member.language = "de"
    member.save(update_fields=["language"])
    page = client.get(reverse("privacy:delete_account"), follow=True).content.decode()
    # Before anything, allauth asks again who it is, in German too.
    assert "Bestätige, dass du es bist" in page or "Dein Konto löschen?" in page
