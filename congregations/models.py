"""Selves, the congregations they belong to, and how they were invited in."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from timezone_field import TimeZoneField

from .fields import BoundedTextField
from .scoping import TenantManager
from .validators import single_line

DEFAULT_PURPOSE = "people supporting each other to do more meaningful work"

# Each length is said once, here: the model field, its forms and its services all read it.
EMAIL_LENGTH = 254  # RFC 5321's longest path, Django's EmailField default
DISPLAY_NAME_LENGTH = 100
WORK_LENGTH = 2000
CONGREGATION_NAME_LENGTH = 120
PURPOSE_LENGTH = 300
NOTE_LENGTH = 1000

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class SelfManager(BaseUserManager["Self"]):
    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        return (email or "").strip().lower()

    def get_by_natural_key(self, email: str | None) -> Self:
        return self.get(email=self.normalize_email(email))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> Self:
        if not email:
            raise ValueError("A Self needs an email address.")
        from allauth.account.models import EmailAddress  # the manager loads before allauth

        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        # Made by hand on the server (an operator, the demo): the address is theirs, and
        # allauth's email change expects a verified one to replace.
        EmailAddress.objects.using(self._db).create(
            user=user, email=user.email, primary=True, verified=True
        )
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> Self:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class Self(AbstractBaseUser, PermissionsMixin):
    """A person. The proposal's "Self": a network of identities sharing custody of one body."""

    email = models.EmailField(unique=True, max_length=EMAIL_LENGTH)
    display_name = models.CharField(max_length=DISPLAY_NAME_LENGTH, validators=[single_line])
    timezone = TimeZoneField(default="UTC")
    paid_work = BoundedTextField(_("the work I do for money"), blank=True, max_length=WORK_LENGTH)
    meaningful_work = BoundedTextField(
        _("the work most meaningful to me"), blank=True, max_length=WORK_LENGTH
    )
    reminders_enabled = models.BooleanField(
        _("email me before my crews meet, and when none is scheduled"), default=True
    )
    # What waits for them comes in one email a day instead of one email each.
    # The database's default too: rows loaded in bulk (the benchmark's COPY) name no value.
    email_digest = models.BooleanField(
        _("one email a day instead of one each"), default=False, db_default=False
    )
    # The language they chose in the profile or the switcher; empty until they choose, and
    # meanwhile every page follows their browser. The database's default too, as above.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        db_default="",
    )
    # What their browser asked for when they last signed in: their emails' language until
    # they choose one.
    browser_language = models.CharField(
        max_length=8, choices=settings.LANGUAGES, blank=True, default="", db_default=""
    )
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

    @property
    def email_language(self) -> str:
        """The language their emails are written in: the one they chose, else their
        browser's at their last sign-in, else the site's."""
        return self.language or self.browser_language or settings.LANGUAGE_CODE


def _between(least: int, most: int, too_few: StrOrPromise, too_many: StrOrPromise) -> list[Any]:
    """The validators of a setting that must stay within [least, most]: ``full_clean`` (so
    every service) and the settings form apply them, and the form's number input carries
    the same bounds as ``min`` and ``max``."""
    return [MinValueValidator(least, too_few), MaxValueValidator(most, too_many)]


# Every setting has bounds, so that no value can break the game:
# - quota 0–50: 0 leaves inviting to facilitators; 50 people from one member is already a
#   quarter of a congregation at the default cap.
# - soft threshold 1–300 and cap 2–300: two people are the smallest circle that meets (a
#   dyad); past Dunbar's range (about 150, up to a few hundred) most no longer know each
#   other's name, which is the point of a congregation. The default stays 200.
# - invitation lifetime 1–90 days: a link is single-use but still a key; a season at most.
# - meeting grace 12–336 hours: under half a day a crew can hardly log a meeting before it
#   counts as missed (0 made every meeting a missed one); over two weeks, missing one costs
#   nothing until the next meeting is near.
# - conflict deadline 7–365 days: a week to talk it through at least, a year at most.
# - reminder lead 1–168 hours: from an hour before to a week before.
SETTING_BOUNDS = {
    "invitation_quota": (0, 50),
    "soft_size_threshold": (1, 300),
    "hard_size_cap": (2, 300),
    "invitation_lifetime_days": (1, 90),
    "meeting_grace_hours": (12, 336),
    "conflict_deadline_days": (7, 365),
    "reminder_lead_hours": (1, 168),
}


def _setting(field: str, too_few: StrOrPromise, too_many: StrOrPromise) -> list[Any]:
    return _between(*SETTING_BOUNDS[field], too_few, too_many)


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

    name = models.CharField(max_length=CONGREGATION_NAME_LENGTH, validators=[single_line])
    slug = models.SlugField(max_length=60, unique=True)
    # It may break lines; a NUL PostgreSQL refuses, so full_clean does too.
    purpose = models.CharField(
        max_length=PURPOSE_LENGTH,
        default=DEFAULT_PURPOSE,
        validators=[ProhibitNullCharactersValidator()],
    )
    invitation_quota = models.PositiveSmallIntegerField(
        _("invitations each member may send"),
        default=2,
        validators=_setting(
            "invitation_quota",
            _("Choose %(limit_value)s or more: 0 leaves inviting to facilitators."),
            _("Each member may send at most %(limit_value)s invitations."),
        ),
    )
    soft_size_threshold = models.PositiveIntegerField(
        _("size at which to think about splitting"),
        default=100,
        validators=_setting(
            "soft_size_threshold",
            _("Choose at least %(limit_value)s."),
            _("A congregation is at most %(limit_value)s people: choose a smaller size."),
        ),
    )
    hard_size_cap = models.PositiveIntegerField(
        _("most members, pending included"),
        default=200,
        validators=_setting(
            "hard_size_cap",
            _("A congregation needs room for at least %(limit_value)s people."),
            _(
                "A congregation is at most %(limit_value)s people: past that, most no longer "
                "know each other's name. It may be time to split in two."
            ),
        ),
    )
    invitation_lifetime_days = models.PositiveSmallIntegerField(
        default=14,
        validators=_setting(
            "invitation_lifetime_days",
            _("A link needs to work for a day at least."),
            _("A link works for %(limit_value)s days at most."),
        ),
    )
    meeting_grace_hours = models.PositiveSmallIntegerField(
        _("hours after a meeting's start to log it"),
        default=48,
        validators=_setting(
            "meeting_grace_hours",
            _(
                "A crew needs at least %(limit_value)s hours to log its meeting before it "
                "counts as missed."
            ),
            _(
                "At most %(limit_value)s hours (two weeks): a missed meeting should cost its "
                "points before the next one."
            ),
        ),
    )
    conflict_deadline_days = models.PositiveSmallIntegerField(
        default=30,
        validators=_setting(
            "conflict_deadline_days",
            _("A conflict needs %(limit_value)s days at least to be resolved."),
            _("A conflict stays open for %(limit_value)s days at most."),
        ),
    )
    reminder_lead_hours = models.PositiveSmallIntegerField(
        _("hours before a meeting to remind its crew"),
        default=24,
        validators=_setting(
            "reminder_lead_hours",
            _("Remind the crew at least %(limit_value)s hour before."),
            _("Remind the crew at most %(limit_value)s hours (a week) before."),
        ),
    )
    # Facilitators hold the keys to the congregation: it may ask each of them for a second
    # factor (a passkey or an authenticator app) before any facilitator action.
    # The database's default too: rows loaded in bulk (the benchmark's COPY) name no value.
    facilitators_need_second_factor = models.BooleanField(
        _("facilitators need a second factor"), default=False, db_default=False
    )
    # Where a time in an email goes to someone with no timezone of their own yet (an
    # invitation's expiry): the same instant reads the same, whoever sent it.
    timezone = TimeZoneField(_("timezone"), default="UTC")
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
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{field}__gte": least, f"{field}__lte": most}),
                    name=f"congregation_{field}_in_bounds",
                )
                for field, (least, most) in SETTING_BOUNDS.items()
            ),
            # Keyed per Self, who starts it: the key names them, so it is unique on its own.
            models.UniqueConstraint(fields=["request_key"], name="congregation_request_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # The soft-within-cap check constraint in words a facilitator understands, next to
        # the field (the validators say the rest); full_clean then skips the constraint.
        cap, soft = self.hard_size_cap, self.soft_size_threshold
        if cap is not None and soft is not None and soft > cap:
            raise ValidationError(
                {
                    "soft_size_threshold": _(
                        "This cannot be more than the most members the "
                        "congregation may have (%(cap)s)."
                    )
                    % {"cap": cap}
                }
            )

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


class TenantOwned(models.Model):
    """A row that belongs to one congregation, and only to it. The one base of every
    tenant-owned model: its own ``congregation`` (which scopes queries in Python), the
    scoped manager (no congregation in scope, no query), and, being a subclass, the
    row-level-security policy ``congregations.rls`` puts on its table after every
    ``migrate`` (no congregation set in the transaction, no rows)."""

    congregation = models.ForeignKey(Congregation, on_delete=models.PROTECT, related_name="+")

    objects: ClassVar = TenantManager()
    # History that is never rewritten: the runtime role may only read and add rows.
    append_only: ClassVar[bool] = False

    class Meta:
        abstract = True


class Permission(models.TextChoices):
    """What a membership may do; Role.grants is the only place that maps roles to these."""

    # Translators: a congregation is a group of 30 to 200 people who mostly know each other's
    # name (the proposal's "Congregation").
    MANAGE = "manage", _("manage the congregation")
    INVITE = "invite", _("invite people in")
    INVITE_UNLIMITED = "invite_unlimited", _("invite without a quota")


class Role(models.TextChoices):
    # Translators: a facilitator looks after the congregation (invites, removes, changes
    # settings); a member belongs to it. Lower case: they read inside sentences.
    FACILITATOR = "facilitator", pgettext_lazy("role", "facilitator")
    MEMBER = "member", pgettext_lazy("role", "member")

    @property
    def grants(self) -> frozenset[Permission]:
        if self is Role.FACILITATOR:
            return frozenset(Permission)
        return frozenset({Permission.INVITE})


class MembershipQuerySet(models.QuerySet["Membership"]):
    def current(self) -> MembershipQuerySet:
        return self.filter(left_at__isnull=True)


class Membership(TenantOwned, RequestKeyed):
    """A Self in a congregation. Leaving sets left_at; the row stays as history. The request
    key is the sign-up form's, which makes the Self and this membership at once."""

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


class MembershipEvent(TenantOwned):
    """Who changed whose membership, how, and when; facilitators read it."""

    class Action(models.TextChoices):
        # Translators: these read after a person's name in a congregation's History, with
        # whom it was done to in the next column: "Ana | made facilitator | Ben".
        CREATED = "created", pgettext_lazy("history: what someone did", "started the congregation")
        JOINED = "joined", pgettext_lazy("history: what someone did", "joined")
        PROMOTED = "promoted", pgettext_lazy("history: what someone did", "made facilitator")
        DEMOTED = "demoted", pgettext_lazy("history: what someone did", "made member")
        REMOVED = "removed", pgettext_lazy("history: what someone did", "removed")
        LEFT = "left", pgettext_lazy("history: what someone did", "left")
        INVITED = "invited", pgettext_lazy("history: what someone did", "invited")
        REVOKED = "revoked", pgettext_lazy("history: what someone did", "revoked an invitation for")
        RESENT = "resent", pgettext_lazy("history: what someone did", "resent an invitation to")
        SETTINGS = "settings", pgettext_lazy("history: what someone did", "changed the settings")
        WITHDRAWN = "withdrawn", pgettext_lazy("history: what someone did", "closed what waited on")

    actor = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    subject = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+", null=True)
    email = models.EmailField(blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    # What the event did, when its action alone does not say (which settings changed, what
    # was withdrawn): congregations.history's details, put into words in the reader's
    # language. The database's default lets a row be written without them.
    details = models.JSONField(default=list, db_default=[], blank=True)
    # Lines written before the details were kept said it here once, in English, and still
    # show it; newer lines leave it empty.
    detail = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["congregation", "-at"], name="event_congregation_at")]

    def __str__(self) -> str:
        return f"{self.actor} {self.get_action_display()} {self.subject or self.email}"

    def described(self) -> str:
        """What the event did beyond its action, in the active language ("" if nothing)."""
        from .history import described  # its words name the settings' labels, kept by the services

        return described(self)


# An invitation not yet accepted is reminded once, this long before its link lapses, and
# only if the link had lived at least as long again by then (a lifetime of 6 days or
# more): a link that lasts a few days needs no reminder soon after it was sent.
REMIND_BEFORE_EXPIRY = timedelta(days=3)


class Invitation(TenantOwned, RequestKeyed):
    """An emailed, single-use, expiring way in. Only a hash of the link's token is stored.
    One batch form invites several addresses, so its key is unique per address."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("invitation status", "pending")
        EXPIRED = "expired", pgettext_lazy("invitation status", "expired")
        ACCEPTED = "accepted", pgettext_lazy("invitation status", "accepted")
        REVOKED = "revoked", pgettext_lazy("invitation status", "revoked")

    email = models.EmailField(max_length=EMAIL_LENGTH)
    invited_by = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    note = BoundedTextField(blank=True, max_length=NOTE_LENGTH)
    token_hash = models.CharField(max_length=64, unique=True)
    # The link of the first email, still working after the reminder carried a fresh one
    # (only hashes are kept, so the reminder cannot repeat the first link).
    earlier_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    sent_at = models.DateTimeField()
    # When the one reminder before the link lapses was queued.
    reminded_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The outbox row of the latest email with the link: the page shows whether it went out.
    sent_email = models.ForeignKey(
        "Email", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )

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

    @property
    def lapses_soon(self) -> bool:
        """Pending, and its link lapses within the reminder's time before expiry."""
        at = now()
        return self.status_at(at) == self.Status.PENDING and (
            self.expires_at <= at + REMIND_BEFORE_EXPIRY
        )


class Email(TenantOwned):
    """An email waiting to go out, or gone. Services and jobs write these rows and one
    periodic task sends them, so a broker or mail server that is down delays an email
    instead of losing it, and ``key`` makes sure the same email is never queued twice.
    It goes to ``recipient``, or to ``address`` for someone not yet a Self (an invitation).
    Attempts and errors are kept by the job runner (``microsolidarity.ItemFailure``);
    ``failed_at`` is the final state of one that will never go out."""

    recipient = models.ForeignKey(
        Self, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    address = models.EmailField()
    key = models.CharField(max_length=200)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    attachment_name = models.CharField(max_length=100, blank=True)
    attachment = models.TextField(blank=True)
    attachment_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=now)
    send_after = models.DateTimeField(default=now)
    sent_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The kind of email its recipient can turn off with one click (congregations.unsubscribe),
    # empty for one they cannot (an invitation): it decides the List-Unsubscribe headers.
    kind = models.CharField(max_length=20, blank=True)

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
        return f"{self.subject} to {self.recipient or self.address}"


class Ask(models.TextChoices):
    """What a notification asks of its Self, if anything: each kind is one row of the
    email choices on the profile. The pages where it is done belong to the apps above."""

    # Translators: a crew is a small group of 3–8 people who meet about once a month (the
    # proposal's "Crew"); a dyad is a pair who meet the same way (the proposal's "Dyad").
    CREW_INVITATION = "crew_invitation", _("Invitations to a crew or dyad")
    CONFLICT = "conflict", _("Conflicts to resolve")
    # Translators: a venture is a shared project of several members, each a co-owner.
    CO_OWNERSHIP = "co_ownership", _("Ventures to confirm as a co-owner")
    DISPUTE = "dispute", _("A crew-mate who says they were at a meeting")
    MEETING_TO_LOG = "meeting_to_log", _("Meetings of my crews to log")
    DEDUCTION = "deduction", _("Missed-meeting deductions")


class Notification(TenantOwned):
    """Something that happened to a Self, or that asks them to act (``ask``), with the page
    where it is read or done. Read when they have seen it or done what it asked; an
    email goes with each one that asks, unless they chose otherwise."""

    recipient = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="+")
    # Empty for news (accepted, formed, confirmed, points written, corrected).
    ask = models.CharField(max_length=20, choices=Ask.choices, blank=True)
    # What it is about, e.g. "crew-invitation:17": one notification per Self per subject,
    # however often a job runs, and done together when the subject is.
    about = models.CharField(max_length=200)
    text = models.CharField(max_length=500)
    # Whose act it tells of, when its text begins with their name ("Ana invites you…"):
    # the name that goes when that Self leaves for good (privacy.services.erase_self).
    actor = models.ForeignKey(
        Self, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    path = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=now)
    read_at = models.DateTimeField(null=True, blank=True)
    # Emailed on its own, or gathered into a daily email; empty while it waits for that.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["congregation", "recipient", "about"], name="one_notification_per_about"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_recipient"),
            models.Index(
                fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.text


class EmailOptOut(models.Model):
    """A kind of notification a Self wants no email about (they still see it in the app)."""

    owner = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="email_opt_outs")
    ask = models.CharField(max_length=20, choices=Ask.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "ask"], name="one_opt_out_per_ask"),
        ]

    def __str__(self) -> str:
        return f"{self.owner}: no email about {self.get_ask_display()}"
