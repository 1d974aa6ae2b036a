"""Selves, the congregations they belong to, and how they were invited in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import now
from timezone_field import TimeZoneField

from .scoping import TenantManager

DEFAULT_PURPOSE = "people supporting each other to do more meaningful work"


class SelfManager(BaseUserManager["Self"]):
    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str | None) -> Self:
        return self.get(email=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> Self:
        if not email:
            raise ValueError("A Self needs an email address.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> Self:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class Self(AbstractBaseUser, PermissionsMixin):
    """A person. The proposal's "Self": a network of identities sharing custody of one body."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=100)
    timezone = TimeZoneField(default="UTC")
    paid_work = models.TextField("the work I do for money", blank=True, max_length=2000)
    meaningful_work = models.TextField(
        "the work most meaningful to me", blank=True, max_length=2000
    )
    reminders_enabled = models.BooleanField("email me before my crews meet", default=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)
    # A Self who leaves is anonymised, never deleted: the ledger keeps its rows.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    objects = SelfManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        verbose_name = "Self"
        verbose_name_plural = "Selves"
        constraints = [
            models.CheckConstraint(condition=Q(email=Lower("email")), name="self_email_lowercase")
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = Self.objects.normalize_email(self.email)


class RequestKeyed(models.Model):
    """A row made by a form: the form's key makes a resubmitted or retried request return
    the row it already made instead of making another."""

    # NULL, not "", for rows made without a form: NULLs never collide in the unique key.
    request_key = models.CharField(  # noqa: DJ001
        max_length=200, null=True, blank=True, editable=False
    )

    class Meta:
        abstract = True


class Congregation(RequestKeyed):
    """The tenant: 30 to 200 people, small enough that most know each other's name."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True)
    purpose = models.CharField(max_length=300, default=DEFAULT_PURPOSE)
    invitation_quota = models.PositiveSmallIntegerField(
        "invitations each member may send", default=2
    )
    soft_size_threshold = models.PositiveIntegerField(
        "size at which to think about splitting", default=100
    )
    hard_size_cap = models.PositiveIntegerField("most members, pending included", default=200)
    invitation_lifetime_days = models.PositiveSmallIntegerField(default=14)
    meeting_grace_hours = models.PositiveSmallIntegerField(
        "hours after a meeting's start to log it", default=48
    )
    conflict_deadline_days = models.PositiveSmallIntegerField(default=30)
    reminder_lead_hours = models.PositiveSmallIntegerField(
        "hours before a meeting to remind its crew", default=24
    )
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(soft_size_threshold__lte=models.F("hard_size_cap")),
                name="congregation_soft_threshold_within_cap",
            ),
            models.CheckConstraint(
                condition=Q(hard_size_cap__gte=2), name="congregation_cap_at_least_two"
            ),
            models.CheckConstraint(
                condition=Q(invitation_lifetime_days__gte=1),
                name="congregation_invitation_lifetime_positive",
            ),
            models.CheckConstraint(
                condition=Q(conflict_deadline_days__gte=1),
                name="congregation_conflict_deadline_positive",
            ),
            # Keyed per Self, who starts it: the key names them, so it is unique on its own.
            models.UniqueConstraint(fields=["request_key"], name="congregation_request_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The check constraints below say the same in words a facilitator understands, next to
        # the field; full_clean then skips the constraints on the fields named here.
        errors = {}
        cap, soft = self.hard_size_cap, self.soft_size_threshold
        if cap is not None and cap < 2:
            errors["hard_size_cap"] = "A congregation needs room for at least 2 people."
        elif cap is not None and soft is not None and soft > cap:
            errors["soft_size_threshold"] = (
                f"This cannot be more than the most members the congregation may have ({cap})."
            )
        if self.invitation_lifetime_days == 0:
            errors["invitation_lifetime_days"] = "A link needs to work for a day at least."
        if self.conflict_deadline_days == 0:
            errors["conflict_deadline_days"] = "A conflict needs a day at least to be resolved."
        if errors:
            raise ValidationError(errors)

    @property
    def meeting_grace(self) -> timedelta:
        return timedelta(hours=self.meeting_grace_hours)

    @property
    def invitation_lifetime(self) -> timedelta:
        return timedelta(days=self.invitation_lifetime_days)

    @property
    def conflict_deadline(self) -> timedelta:
        return timedelta(days=self.conflict_deadline_days)

    @property
    def reminder_lead(self) -> timedelta:
        return timedelta(hours=self.reminder_lead_hours)


class Permission(models.TextChoices):
    """What a membership may do; Role.grants is the only place that maps roles to these."""

    MANAGE = "manage", "manage the congregation"
    INVITE = "invite", "invite people in"
    INVITE_UNLIMITED = "invite_unlimited", "invite without a quota"


class Role(models.TextChoices):
    FACILITATOR = "facilitator", "facilitator"
    MEMBER = "member", "member"

    @property
    def grants(self) -> frozenset[Permission]:
        if self is Role.FACILITATOR:
            return frozenset(Permission)
        return frozenset({Permission.INVITE})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self) -> MembershipQuerySet:
        return self.filter(left_at__isnull=True)


class Membership(RequestKeyed):
    """A Self in a congregation. Leaving sets left_at; the row stays as history. The request
    key is the sign-up form's, which makes the Self and this membership at once."""

    congregation = models.ForeignKey(
        Congregation, on_delete=models.PROTECT, related_name="memberships"
    )
    member = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(default=now)
    left_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar = TenantManager(models.Manager.from_queryset(MembershipQuerySet))

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["congregation", "member"],
                condition=Q(left_at__isnull=True),
                name="one_current_membership_per_self",
            ),
            models.UniqueConstraint(
                fields=["congregation", "request_key"], name="membership_request_key"
            ),
        ]
        indexes = [
            # The tenancy middleware looks a caller up by (self, congregation) on every request.
            models.Index(fields=["member", "congregation"], name="membership_member_congregation"),
        ]

    def __str__(self) -> str:
        return f"{self.member} in {self.congregation} ({self.role})"

    def can(self, permission: Permission) -> bool:
        return self.left_at is None and permission in Role(self.role).grants

    @property
    def is_facilitator(self) -> bool:
        return self.can(Permission.MANAGE)


class MembershipEvent(models.Model):
    """Who changed whose membership, how, and when; facilitators read it."""

    class Action(models.TextChoices):
        CREATED = "created", "started the congregation"
        JOINED = "joined", "joined"
        PROMOTED = "promoted", "made facilitator"
        DEMOTED = "demoted", "made member"
        REMOVED = "removed", "removed"
        LEFT = "left", "left"
        INVITED = "invited", "invited"
        REVOKED = "revoked", "revoked an invitation for"
        RESENT = "resent", "resent an invitation to"
        SETTINGS = "settings", "changed the settings"

    congregation = models.ForeignKey(
        Congregation, on_delete=models.PROTECT, related_name="membership_events"
    )
    actor = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+", null=True)
    email = models.EmailField(blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    at = models.DateTimeField(default=now)

    objects: ClassVar = TenantManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["congregation", "-at"], name="event_congregation_at")]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display()} {self.subject or self.email}"


class Invitation(RequestKeyed):
    """An emailed, single-use, expiring way in. Only a hash of the link's token is stored.
    One batch form invites several addresses, so its key is unique per address."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        EXPIRED = "expired", "expired"
        ACCEPTED = "accepted", "accepted"
        REVOKED = "revoked", "revoked"

    congregation = models.ForeignKey(
        Congregation, on_delete=models.PROTECT, related_name="invitations"
    )
    email = models.EmailField()
    invited_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True, max_length=1000)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar = TenantManager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(
                "congregation",
                Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="one_open_invitation_per_email",
            ),
            models.UniqueConstraint(
                fields=["congregation", "request_key", "email"], name="invitation_request_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.congregation}"

    def status_at(self, now: datetime) -> Invitation.Status:
        if self.accepted_at:
            return Invitation.Status.ACCEPTED
        if self.revoked_at:
            return Invitation.Status.REVOKED
        if self.expires_at <= now:
            return Invitation.Status.EXPIRED
        return Invitation.Status.PENDING

    @property
    def status(self) -> Invitation.Status:
        return self.status_at(now())


class Email(models.Model):
    """An email waiting to go out, or gone. Background jobs write these rows and one
    periodic task sends them, so a broker or mail server that is down delays an email
    instead of losing it, and ``key`` makes sure the same email is never queued twice."""

    congregation = models.ForeignKey(Congregation, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=now)
    send_after = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Set after the last attempt fails, so a person can see what never went out.
    failed_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["congregation", "key"], name="one_email_per_key"),
        ]
        indexes = [
            models.Index(
                fields=["send_after"],
                condition=Q(sent_at__isnull=True, failed_at__isnull=True),
                name="email_unsent_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {self.recipient}"
