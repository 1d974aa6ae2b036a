"""The congregations app in its reader's language: an invitation in the invited Self's,
the daily email in its recipient's, the profile's language choice, and a refused form in
the language the browser asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation

from congregations.models import Ask, Congregation, Email, Self
from congregations.services import Notice, invite, notify, update_profile
from congregations.services import daily as daily_emails
from congregations.tenancy import tenant
from tests.builders import congregation_url
from tests.pages import text

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db

# 09:05 in Madrid on a winter Tuesday: the morning of a Self who takes one email a day.
MADRID_MORNING = datetime(2027, 1, 5, 8, 5, tzinfo=UTC)


def queued(congregation: Congregation, prefix: str) -> Email:
    with tenant(congregation):
        return Email.objects.get(key__startswith=prefix)


def test_an_invitation_to_a_self_who_chose_german_is_written_in_german(
    congregation: Congregation, facilitator: Self, outsider: Self
) -> None:
    update_profile(self_=outsider, language="de")
    update_profile(self_=facilitator, language="en")

    with translation.override("en"):  # the facilitator's page, in English
        invite(congregation=congregation, email=outsider.email, invited_by=facilitator)

    email = queued(congregation, "invitation:")
    assert email.subject == f"{facilitator.display_name} lädt dich in {congregation.name} ein"
    assert "lädt dich ein" in email.body and "Um anzunehmen, öffne diesen Link" in email.body
    assert "invites you" not in email.body


def test_an_invitation_to_a_stranger_is_written_in_the_inviters_language(
    congregation: Congregation, facilitator: Self
) -> None:
    with translation.override("es"):
        invite(congregation=congregation, email="nueva@example.net", invited_by=facilitator)

    email = queued(congregation, "invitation:")
    assert email.subject == f"{facilitator.display_name} te invita a {congregation.name}"
    assert "Para aceptar, abre este enlace" in email.body


def test_the_daily_email_to_a_spanish_self_is_in_spanish(congregation: Congregation) -> None:
    reader = MembershipFactory.create(
        congregation=congregation, member__timezone="Europe/Madrid"
    ).member
    update_profile(self_=reader, email_digest=True, language="es")
    with tenant(congregation):
        notify(
            [
                Notice(
                    congregation_id=congregation.pk,
                    recipient=reader,
                    about="conflict:1",
                    text="Ana y Ben tienen un conflicto",
                    path=f"/c/{congregation.slug}/conflicts/1/",
                    ask=Ask.CONFLICT,
                )
            ],
            now=MADRID_MORNING - timedelta(hours=2),
        )

    with translation.override("en"):  # the job runs in the site's language
        assert daily_emails.send_daily_emails(now=MADRID_MORNING) == 1

    email = queued(congregation, "daily:")
    assert email.subject == f"Lo que te espera en {congregation.name}"
    assert email.body.startswith(f"Hola, {reader.display_name}:")
    assert f"Una cosa te espera en {congregation.name}:" in email.body
    assert "Recibes un correo como este cada mañana" in email.body


def test_the_profile_keeps_a_language_offered_and_refuses_another(member: Self) -> None:
    update_profile(self_=member, language="de")
    member.refresh_from_db()
    assert member.language == "de" and member.email_language == "de"
    paid_work = member.paid_work

    with pytest.raises(ValidationError) as refused:
        update_profile(self_=member, language="fr", paid_work="Baker")

    assert refused.value.message_dict == {
        "language": [
            "“fr” is not a language offered here: choose one of English, Español, Deutsch, "
            "or leave it to your browser."
        ]
    }
    assert member.language == "de" and member.paid_work == paid_work
    member.refresh_from_db()
    assert member.language == "de" and member.paid_work == paid_work


def test_a_refused_setting_reads_in_the_language_the_browser_asks_for(
    client: Client, congregation: Congregation, facilitator: Self
) -> None:
    client.force_login(facilitator)
    data = {
        "name": congregation.name,
        "purpose": congregation.purpose,
        "invitation_quota": 2,
        "soft_size_threshold": 100,
        "hard_size_cap": 1,  # below the least a congregation may be
        "invitation_lifetime_days": 14,
        "meeting_grace_hours": 48,
        "conflict_deadline_days": 30,
        "reminder_lead_hours": 24,
        "timezone": "Europe/Berlin",
    }

    response = client.post(
        congregation_url("settings", congregation), data, HTTP_ACCEPT_LANGUAGE="de"
    )

    assert response.status_code == 200
    page = text(response)
    assert "Eine Gemeinde braucht Platz für mindestens 2 Menschen." in page
    assert "Einstellungen speichern" in page and "Zeitzone" in page
    assert "needs room" not in page
