"""The rows the scale generator writes, one NamedTuple per table. Field names are the
models' own, so the COPY column list and types come from the models and a renamed or new
required field fails loudly instead of loading the wrong column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import models

from congregations.models import Congregation, Membership, Self
from crews.models import Attendance, Crew, CrewMembership, Meeting
from reciprocity.models import (
    Conflict,
    ConflictParty,
    CoOwner,
    LedgerEntry,
    ListeningParticipant,
    ListeningRound,
    MoneyOffer,
    MoneyRound,
    Venture,
)


class SelfRow(NamedTuple):
    id: int
    password: str
    is_superuser: bool
    email: str
    display_name: str
    timezone: str
    paid_work: str
    meaningful_work: str
    reminders_enabled: bool
    is_active: bool
    is_staff: bool
    date_joined: datetime


class CongregationRow(NamedTuple):
    id: int
    name: str
    slug: str
    purpose: str
    invitation_quota: int
    soft_size_threshold: int
    hard_size_cap: int
    invitation_lifetime_days: int
    meeting_grace_hours: int
    conflict_deadline_days: int
    reminder_lead_hours: int
    timezone: str
    created_at: datetime


class MembershipRow(NamedTuple):
    id: int
    congregation: int
    member: int
    role: str
    joined_at: datetime


class CrewRow(NamedTuple):
    id: int
    congregation: int
    kind: str
    name: str
    purpose: str
    timezone: str
    proposed_by: int
    created_at: datetime
    formed_at: datetime


class CrewMembershipRow(NamedTuple):
    id: int
    congregation: int
    crew: int
    member: int
    joined_at: datetime
    left_at: datetime | None


class MeetingRow(NamedTuple):
    id: int
    congregation: int
    crew: int
    starts_at: datetime
    timezone: str
    place: str
    agenda: str
    status: str
    scheduled_by: int
    created_at: datetime
    cancelled_at: datetime | None
    cancelled_by: int | None
    logged_at: datetime | None
    logged_by: int | None
    reflections: str
    envisioning: str
    version: int
    deductions_applied_at: datetime | None
    log_nudge_sent_at: datetime | None
    deduction_emails_queued_at: datetime | None


class AttendanceRow(NamedTuple):
    id: int
    congregation: int
    meeting: int
    member: int
    present: bool


class ListeningRoundRow(NamedTuple):
    id: int
    congregation: int
    meeting: int
    everyone_listened: bool
    recorded_by: int
    recorded_at: datetime


class ListeningParticipantRow(NamedTuple):
    id: int
    congregation: int
    round: int
    participant: int


class MoneyRoundRow(NamedTuple):
    id: int
    congregation: int
    meeting: int
    focus: int
    asked: bool
    mutual_respect: bool
    recorded_by: int
    recorded_at: datetime


class MoneyOfferRow(NamedTuple):
    id: int
    congregation: int
    round: int
    offerer: int
    kind: str


class ConflictRow(NamedTuple):
    id: int
    congregation: int
    crew: int
    title: str
    opened_by: int
    opened_at: datetime
    deadline_at: datetime
    status: str
    closed_at: datetime | None
    closed_by: int | None
    warned_at: datetime | None


class ConflictPartyRow(NamedTuple):
    id: int
    congregation: int
    conflict: int
    party: int
    confirmed_at: datetime | None


class VentureRow(NamedTuple):
    id: int
    congregation: int
    name: str
    legal_form: str
    registered_by: int
    registered_at: datetime
    confirmed_at: datetime | None


class CoOwnerRow(NamedTuple):
    id: int
    congregation: int
    venture: int
    co_owner: int
    confirmed_at: datetime | None


class LedgerRow(NamedTuple):
    id: int
    congregation: int
    member: int
    crew: int | None
    level: int
    rule: str
    points: int
    reason: str
    occurred_at: datetime
    recorded_at: datetime
    recorded_by: int | None
    idempotency_key: str
    meeting: int | None = None
    listening_round: int | None = None
    money_round: int | None = None
    conflict: int | None = None
    venture: int | None = None


# The binary COPY format needs each column's PostgreSQL type.
COPY_TYPES = {
    "BigAutoField": "int8",
    "BooleanField": "bool",
    "CharField": "text",
    "DateTimeField": "timestamptz",
    "EmailField": "text",
    "IntegerField": "int4",
    "PositiveIntegerField": "int4",
    "PositiveSmallIntegerField": "int2",
    "SlugField": "text",
    "TextField": "text",
}


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    row: type[Any]

    @property
    def name(self) -> str:
        return self.model._meta.db_table

    def fields(self) -> list[models.Field[Any, Any]]:
        return [self.model._meta.get_field(name) for name in self.row._fields]  # type: ignore[misc]

    def columns(self) -> list[str]:
        return [field.column for field in self.fields()]

    def copy_types(self) -> list[str]:
        def kind(field: models.Field[Any, Any]) -> str:
            target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
            return COPY_TYPES[target.get_internal_type()]

        return [kind(field) for field in self.fields()]


# Parents before children, the order a reader of the data expects.
TABLES = [
    Table(Self, SelfRow),
    Table(Congregation, CongregationRow),
    Table(Membership, MembershipRow),
    Table(Crew, CrewRow),
    Table(CrewMembership, CrewMembershipRow),
    Table(Meeting, MeetingRow),
    Table(Attendance, AttendanceRow),
    Table(ListeningRound, ListeningRoundRow),
    Table(ListeningParticipant, ListeningParticipantRow),
    Table(MoneyRound, MoneyRoundRow),
    Table(MoneyOffer, MoneyOfferRow),
    Table(Conflict, ConflictRow),
    Table(ConflictParty, ConflictPartyRow),
    Table(Venture, VentureRow),
    Table(CoOwner, CoOwnerRow),
    Table(LedgerEntry, LedgerRow),
]
TABLE_OF_ROW = {table.row: table for table in TABLES}
