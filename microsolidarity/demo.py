"""The demo congregation that `make run` loads, built through the domain services so it is
exactly what a real congregation would hold. Loading it twice changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.services import (
    create_congregation,
    invite,
    sign_up_with_invitation,
    update_profile,
)

SLUG = "kotahi"
PASSWORD = "microsolidarity-demo"


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    paid_work: str
    meaningful_work: str
    timezone: str = "Europe/Amsterdam"


FACILITATOR = Person(
    "Ana Moana",
    "ana@example.org",
    "freelance facilitator for co-ops",
    "helping people find their crew",
)
MEMBERS = [
    Person("Ben Okafor", "ben@example.org", "web developer", "a community bike workshop"),
    Person("Chiara Rossi", "chiara@example.org", "nurse", "growing food with neighbours"),
    Person("Dev Patel", "dev@example.org", "accountant", "bookkeeping for social enterprises"),
    Person("Emeka Eze", "emeka@example.org", "teacher", "a youth theatre"),
    Person("Fern Walker", "fern@example.org", "carpenter", "tiny houses for first homes"),
    Person("Gus Lindqvist", "gus@example.org", "barista", "writing songs"),
    Person("Hana Sato", "hana@example.org", "translator", "a language exchange"),
    Person("Ira Cohen", "ira@example.org", "lawyer", "co-op legal clinics"),
    Person("Jo Tui", "jo@example.org", "gardener", "seed library", "Pacific/Auckland"),
    Person("Kai Müller", "kai@example.org", "electrician", "solar for the street"),
    Person("Lena Novak", "lena@example.org", "designer", "zines about mutual aid"),
    Person("Maru Ngata", "maru@example.org", "student", "a food rescue crew", "Pacific/Auckland"),
]


@dataclass
class Demo:
    congregation: Congregation
    facilitator: Self
    members: list[Self]
    created: bool


@transaction.atomic
def load(*, now: datetime | None = None) -> Demo:
    now = now or timezone.now()
    existing = Congregation.objects.filter(slug=SLUG).first()
    if existing:
        people = {s.email: s for s in Self.objects.filter(email__endswith="@example.org")}
        return Demo(existing, people[FACILITATOR.email], [people[p.email] for p in MEMBERS], False)
    founded = now - timedelta(days=240)
    facilitator = Self.objects.create_user(
        FACILITATOR.email,
        PASSWORD,
        display_name=FACILITATOR.name,
        paid_work=FACILITATOR.paid_work,
        meaningful_work=FACILITATOR.meaningful_work,
        timezone=FACILITATOR.timezone,
    )
    congregation = create_congregation(
        name="Kotahi", slug=SLUG, facilitator=facilitator, now=founded
    )
    members = []
    for day, person in enumerate(MEMBERS, start=1):
        joined = founded + timedelta(days=day)
        _, token = invite(
            congregation=congregation,
            email=person.email,
            invited_by=facilitator,
            send_email=False,
            now=joined,
        )
        member = sign_up_with_invitation(
            token=token, display_name=person.name, password=PASSWORD, now=joined
        ).member
        members.append(
            update_profile(
                self_=member,
                paid_work=person.paid_work,
                meaningful_work=person.meaningful_work,
                timezone=person.timezone,
            )
        )
    return Demo(congregation, facilitator, members, True)
