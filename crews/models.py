"""Crews and dyads — the circles that meet — their members over time, and their meetings."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from timezone_field import TimeZoneField

from congregations.fields import BoundedTextField
from congregations.models import Congregation, RequestKeyed, Self, TenantOwned
from congregations.scoping import TenantManager
from congregations.validators import single_line

# Each length is said once, here: the model field, its forms and its services all read it.
CREW_NAME_LENGTH = 100
CREW_PURPOSE_LENGTH = 1000
PLACE_LENGTH = 300
AGENDA_LENGTH = 2000
NOTES_LENGTH = 10000


class Kind(models.TextChoices):
    # Translators: A crew is a small group of 3–8 people who meet about once a month (the
    # proposal's "Crew"). Shown beside a crew's name, in lower case.
    CREW = "crew", pgettext_lazy("kind", "crew")
    # Translators: A dyad is a partnership of two people who meet about once a month (the
    # proposal's "Dyad"). Shown beside a dyad's name, in lower case.
    DYAD = "dyad", pgettext_lazy("kind", "dyad")


# How many people a circle holds: a crew fits around one dinner table, a dyad is two.
SIZES = {Kind.CREW: (3, 8), Kind.DYAD: (2, 2)}


class CrewQuerySet(models.QuerySet["Crew"]):
    def formed(self) -> CrewQuerySet:
        return self.filter(formed_at__isnull=False)


class Crew(TenantOwned, RequestKeyed):
    """A crew (3–8 people) or a dyad (2): both meet, and both score the same way."""

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.CREW)
    name = models.CharField(max_length=CREW_NAME_LENGTH, validators=[single_line])
    purpose = BoundedTextField(blank=True, max_length=CREW_PURPOSE_LENGTH)
    timezone = TimeZoneField(default="UTC", help_text=_("Meeting times are set in this timezone."))
    proposed_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    # Set once enough people have joined; a proposal until then.
    formed_at = models.DateTimeField(null=True, blank=True)
    # When the monthly-rhythm job last nudged it (crews.services.reminders): once a month,
    # so a run that finds every quiet crew nudged already has nothing to do.
    rhythm_nudged_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects: ClassVar = TenantManager(models.Manager.from_queryset(CrewQuerySet))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "congregation", Lower("name"), name="crew_name_unique_in_congregation"
            ),
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="crew_request_key"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def min_size(self) -> int:
        return SIZES[Kind(self.kind)][0]

    @property
    def max_size(self) -> int:
        return SIZES[Kind(self.kind)][1]

    @property
    def is_dyad(self) -> bool:
        return self.kind == Kind.DYAD


class CrewMembershipQuerySet(models.QuerySet["CrewMembership"]):
    def current(self) -> CrewMembershipQuerySet:
        return self.filter(left_at__isnull=True)

    def at(self, moment: datetime) -> CrewMembershipQuerySet:
        """Who was in the crew at ``moment``: joined by then and not yet left (the ORM's
        spelling of reciprocity.rules.member_at)."""
        return self.filter(joined_at__lte=moment).filter(
            Q(left_at__isnull=True) | Q(left_at__gt=moment)
        )


class CrewMembership(TenantOwned):
    """A Self in a crew from joined_at until left_at, so "who was a member at the time of
    this meeting" stays answerable."""

    crew = models.ForeignKey(Crew, on_delete=models.PROTECT, related_name="memberships")
    member = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="crew_memberships")
    joined_at = models.DateTimeField(default=now)
    left_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar = TenantManager(
        models.Manager.from_queryset(CrewMembershipQuerySet),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["crew", "member"],
                condition=Q(left_at__isnull=True),
                name="one_current_crew_membership",
            ),
            models.CheckConstraint(
                condition=Q(left_at__isnull=True) | Q(left_at__gte=models.F("joined_at")),
                name="crew_membership_leaves_after_joining",
            ),
        ]
        indexes = [models.Index(fields=["member", "crew"], name="crewmembership_member_crew")]

    def __str__(self) -> str:
        return f"{self.member} in {self.crew}"


class CrewInvitation(TenantOwned):
    """An invitation to join a proposed (or formed) crew, answered by its invitee alone."""

    crew = models.ForeignKey(Crew, on_delete=models.PROTECT, related_name="invitations")
    invitee = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="crew_invitations")
    invited_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=now)
    # Set when the invitation closes: answered, or withdrawn (then ``accepted`` stays None),
    # so every list of open invitations drops it.
    answered_at = models.DateTimeField(null=True, blank=True)
    accepted = models.BooleanField(null=True)
    # Set when the crew filled before the invitee answered: a seat is a seat.
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["crew", "invitee"],
                condition=Q(answered_at__isnull=True),
                name="one_open_crew_invitation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} to {self.crew}"


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("a meeting", "scheduled")
    CANCELLED = "cancelled", pgettext_lazy("a meeting", "cancelled")
    LOGGED = "logged", pgettext_lazy("a meeting", "logged")


class Meeting(TenantOwned, RequestKeyed):
    """A crew's meeting. ``starts_at`` is the instant; ``timezone`` is the zone it was set
    in, so it reads the same wall-clock time in the crew's calendar across DST changes."""

    # The request key's unique index leads with the congregation, meeting_crew_starts below
    # with the crew: a second index on either would only cost, at every write (the
    # missed-meeting job marks thousands of meetings at once).
    congregation = models.ForeignKey(
        Congregation, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    crew = models.ForeignKey(
        Crew, on_delete=models.PROTECT, related_name="meetings", db_index=False
    )
    starts_at = models.DateTimeField()
    timezone = TimeZoneField(default="UTC")
    place = models.CharField(
        _("place or call link"), max_length=PLACE_LENGTH, blank=True, validators=[single_line]
    )
    agenda = BoundedTextField(blank=True, max_length=AGENDA_LENGTH)
    status = models.CharField(
        max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.SCHEDULED
    )
    # Who scheduled, cancelled and logged it is read with the meeting, never searched by
    # (and Selves are anonymised, never deleted): no index to update on every change.
    scheduled_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    logged_at = models.DateTimeField(null=True, blank=True)
    logged_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True, db_index=False
    )
    reflections = BoundedTextField(
        # Translators: a meeting's reflections (the proposal's "where we have been").
        _("where we have been"),
        blank=True,
        max_length=NOTES_LENGTH,
    )
    envisioning = BoundedTextField(
        # Translators: a meeting's envisioning (the proposal's "where we might go").
        _("where we might go"),
        blank=True,
        max_length=NOTES_LENGTH,
    )
    # Bumped by every change, so an edit made on a stale copy is detected, not applied.
    version = models.PositiveIntegerField(default=1)
    # Set when the missed-meeting job has settled this meeting, so it is looked at once.
    deductions_applied_at = models.DateTimeField(null=True, blank=True)
    # Set when the crew was nudged to log it, so they are nudged once.
    log_nudge_sent_at = models.DateTimeField(null=True, blank=True)
    # When the emails saying why were queued for its deductions: the claim of the job's
    # second pass, which reads the rows the first just wrote instead of rescanning the
    # ledger.
    deduction_emails_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [
            models.Index(fields=["crew", "-starts_at"], name="meeting_crew_starts"),
            # The missed-meeting job scans unsettled meetings by start time.
            models.Index(
                fields=["starts_at"],
                condition=Q(deductions_applied_at__isnull=True),
                name="meeting_unsettled_starts",
            ),
            # Its second pass finds the few settled meetings whose emails wait.
            models.Index(
                fields=["id"],
                condition=Q(
                    deductions_applied_at__isnull=False, deduction_emails_queued_at__isnull=True
                ),
                name="meeting_deduction_emails_due",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=MeetingStatus.LOGGED, logged_at__isnull=False)
                | ~Q(status=MeetingStatus.LOGGED),
                name="logged_meeting_has_logged_at",
            ),
            # Two meetings of a crew at one moment would each be missed by whoever logged
            # the other: −5 each for a meeting that never happened apart.
            models.UniqueConstraint(
                fields=["crew", "starts_at"],
                condition=~Q(status=MeetingStatus.CANCELLED),
                name="one_meeting_per_crew_start",
            ),
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="meeting_request_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crew} on {self.local_start:%Y-%m-%d %H:%M}"

    @property
    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.timezone)

    @property
    def is_cancelled(self) -> bool:
        return self.status == MeetingStatus.CANCELLED

    @property
    def is_logged(self) -> bool:
        return self.status == MeetingStatus.LOGGED

    def has_started(self, moment: datetime) -> bool:
        return self.starts_at <= moment

    def log_closes_at(self) -> datetime:
        return self.starts_at + self.congregation.meeting_grace

    def can_change_at(self, moment: datetime) -> bool:
        """Rescheduling and cancelling are for a scheduled meeting that has not started."""
        return self.status == MeetingStatus.SCHEDULED and not self.has_started(moment)

    def can_log_at(self, moment: datetime) -> bool:
        """A meeting is logged once, between its start and the end of the grace period,
        and never once it has been settled as missed."""
        return (
            self.status == MeetingStatus.SCHEDULED
            and self.deductions_applied_at is None
            and self.has_started(moment)
            and moment <= self.log_closes_at()
        )

    @property
    def is_settled_as_missed(self) -> bool:
        """Settled by the missed-meeting job without having been logged: missed by all."""
        return self.status == MeetingStatus.SCHEDULED and self.deductions_applied_at is not None


class Attendance(TenantOwned):
    """Whether a member of the crew at the time was there. Before the meeting is logged
    these rows are a draft that taps in the browser change; logging fixes them."""

    # The unique (meeting, member) and the (member, meeting) index serve lookups by either.
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, related_name="attendances", db_index=False
    )
    member = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="attendances", db_index=False
    )
    present = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="one_attendance_per_member")
        ]
        indexes = [models.Index(fields=["member", "meeting"], name="attendance_member_meeting")]

    def __str__(self) -> str:
        return f"{self.member} {'at' if self.present else 'missed'} {self.meeting}"


class MeetingReminder(TenantOwned):
    """A reminder due before a meeting's start. One per start time: rescheduling arms a
    new one, and a reminder whose meeting has moved or been cancelled is never sent."""

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="reminders")
    starts_at = models.DateTimeField()
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "starts_at"], name="one_reminder_per_start")
        ]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(sent_at__isnull=True), name="reminder_unsent_due"
            )
        ]

    def __str__(self) -> str:
        return f"reminder of {self.meeting}"


class CalendarFeed(models.Model):
    """A Self's secret, revocable iCalendar address. Only a hash of its token is kept."""

    owner = models.OneToOneField(Self, on_delete=models.PROTECT, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)

    def __str__(self) -> str:
        return f"calendar of {self.owner}"
