"""The language switcher at the foot of every page, signed in or not."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from microsolidarity.middleware import browser_language

from .models import Self
from .services import choose_language, remember_browser_language


@require_POST
def switch_language(request: HttpRequest) -> HttpResponse:
    """Show every page in the language chosen, and go back to the page it was chosen on.
    A Self keeps it in their profile, so their emails follow it too; anyone else keeps it
    in a cookie. A language the app does not speak changes nothing."""
    language = request.POST.get("language", "")
    back = request.POST.get("next", "")
    # Only a path of this app: "evil.example" alone would be read relative to /language/.
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("home")
    response = HttpResponseRedirect(back)
    if language not in dict(settings.LANGUAGES):
        return response
    if request.user.is_authenticated:
        choose_language(self_=request.user, language=language)
    translation.activate(language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite="Lax",
    )
    return response


def on_signed_in(sender: Any, request: HttpRequest, user: Self, **kwargs: Any) -> None:
    """The language their browser reads, as they sign in: the one their emails go out in
    until they choose one. What they chose with the switcher before signing in is their
    choice, if they had none (signing out takes the cookie away, so it is nobody else's)."""
    remember_browser_language(self_=user, language=browser_language(request))
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if not user.language and chosen in dict(settings.LANGUAGES):
        choose_language(self_=user, language=chosen)
