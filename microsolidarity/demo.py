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
    update_settings,
)
from congregations.tenancy import tenant
from crews.models import Crew, Kind
from crews.selectors import current_members
from crews.services import form_crew, leave_crew, log_meeting, propose_crew, schedule_meeting
from privacy.services import erase_self
from reciprocity.models import LedgerEntry, LegalForm
from reciprocity.rules import Rule
from reciprocity.services import (
    apply_missed_meeting_deductions,
    confirm_co_ownership,
    confirm_resolution,
    dispute_deduction,
    open_conflict,
    record_listening_round,
    record_money_round,
    register_venture,
    reverse_entry,
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
    # What waits for them comes in one email each morning.
    email_digest: bool = False
    # The language they chose: every page and email of theirs is in it ("" is their
    # browser's).
    language: str = ""


FACILITATOR = Person(
    "Ana Moana",
    "ana@example.org",
    "freelance facilitator for co-ops",
    "helping people find their crew",
)
MEMBERS = [
    Person("Ben Okafor", "ben@example.org", "web developer", "a community bike workshop"),
    Person(
        "Chiara Rossi", "chiara@example.org", "nurse", "growing food with neighbours", language="es"
    ),
    Person("Dev Patel", "dev@example.org", "accountant", "bookkeeping for social enterprises"),
    Person("Emeka Eze", "emeka@example.org", "teacher", "a youth theatre"),
    Person("Fern Walker", "fern@example.org", "carpenter", "tiny houses for first homes"),
    Person("Gus Lindqvist", "gus@example.org", "barista", "writing songs"),
    Person("Hana Sato", "hana@example.org", "translator", "a language exchange"),
    Person("Ira Cohen", "ira@example.org", "lawyer", "co-op legal clinics"),
    Person("Jo Tui", "jo@example.org", "gardener", "seed library", "Pacific/Auckland", True),
    Person("Kai Müller", "kai@example.org", "electrician", "solar for the street", language="de"),
    Person("Lena Novak", "lena@example.org", "designer", "zines about mutual aid"),
    Person("Maru Ngata", "maru@example.org", "student", "a food rescue crew", "Pacific/Auckland"),
]

# She was in Solar street for its first three meetings, then deleted her account: her
# points stay in the crew's total, under "Former member".
LEFT_FOR_GOOD = Person("Noa Berg", "noa@example.org", "baker", "a bread club for the street")


@dataclass
class Demo:
    congregation: Congregation
    facilitator: Self
    members: list[Self]
    created: bool
    # The moment it was loaded at: what it shows as waiting is waiting then.
    now: datetime


@transaction.atomic
def load(*, now: datetime | None = None) -> Demo:
    now = now or timezone.now()
    existing = Congregation.objects.filter(slug=SLUG).first()
    if existing:
        people = {s.email: s for s in Self.objects.filter(email__endswith="@example.org")}
        members = [people[p.email] for p in MEMBERS]
        return Demo(existing, people[FACILITATOR.email], members, False, now)
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
    for day, person in enumerate([*MEMBERS, LEFT_FOR_GOOD], start=1):
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
                email_digest=person.email_digest,
                language=person.language,
            )
        )
    noa = members.pop()
    # Not answered yet, and its link lapses in two days: the invitations page says so.
    invite(
        congregation=congregation,
        email="nina@example.net",
        invited_by=members[1],  # Chiara, of the Seed library
        note="We would love to have you in the Seed library crew.",
        send_email=False,
        now=now - congregation.invitation_lifetime + timedelta(days=2),
    )
    with tenant(congregation):
        _crews(congregation, {p.email: p for p in [facilitator, *members, noa]}, now)
        # Room for one more each: History says what changed, from what to what.
        update_settings(
            congregation=congregation,
            changed_by=facilitator,
            invitation_quota=congregation.invitation_quota + 1,
            now=now - timedelta(days=20),
        )
    return Demo(congregation, facilitator, members, True, now)


def _crews(congregation: Congregation, people: dict[str, Self], now: datetime) -> None:
    """Two crews and a dyad with five months of history, a crew still being formed, a
    resolved conflict and a co-owned venture: every level of the game has points. A
    member who left her crew, which closed her open conflict without points; one who left
    for good, whose points stay under "Former member". And things
    waiting for someone: crew invitations, a meeting to log, a conflict, a venture, and a
    missed-meeting deduction disputed, waiting for a crew-mate's confirmation."""

    def who(*names: str) -> list[Self]:
        return [people[f"{name}@example.org"] for name in names]

    formed = now - timedelta(days=170)
    seeds = form_crew(
        congregation=congregation,
        name="Seed library",
        purpose="Saving and sharing seeds; a co-op for the garden",
        members=who("ana", "chiara", "jo", "maru", "fern"),
        now=formed,
    )
    solar = form_crew(
        congregation=congregation,
        name="Solar street",
        purpose="Panels on every roof in the street",
        members=who("kai", "ben", "dev", "ira", "noa"),
        now=formed,
    )
    dyad = form_crew(
        congregation=congregation,
        name="Lena & Hana",
        kind=Kind.DYAD,
        members=who("lena", "hana"),
        now=formed,
    )
    propose_crew(
        congregation=congregation,
        name="Zine makers",
        purpose="Zines about mutual aid",
        proposed_by=people["lena@example.org"],
        invitees=who("gus", "emeka"),
        now=now - timedelta(days=2),
    )
    missing_seeds = {3: who("maru"), 1: who("chiara")}
    for months_ago in range(5, 0, -1):
        day = now - timedelta(days=30 * months_ago)
        _held(seeds, day, absent=missing_seeds.get(months_ago, []))
        _held(solar, day + timedelta(days=3), absent=who("ira") if months_ago == 2 else [])
        _held(dyad, day + timedelta(days=5), absent=[])
        # What the job would have done that month, so its emails are not news today.
        apply_missed_meeting_deductions(congregation=congregation, now=day + timedelta(days=8))
        if months_ago == 3:
            erase_self(self_=people["noa@example.org"], now=day + timedelta(days=10))
    # Chiara was at last month's Seed library meeting, but the log missed her: she says
    # so, and it waits for a crew-mate who was there (Ana among them) to confirm.
    chiara = people["chiara@example.org"]
    dispute_deduction(
        entry=LedgerEntry.objects.get(member=chiara, rule=Rule.MISSED),
        disputed_by=chiara,
        now=now - timedelta(days=1),
    )
    # Ira was at Solar street's meeting two months ago too: Ana, a facilitator, corrected
    # the log, and the correction says so in plain words on Ira's entries.
    reverse_entry(
        entry=LedgerEntry.objects.get(member=people["ira@example.org"], rule=Rule.MISSED),
        reversed_by=people[FACILITATOR.email],
        reason="Ira was there, came in late, and the log missed it",
        now=now - timedelta(days=50),
    )
    # Solar street met three hours ago and nobody has logged it yet.
    schedule_meeting(
        crew=solar,
        starts_at=now - timedelta(hours=3),
        scheduled_by=people["kai@example.org"],
        place="Kai's workshop",
        now=now - timedelta(days=7),
    )
    # Coming up: the reminder for the first goes out as soon as the worker starts.
    for crew, ahead, place in [
        (seeds, timedelta(hours=2), "The community garden shed"),
        (solar, timedelta(days=27), "Kai's workshop"),
        (dyad, timedelta(days=12), "Video call"),
    ]:
        schedule_meeting(
            crew=crew,
            starts_at=(now + ahead).replace(second=0, microsecond=0),
            scheduled_by=crew.proposed_by,
            place=place,
            agenda="Check-in round, a money round, where we might go next",
            now=now,
        )
    ben, kai = who("ben", "kai")
    conflict = open_conflict(
        crew=solar, parties=[ben, kai], opened_by=ben, title="Who pays for the ladder", now=formed
    )
    for party in (ben, kai):
        confirm_resolution(conflict=conflict, party=party, now=formed + timedelta(days=9))
    co_owners = who("ana", "chiara", "jo")
    venture = register_venture(
        congregation=congregation,
        name="Seed library co-op",
        legal_form=LegalForm.COOP,
        co_owners=co_owners,
        registered_by=co_owners[0],
        now=now - timedelta(days=40),
    )
    for owner in co_owners:
        confirm_co_ownership(venture=venture, co_owner=owner, now=now - timedelta(days=38))
    # Fern left her crew before a conflict with Maru was resolved: it closed without points,
    # and History says so.
    fern, maru = who("fern", "maru")
    open_conflict(
        crew=seeds,
        parties=[maru, fern],
        opened_by=maru,
        title="Rent money",
        now=now - timedelta(days=12),
    )
    leave_crew(crew=seeds, member=fern, now=now - timedelta(days=2))
    # Waiting for someone: Ira to resolve a conflict Dev opened, Ana to confirm her share
    # of a venture Ben registered (Gus and Emeka have Lena's crew invitation; Solar street
    # has its meeting to log).
    dev, ira = who("dev", "ira")
    open_conflict(
        crew=solar,
        parties=[dev, ira],
        opened_by=dev,
        title="The tool shed rota",
        now=now - timedelta(days=3),
    )
    register_venture(
        congregation=congregation,
        name="Bike workshop co-op",
        legal_form=LegalForm.COOP,
        co_owners=[ben, people["ana@example.org"]],
        registered_by=ben,
        now=now - timedelta(days=1),
    )


def _held(crew: Crew, day: datetime, absent: list[Self]) -> None:
    """A meeting at 19:00 in the crew's timezone, logged that evening with its rounds."""
    starts = day.astimezone(crew.timezone).replace(hour=19, minute=0, second=0, microsecond=0)
    members = list(current_members(crew=crew))
    present = [m for m in members if m not in absent]
    meeting = schedule_meeting(
        crew=crew,
        starts_at=starts,
        scheduled_by=members[0],
        place="Around the kitchen table",
        now=starts - timedelta(days=14),
    )
    log_meeting(
        meeting=meeting,
        present=present,
        logged_by=present[0],
        reflections="Where we have been: a good month, a hard week for some of us.",
        envisioning="Where we might go: share the tools, and ask for help sooner.",
        now=starts + timedelta(hours=3),
    )
    after = starts + timedelta(hours=4)
    record_listening_round(
        meeting=meeting,
        participants=present,
        everyone_listened=True,
        recorded_by=present[0],
        now=after,
    )
    focus, *others = present
    record_money_round(
        meeting=meeting,
        focus=focus,
        asked=True,
        offerers=others[:2],
        offer_kinds={o.pk: ["perspective"] for o in others[:2]},
        mutual_respect=True,
        recorded_by=present[0],
        now=after,
    )
