"""One-click unsubscribe (RFC 8058): what a Self can turn off from an email itself.

Every email of a kind its recipient can turn off carries ``List-Unsubscribe`` with a link
to ``/unsubscribe/<token>/`` and ``List-Unsubscribe-Post``; a mail program POSTs to it,
with no session and no CSRF token, and that kind stops. The token is signed with a salt of
its own and names only the Self and the kind, so it turns off that one kind for that one
Self and nothing else. It never expires: RFC 8058 has the mail program POST whenever its
user presses the button, maybe months after the email came.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .models import Ask, Self

SIGNER = signing.Signer(salt="congregations.unsubscribe")
# The kinds besides those of notifications (``Ask``): the reminders before a crew meets
# with the nudges to schedule one (``Self.reminders_enabled``), and the daily email.
REMINDERS = "reminders"
DAILY = "daily"
# What stops, in the words of the page that confirms it.
# Translators: these complete "No more …." on the page that turns an email off. A crew is
# a small group of 3–8 people who meet about once a month, a dyad a pair (the proposal's
# "Crew" and "Dyad"); a venture is a shared project, each of its members a co-owner.
KINDS = {
    Ask.CREW_INVITATION.value: _("emails about invitations to a crew or dyad"),
    Ask.CONFLICT.value: _("emails about conflicts to resolve"),
    Ask.CO_OWNERSHIP.value: _("emails about ventures to confirm as a co-owner"),
    Ask.DISPUTE.value: _("emails about a crew-mate who says they were at a meeting"),
    Ask.MEETING_TO_LOG.value: _("emails about meetings of my crews to log"),
    Ask.DEDUCTION.value: _("emails about missed-meeting deductions"),
    REMINDERS: _("reminders before your crews meet, and nudges when none is scheduled"),
    DAILY: _("the daily email of what waits for you"),
}
assert set(KINDS) >= set(Ask.values), "every kind of notification can be turned off"


def unsubscribe_url(self_: Self, kind: str) -> str:
    assert kind in KINDS, f"{kind} is not a kind of email a Self can turn off"
    token = SIGNER.sign_object([self_.pk, kind], compress=True)
    return settings.SITE_URL + reverse("unsubscribe", kwargs={"token": token})


def read_token(token: str) -> tuple[Self, str] | None:
    """The Self and the kind a genuine token names, or None for any other string."""
    try:
        pk, kind = SIGNER.unsign_object(token)
    except (signing.BadSignature, TypeError, ValueError):
        return None
    self_ = Self.objects.filter(pk=pk).first() if isinstance(pk, int) else None
    return (self_, kind) if self_ is not None and kind in KINDS else None


def headers(self_: Self, kind: str) -> dict[str, str]:
    """The two headers of RFC 8058 for an email of ``kind`` to ``self_``."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(self_, kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
