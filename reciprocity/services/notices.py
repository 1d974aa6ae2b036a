"""The game's emails: why points were deducted (with each deduction's notification), and
a warning before a conflict's deadline (which marks the conflict warned)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext

from congregations import tasks as congregation_tasks
from congregations.models import Ask, Congregation, EmailOptOut, Notification, Self
from congregations.services.notifications import Notice, can_hear, mark_read, notify
from congregations.services.outbox import Outgoing, queue_emails
from crews.links import crew_url
from crews.models import Meeting
from microsolidarity.arrays import one_of
from microsolidarity.enqueue import enqueue_after_commit
from microsolidarity.services.batches import each_due

from ..models import Conflict, ConflictStatus, LedgerEntry, LegalForm, Venture
from ..rules import POINTS, Rule, localized_reason, signed
from ..selectors import witnessed

WARN_BEFORE = timedelta(days=7)
# Meetings whose emails are queued in one transaction: a month at 40,000 members is one.
MEETINGS_A_BATCH = 10_000
NEWS_FOR = timedelta(days=2)


def queue_missed_meeting_emails(*, now: datetime | None = None, limit: int | None = None) -> int:
    """One short email per missed-meeting deduction, saying why and how to dispute it, and
    a notification that asks the same: from the entries of each meeting the job has
    settled and not yet emailed about, a batch at a time, so nothing rescans the ledger and
    each email is rendered once; at most ``limit`` meetings a run. Starts the outbox once
    the batch commits; returns how many emails were queued."""
    now = now or timezone.now()

    def due() -> QuerySet[Meeting]:
        return Meeting.objects.filter(
            deductions_applied_at__isnull=False, deduction_emails_queued_at__isnull=True
        )

    queue = partial(_queue_missed, now=now)
    queued = each_due(
        "queue_missed_meeting_emails",
        due,
        lambda meeting: queue(Meeting.objects.filter(pk=meeting.pk)),
        now=now,
        batch=MEETINGS_A_BATCH,
        process_batch=queue,
        limit=limit,
    )
    if queued:
        enqueue_after_commit(congregation_tasks.send_emails)
    return queued


# Translators: A crew-mate is someone in the same crew (a small group that meets about once
# a month).
ASK_A_CREW_MATE = _("Were you there? Say so, and a crew-mate who was there confirms.")
# Nobody marked present is left in the crew (a meeting nobody logged, say): none can confirm.
# Translators: A facilitator is a member who looks after the congregation (invites people,
# corrects the ledger).
ASK_A_FACILITATOR = _("Were you there? Nobody who was is left to confirm it: ask a facilitator.")


def _queue_missed(meetings: QuerySet[Meeting], *, now: datetime) -> int:
    settled = list(meetings.values_list("pk", "deductions_applied_at"))
    # A deduction settled longer ago than this is no news (a loaded history, a job that
    # was down for days): its meeting is marked, and nobody is emailed about it now.
    news = [pk for pk, settled_at in settled if settled_at and settled_at >= now - NEWS_FOR]
    deductions = (
        list(
            LedgerEntry.objects.filter(meeting_id__in=one_of(news), rule=Rule.MISSED)
            .select_related("member", "crew__congregation", "meeting")
            .annotate(witnessed=witnessed())
            .order_by("pk")
        )
        if news
        else []
    )
    heard = [d for d in deductions if can_hear(d.member)]
    # A deduction's notification is emailed by this email, as notify would decide: not now
    # to whoever turned deduction emails off or takes one email a day.
    off = set(
        EmailOptOut.objects.filter(
            owner_id__in=one_of(list({d.member_id for d in heard})), ask=Ask.DEDUCTION
        ).values_list("owner_id", flat=True)
        if heard
        else []
    )
    emailed = {d.pk for d in heard if d.member_id not in off and not d.member.email_digest}
    queued = len(queue_emails((_missed(d) for d in heard if d.pk in emailed), now=now))
    Notification.objects.bulk_create(
        (
            Notification(
                congregation_id=d.congregation_id,
                recipient=d.member,
                ask=Ask.DEDUCTION,
                about=f"deduction:{d.pk}",
                text=_deduction_text(d),
                path=_entry_path(d),
                created_at=now,
                emailed_at=now if d.pk in emailed else None,
            )
            for d in heard
        ),
        ignore_conflicts=True,
    )
    Meeting.objects.filter(pk__in=one_of([pk for pk, _ in settled])).update(
        deduction_emails_queued_at=now
    )
    return queued


def _deduction_text(deduction: LedgerEntry) -> str:
    """A deduction's notification, written now in its member's language (these rows are
    made here, not by notify)."""
    with translation.override(deduction.member.email_language):
        ask = ASK_A_CREW_MATE if deduction.witnessed else ASK_A_FACILITATOR  # type: ignore[attr-defined]
        return f"{signed(deduction.points)}: {deduction.localized_reason}. {ask}"


def _entry_path(deduction: LedgerEntry) -> str:
    slug = deduction.crew.congregation.slug  # type: ignore[union-attr]
    return reverse("reciprocity:entry", kwargs={"congregation_slug": slug, "pk": deduction.pk})


def _missed(deduction: LedgerEntry) -> Outgoing:
    crew = deduction.crew
    assert crew is not None, "a missed meeting is always a crew's"
    return Outgoing(
        congregation_id=deduction.congregation_id,
        recipient=deduction.member,
        key=deduction.idempotency_key,
        subject=format_lazy(
            # Translators: An email's subject: "-5 points: a missed Tuesday crew meeting"; crew is
            # the name of a crew (a small group of 3–8 people who meet about once a month).
            _("{points} points: a missed {crew} meeting"),
            points=POINTS[Rule.MISSED],
            crew=crew.name,
        ),
        template="reciprocity/email/missed.txt",
        context={
            "entry": deduction,
            "crew": crew,
            "url": crew_url(crew),
            "entry_url": settings.SITE_URL + _entry_path(deduction),
            "witnessed": deduction.witnessed,  # type: ignore[attr-defined]
        },
        kind=Ask.DEDUCTION,
    )


def warn_conflicts_nearing_deadline(*, now: datetime | None = None) -> int:
    """One warning to each party, a week before an open conflict's deadline."""
    now = now or timezone.now()

    def due() -> QuerySet[Conflict]:
        return Conflict.objects.filter(
            status=ConflictStatus.OPEN,
            warned_at__isnull=True,
            deadline_at__gt=now,
            deadline_at__lte=now + WARN_BEFORE,
        ).select_related("crew__congregation")

    return each_due("warn_conflicts", due, partial(_warn, now=now), now=now)


def _warn(conflict: Conflict, *, now: datetime) -> int:
    """Not to a party who turned conflict emails off: the warning is one of them."""
    url = settings.SITE_URL + _path("conflict", conflict.crew.congregation, pk=conflict.pk)
    off = EmailOptOut.objects.filter(owner=OuterRef("party"), ask=Ask.CONFLICT)
    # Who left the crew or the congregation is not waited on (rules.WHEN_SOMEONE_LEAVES).
    seats = conflict.parties.filter(left_at__isnull=True).exclude(Exists(off))
    emails = queue_emails(
        (
            Outgoing(
                congregation_id=conflict.congregation_id,
                recipient=seat.party,
                key=f"conflict-warning:{conflict.pk}:{seat.party_id}",
                subject=format_lazy(
                    # Translators: An email's subject; conflict is the conflict's title.
                    _("A week left to resolve “{conflict}”"),
                    conflict=str(conflict),
                ),
                template="reciprocity/email/conflict_warning.txt",
                context={"conflict": conflict, "points": POINTS[Rule.EXPIRED], "url": url},
                kind=Ask.CONFLICT,
            )
            for seat in seats.select_related("party")
        ),
        now=now,
    )
    conflict.warned_at = now
    conflict.save(update_fields=["warned_at"])
    return len(emails)


def _path(name: str, congregation: Congregation, **kwargs: object) -> str:
    return reverse(f"reciprocity:{name}", kwargs={"congregation_slug": congregation.slug, **kwargs})


def ask_parties(conflict: Conflict, *, opened_by: Self, now: datetime) -> None:
    """Every other party is asked to resolve it; the deadline in their own timezone."""
    congregation = conflict.crew.congregation
    notify(
        (
            Notice(
                congregation_id=conflict.congregation_id,
                recipient=seat.party,
                about=f"conflict:{conflict.pk}",
                ask=Ask.CONFLICT,
                actor=opened_by,
                text=format_lazy(
                    _(
                        # Translators: crew is the name of a crew (a small group of 3–8 people who
                        # meet about once a month); conflict is the conflict's title; day reads like
                        # "Sunday 13 December".
                        "{name} opened a conflict with you in {crew}: “{conflict}”. "
                        "Resolve it together by {day}."
                    ),
                    name=str(opened_by),
                    crew=str(conflict.crew),
                    conflict=str(conflict),
                    day=_day(conflict.deadline_at, seat.party),
                ),
                path=_path("conflict", congregation, pk=conflict.pk),
                subject=format_lazy(
                    # Translators: An email's subject; conflict is the conflict's title.
                    _("{name} opened a conflict with you: “{conflict}”"),
                    name=str(opened_by),
                    conflict=str(conflict),
                ),
                template="reciprocity/email/conflict_opened.txt",
                context={"conflict": conflict, "opened_by": opened_by, **_conflict_points()},
            )
            for seat in conflict.parties.select_related("party").exclude(party=opened_by)
        ),
        now=now,
    )


def _conflict_points() -> dict[str, int]:
    return {"resolved": POINTS[Rule.RESOLVED], "lost": -POINTS[Rule.EXPIRED]}


def _day(moment: datetime, self_: Self) -> str:
    """The day on the Self's clock, written when read: "Sunday 13 December"."""
    return _local_day(moment.astimezone(self_.timezone))


def _written_day(local: datetime) -> str:
    # Translators: a date format in the letters of Django's date filter; escape literal
    # letters with a backslash. A day in a notification: "Sunday 13 December".
    return date_format(local, pgettext("date format", "l j F"))


_local_day = lazy(_written_day, str)


def ask_co_owners(venture: Venture, *, registered_by: Self, now: datetime) -> None:
    """Every other co-owner is asked to confirm their share."""
    notify(
        (
            Notice(
                congregation_id=venture.congregation_id,
                recipient=share.co_owner,
                about=f"venture:{venture.pk}",
                ask=Ask.CO_OWNERSHIP,
                actor=registered_by,
                text=format_lazy(
                    _(
                        # Translators: venture is a venture's name (a company, association or co-op
                        # whose legal ownership members share); legal_form is its kind: company,
                        # association, co-op, savings pool, lending circle or livelihood pod.
                        "{name} registered {venture} ({legal_form}) with you as a co-owner. "
                        "Confirm your share."
                    ),
                    name=str(registered_by),
                    venture=str(venture),
                    legal_form=LegalForm(venture.legal_form).label,
                ),
                path=_path("venture", venture.congregation, pk=venture.pk),
                # Translators: An email's subject; venture is a venture's name (a company,
                # association or co-op whose legal ownership members share).
                subject=format_lazy(_("Confirm your share of {venture}"), venture=str(venture)),
                template="reciprocity/email/co_ownership.txt",
                context={
                    "venture": venture,
                    "registered_by": registered_by,
                    "points": POINTS[Rule.CO_OWNED],
                },
            )
            for share in venture.co_owners.select_related("co_owner").exclude(
                co_owner=registered_by
            )
        ),
        now=now,
    )


def done(subject: Conflict | Venture, *, by: Self | None = None, now: datetime) -> None:
    """What ``subject`` asked of ``by`` (or, once it is closed, of everyone) is done."""
    about = f"{'conflict' if isinstance(subject, Conflict) else 'venture'}:{subject.pk}"
    mark_read(congregation_id=subject.congregation_id, about=about, recipient=by, now=now)


def tell_points(entries: list[LedgerEntry], *, now: datetime) -> None:
    """Each Self hears of the points written for them: news, on their own entries page."""
    if not entries:
        return
    congregations = Congregation.objects.in_bulk({e.congregation_id for e in entries})
    selves = Self.objects.in_bulk({e.member_id for e in entries})
    notify(
        (
            Notice(
                congregation_id=e.congregation_id,
                recipient=selves[e.member_id],
                about=f"points:{e.idempotency_key}",
                text=_points_text(e.points, e.rule, e.reason_parts, e.reason),
                path=_path("my_entries", congregations[e.congregation_id]),
            )
            for e in entries
        ),
        now=now,
    )


def _written_points(points: int, rule: str, parts: dict[str, object], stored: str) -> str:
    # Translators: A notification of points written to one's ledger: "+5 points: Asked for
    # something they need: …"; points is signed.
    text = ngettext("{points} point: {reason}", "{points} points: {reason}", abs(points))
    return text.format(points=signed(points), reason=localized_reason(rule, parts, stored))


# Written in the reader's language when notify writes it, not the language of whoever acted.
_points_text = lazy(_written_points, str)
