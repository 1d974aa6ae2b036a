"""The Reciprocity Game: an append-only ledger of points, and the rounds, conflicts and
ventures the points come from."""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import get_current_timezone, now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from congregations.models import Congregation, RequestKeyed, Self, TenantOwned
from congregations.validators import single_line
from crews.models import Crew, Meeting

from .rules import REASON_LENGTH, LegalForm, Level, Rule, entry_day, localized_reason

__all__ = ["LegalForm"]  # kept in reciprocity.rules, where an entry's reason names it

# Each length is said once, here: the model field, its forms and its services all read it.
CONFLICT_TITLE_LENGTH = 200
VENTURE_NAME_LENGTH = 200
CORRECTION_REASON_LENGTH = 200  # why a facilitator corrects an entry


class ListeningRound(TenantOwned, RequestKeyed):
    """Level 1: a round at a meeting in which, ideally, everyone listened to everyone."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="listening_rounds")
    everyone_listened = models.BooleanField()
    recorded_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting"], name="one_listening_round_per_meeting"),
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="listening_round_request_key"
            ),
        ]

    def __str__(self) -> str:
        return f"listening round at {self.meeting}"


class ListeningParticipant(TenantOwned):
    round = models.ForeignKey(ListeningRound, on_delete=models.PROTECT, related_name="participants")
    participant = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "participant"], name="one_listening_seat")
        ]

    def __str__(self) -> str:
        return f"{self.participant} in {self.round}"


class MoneyRound(TenantOwned, RequestKeyed):
    """Level 2: a focus person talks about the work they do for money and the work most
    meaningful to them, may ask for what they need, and others may offer."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="money_rounds")
    focus = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    asked = models.BooleanField()
    mutual_respect = models.BooleanField()
    recorded_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "focus"], name="one_money_round_per_focus"),
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="money_round_request_key"
            ),
        ]

    def __str__(self) -> str:
        return f"money round for {self.focus} at {self.meeting}"


class OfferKind(models.TextChoices):
    # Translators: what someone offered the focus person in a money round: a perspective.
    PERSPECTIVE = "perspective", _("perspective")
    # Translators: what someone offered in a money round: a process, a way of doing things.
    PROCESS = "process", _("process")
    # Translators: what someone offered in a money round: an introduction to someone.
    INTRODUCTION = "introduction", _("introduction")
    # Translators: what someone offered in a money round: encouragement.
    ENCOURAGEMENT = "encouragement", _("encouragement")


class MoneyOffer(TenantOwned):
    round = models.ForeignKey(MoneyRound, on_delete=models.PROTECT, related_name="offers")
    offerer = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=OfferKind.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "offerer", "kind"], name="one_offer_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.offerer} offered {self.kind or 'something'}"


class ConflictStatus(models.TextChoices):
    # Translators: the state of a conflict between members of a crew: still open.
    OPEN = "open", _("open")
    # Translators: the state of a conflict: resolved together.
    RESOLVED = "resolved", _("resolved")
    # Translators: the state of a conflict: its parties found no agreeable resolution.
    UNRESOLVED = "unresolved", _("no agreeable resolution")
    # Translators: the state of a conflict: still open when its deadline passed.
    EXPIRED = "expired", _("past its deadline")
    # Translators: the state of a conflict: closed because fewer than two parties remain.
    WITHDRAWN = "withdrawn", _("closed: fewer than two parties remain")


class Conflict(TenantOwned, RequestKeyed):
    """Level 4: a private record between two or more members of one crew."""

    crew = models.ForeignKey(Crew, on_delete=models.PROTECT, related_name="conflicts")
    title = models.CharField(max_length=CONFLICT_TITLE_LENGTH, blank=True, validators=[single_line])
    opened_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(default=now)
    deadline_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=ConflictStatus.choices, default=ConflictStatus.OPEN
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="conflict_request_key"
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline_at"],
                condition=Q(status="open"),
                name="conflict_open_deadline",
            )
        ]

    def __str__(self) -> str:
        # Translators: a conflict without a title, named by its crew (a small group
        # of 3–8 people who meet about once a month, the proposal's "Crew").
        return self.title or gettext("conflict in %(crew)s") % {"crew": self.crew}

    @property
    def is_open(self) -> bool:
        return self.status == ConflictStatus.OPEN


class ConflictParty(TenantOwned):
    conflict = models.ForeignKey(Conflict, on_delete=models.PROTECT, related_name="parties")
    party = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="conflict_parties")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when the party left the crew or the congregation: nothing waits on them since.
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["conflict", "party"], name="one_seat_per_party")
        ]

    def __str__(self) -> str:
        return f"{self.party} in {self.conflict}"


class Venture(TenantOwned, RequestKeyed):
    """Level 5: a venture whose legal ownership is shared among members of the congregation."""

    name = models.CharField(max_length=VENTURE_NAME_LENGTH, validators=[single_line])
    legal_form = models.CharField(max_length=20, choices=LegalForm.choices)
    registered_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(default=now)
    # When the last co-owner confirmed, and the points were awarded.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when fewer than two co-owners remained to confirm it: it never scores.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-registered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="venture_request_key"
            ),
            models.UniqueConstraint(
                "congregation", Lower("name"), name="venture_name_unique_in_congregation"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CoOwner(TenantOwned):
    venture = models.ForeignKey(Venture, on_delete=models.PROTECT, related_name="co_owners")
    co_owner = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="co_ownerships")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when an unconfirmed co-owner left the congregation: the venture no longer waits.
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["venture", "co_owner"], name="one_share_per_co_owner")
        ]

    def __str__(self) -> str:
        return f"{self.co_owner} in {self.venture}"


# What can earn an entry its points, each a column of its own (LedgerEntry).
SOURCES = ("meeting", "listening_round", "money_round", "conflict", "venture")
M = TypeVar("M", bound=models.Model)


def _source(model: type[M]) -> models.ForeignKey[M | None, M | None]:
    return models.ForeignKey(
        model, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )


class LedgerEntry(TenantOwned):
    """One gain or loss of points. Append-only: the database itself refuses UPDATE and
    DELETE on this table; a correction is a new entry that names the one it reverses."""

    append_only = True

    # No index of their own: the indexes in Meta lead with each of these three.
    congregation = models.ForeignKey(
        Congregation, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    member = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="ledger_entries", db_index=False
    )
    # Empty for level 5: co-ownership belongs to the congregation, not to a crew.
    crew = models.ForeignKey(
        Crew,
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        null=True,
        blank=True,
        db_index=False,
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    rule = models.CharField(max_length=20, choices=Rule.choices)
    points = models.IntegerField()
    # The reason as written, in English: the record. Shown only for an entry without parts.
    reason = models.CharField(max_length=REASON_LENGTH)
    # What the reason names (rules.Parts), so that each reader reads it in their language
    # (localized_reason). The database's default lets a row written without them (the
    # benchmark's COPY, the missed-meeting job's SQL before it named them) be written still.
    reason_parts = models.JSONField(default=dict, db_default={}, blank=True)
    # When what earned the points happened (a meeting's start, a confirmation); the score
    # chart is drawn along this.
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=now)
    # Empty when a background job wrote it. Read with the entry, never searched by: no index.
    recorded_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    idempotency_key = models.CharField(max_length=200)
    # What earned the points: one of these at most, the rest empty. Each is indexed only
    # where it is set (Meta), so an entry costs no index entry for the four it leaves empty.
    meeting = _source(Meeting)
    listening_round = _source(ListeningRound)
    money_round = _source(MoneyRound)
    conflict = _source(Conflict)
    venture = _source(Venture)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, related_name="reversed_by", null=True, blank=True
    )

    class Meta:
        verbose_name_plural = "ledger entries"
        ordering = ["-occurred_at", "-id"]
        constraints = [
            # A retried request or job writes nothing new.
            models.UniqueConstraint(
                fields=["congregation", "idempotency_key"], name="ledger_idempotency_key"
            ),
            models.CheckConstraint(
                condition=Q(level=Level.CO_OWNERS) | Q(crew__isnull=False),
                name="ledger_crew_points_have_a_crew",
            ),
        ]
        indexes = [
            # A crew's scores, breakdown by level and history along time, and its export in
            # order. The trailing columns are all those sums read (congregation_id is in
            # every scoped query), so they are answered from the index alone.
            models.Index(
                fields=["crew", "occurred_at", "member", "level", "points", "congregation"],
                name="ledger_crew_scores",
            ),
            # A member's own page and member_score: per crew and per level, from the index.
            models.Index(
                fields=["member", "congregation", "crew", "level", "points"],
                name="ledger_member_scores",
            ),
            *(
                models.Index(
                    fields=[source],
                    condition=Q(**{f"{source}__isnull": False}),
                    name=f"ledger_{source}",
                )
                for source in SOURCES
            ),
        ]

    def __str__(self) -> str:
        return f"{self.points:+d} {self.member}: {self.reason}"

    @property
    def localized_reason(self) -> str:
        """Its reason in the active language, read from its parts (no query)."""
        return localized_reason(self.rule, self.reason_parts, self.reason)

    @property
    def day(self) -> date:
        """The day it happened, as its reason names it (selectors.entries reads its
        meeting and crew with it); one of level 5 on the reader's clock."""
        return entry_day(
            self.occurred_at,
            self.meeting.timezone if self.meeting else None,
            self.crew.timezone if self.crew else None,
            get_current_timezone(),
        )


class Dispute(TenantOwned):
    """A member marked absent says they were at the meeting: a crew-mate who was marked
    present there confirms, and the −5 is reversed with both their names."""

    # The missed-meeting −5 disputed; once only.
    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="dispute")
    disputed_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    disputed_at = models.DateTimeField(default=now)
    confirmed_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reversal = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Set when nobody is left to confirm it, or the one who disputed left.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-disputed_at"]

    def __str__(self) -> str:
        return f"{self.disputed_by} disputes {self.entry}"

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.withdrawn_at is None
