"""What a Self tells the congregation about themselves, and what they want emailed."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from ..models import Ask, EmailOptOut, Self
from ..unsubscribe import DAILY, KINDS, REMINDERS

PROFILE_FIELDS = (
    "display_name",
    "timezone",
    "language",
    "paid_work",
    "meaningful_work",
    "reminders_enabled",
    "email_digest",
)


@transaction.atomic
def update_profile(
    *, self_: Self, emails_about: Collection[str] | None = None, **values: Any
) -> Self:
    """Change what a Self tells the congregation about themselves and, when
    ``emails_about`` is given, the kinds of notification they are emailed about (every
    other kind is turned off). On a refusal ``self_`` keeps its old values: it is often
    ``request.user``, which the page still shows."""
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown profile fields: {', '.join(sorted(unknown))}.")
    if emails_about is not None and not set(emails_about) <= set(Ask.values):
        raise ValidationError({"emails_about": gettext("Choose among the kinds of email listed.")})
    language = values.get("language", "")
    if language and language not in dict(settings.LANGUAGES):
        offered = ", ".join(str(name) for _, name in settings.LANGUAGES)
        raise ValidationError(
            {
                "language": gettext(
                    "“%(language)s” is not a language offered here: choose one of %(offered)s, "
                    "or leave it to your browser."
                )
                % {"language": language, "offered": offered}
            }
        )
    before = {field: getattr(self_, field) for field in values}
    for field, value in values.items():
        setattr(self_, field, value)
    try:
        self_.full_clean(exclude=["password"])
    except ValidationError:
        for field, value in before.items():
            setattr(self_, field, value)
        raise
    self_.save(update_fields=list(values))
    if emails_about is not None:
        _choose_emails(self_, set(emails_about))
    return self_


def choose_language(*, self_: Self, language: str) -> Self:
    """The language ``self_`` reads every page and email in, from now on (the switcher).
    Only the language is checked: a profile missing something else (a Self made on the
    server has no display name) must not stop anyone choosing how to read it."""
    self_.language = Self._meta.get_field("language").clean(language, self_)
    self_.save(update_fields=["language"])
    return self_


def remember_browser_language(*, self_: Self, language: str) -> None:
    """What ``self_``'s browser reads, as they sign in: their emails' language until they
    choose one. Written only when it changed, so a sign-in mostly writes nothing."""
    if language != self_.browser_language and language in dict(settings.LANGUAGES):
        self_.browser_language = language
        self_.save(update_fields=["browser_language"])


def _choose_emails(self_: Self, wanted: set[str]) -> None:
    EmailOptOut.objects.filter(owner=self_, ask__in=wanted).delete()
    EmailOptOut.objects.bulk_create(
        [EmailOptOut(owner=self_, ask=ask) for ask in set(Ask.values) - wanted],
        ignore_conflicts=True,
    )


@transaction.atomic
def turn_off_emails(*, self_: Self, kind: str) -> Self:
    """The one-click unsubscribe: the email choices of the profile, with ``kind`` (a kind of
    ``congregations.unsubscribe.KINDS``) turned off. The daily email gathers every kind of
    notification that asks: turning it off turns them all off (a Self who took it wanted
    fewer emails, not one as each thing comes); the app still shows them."""
    if kind not in KINDS:
        raise ValidationError(gettext("There is no such kind of email to turn off."))
    if kind == REMINDERS:
        return update_profile(self_=self_, reminders_enabled=False)
    if kind == DAILY:
        return update_profile(self_=self_, emails_about=[])
    off = set(EmailOptOut.objects.filter(owner=self_).values_list("ask", flat=True))
    return update_profile(self_=self_, emails_about=set(Ask.values) - off - {kind})
