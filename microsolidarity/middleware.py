from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.usersessions.models import UserSession
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation


class SelfTimezoneMiddleware:
    """Show every time in the signed-in Self's own timezone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            timezone.activate(request.user.timezone)
        else:
            timezone.deactivate()
        return self.get_response(request)


def browser_language(request: HttpRequest) -> str:
    """The language of the app the browser's Accept-Language asks for, whatever the
    switcher's cookie says: the cookie is a visitor's choice, and on a shared computer it
    may be whoever signed out before."""
    bare = HttpRequest()
    bare.META["HTTP_ACCEPT_LANGUAGE"] = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
    return translation.get_language_from_request(bare)


class SelfLanguageMiddleware:
    """Show every page in the language the signed-in Self chose in their profile, whatever
    the browser asks for, and until they choose, in their browser's. Django's
    LocaleMiddleware has taken a visitor's language from the switcher's cookie or the
    browser's Accept-Language; a Self's is theirs alone, so the cookie does not count.
    LocaleMiddleware names the language in the answer's Content-Language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        signed_in = user.is_authenticated
        if user.is_authenticated:
            language = user.language or browser_language(request)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if signed_in and not request.user.is_authenticated:
            # Signed out: the cookie goes with them, so whoever uses this computer next
            # reads their own browser's language, not theirs.
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite="Lax")
        return response


LAST_SEEN_KEY = "last_seen_recorded_at"


class LastSeenMiddleware:
    """Keep "last seen" of the signed-in session for the profile's list of sessions
    (allauth's usersessions), at most once every ``LAST_SEEN_EVERY``: allauth's own tracking
    writes on every request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if request.user.is_authenticated and session.session_key:
            now = timezone.now().timestamp()
            if now - session.get(LAST_SEEN_KEY, 0) >= settings.LAST_SEEN_EVERY.total_seconds():
                UserSession.objects.create_from_request(request)
                session[LAST_SEEN_KEY] = now
        return self.get_response(request)


def on_signed_in(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """Seen now: allauth's sign-in records its new session itself (the usersessions app),
    so the first request after it need not."""
    request.session[LAST_SEEN_KEY] = timezone.now().timestamp()


# The htmx event the navigation's unread count reloads itself on (templates/_unread.html).
NOTIFICATIONS_CHANGED = "notifications-changed"


class NotificationsChangedMiddleware:
    """After any change made with htmx, the unread count in the navigation reloads itself:
    an answer, a confirmation or a logged meeting may have told someone, or settled what
    they were told, and the page itself is not reloaded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            getattr(request, "htmx", False)
            and request.method == "POST"
            and response.status_code < 400
        ):
            earlier = response.headers.get("HX-Trigger")
            response.headers["HX-Trigger"] = ", ".join(
                filter(None, [earlier, NOTIFICATIONS_CHANGED])
            )
        return response
