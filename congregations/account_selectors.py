"""What the profile shows of how a Self signs in: their second factors and their
signed-in sessions (allauth's rows, read only); and what they want emailed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.translation import gettext

from .models import Ask, EmailOptOut, Self

BROWSERS = [("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
]


@dataclass(frozen=True)
class SignedInSession:
    device: str
    started_at: datetime
    last_seen_at: datetime
    current: bool


def second_factors(*, self_: Self) -> list[Authenticator]:
    """Passkeys and the authenticator app, oldest first; recovery codes are their backup."""
    return list(
        Authenticator.objects.filter(user=self_)
        .exclude(type=Authenticator.Type.RECOVERY_CODES)
        .order_by("created_at", "pk")
    )


def has_recovery_codes(*, self_: Self) -> bool:
    return Authenticator.objects.filter(user=self_, type=Authenticator.Type.RECOVERY_CODES).exists()


def describe_device(user_agent: str) -> str:
    """ "Firefox on Android": enough to recognise one's own phone, no more."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), gettext("A browser"))
    system = next((name for mark, name in SYSTEMS if re.search(mark, user_agent)), "")
    if not system:
        return browser
    # Translators: a device on the profile's list of sessions: "Firefox on Android".
    return gettext("%(browser)s on %(system)s") % {"browser": browser, "system": system}


def signed_in_sessions(*, self_: Self, current_key: str | None) -> list[SignedInSession]:
    """The sessions still signed in, the one asking first, then by when last seen."""
    rows = list(UserSession.objects.filter(user=self_))
    alive = set(
        Session.objects.filter(
            session_key__in=[row.session_key for row in rows], expire_date__gt=timezone.now()
        ).values_list("session_key", flat=True)
    )
    sessions = [
        SignedInSession(
            device=describe_device(row.user_agent),
            started_at=row.created_at,
            last_seen_at=row.last_seen_at,
            current=row.session_key == current_key,
        )
        for row in rows
        if row.session_key in alive
    ]
    return sorted(sessions, key=lambda s: (not s.current, -s.last_seen_at.timestamp()))


def emails_about(*, self_: Self) -> list[str]:
    """The kinds of notification the Self is emailed about: all but those turned off."""
    off = set(EmailOptOut.objects.filter(owner=self_).values_list("ask", flat=True))
    return [ask for ask in Ask.values if ask not in off]
