"""How django-allauth fits this app: nobody signs up on their own (an invitation makes the
account), a code or a reset link goes to an account's own address only, sign-in throttles
speak calmly and say when to try again, and passkeys and authenticator apps name the app,
not the host."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import RequestLoginCodeForm, ResetPasswordForm
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy

from .models import Self

APP_NAME = "Microsolidarity"
# A second factor is something only the person holds at sign-in; recovery codes are the
# way back when it is lost, not a factor of their own.
SECOND_FACTORS = [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]


def throttle_message() -> str:
    minutes = settings.LOGIN_FAILURES_WINDOW_MINUTES
    return gettext(
        "There have been too many tries for this address in a short time, so we are "
        "keeping it safe for a while. Please wait %(minutes)s minutes, then try again."
    ) % {"minutes": minutes}


def display_name(user: Any) -> str:
    return str(user)


def has_second_factor(user: AbstractBaseUser) -> bool:
    return is_mfa_enabled(user, SECOND_FACTORS)


class AccountAdapter(DefaultAccountAdapter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.error_messages: dict[str, Any] = {
            **DefaultAccountAdapter.error_messages,
            "too_many_login_attempts": lazy(throttle_message, str)(),
            "rate_limited": lazy(throttle_message, str)(),
            "email_password_mismatch": gettext_lazy(
                "That email address and password do not match. "
                "Check both, or sign in with a code sent to your email instead."
            ),
        }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Invite-only: an account is made by accepting an invitation (invitation_views).
        return False

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        # allauth adds the request's host to the address; any of several allowed host
        # names would then count apart. The address alone is what is being guessed at.
        return str(credentials.get("email", credentials.get("username", ""))).strip().lower()


class SecondFactorAdapter(DefaultMFAAdapter):
    def _get_site_name(self) -> str:
        # The name a passkey and an authenticator app show, whatever host served the page.
        return APP_NAME


# allauth finds the account of an address among every address any account has typed in,
# verified or not, and a code that reaches it verifies it. Ben, who typed the address of
# someone invited into his email change, would have them sign in to his account (whose
# password he knows) with the code they asked for, and accept their invitation there. A
# Self's own address is ``Self.email``: the invitation's, or a change once verified.


def _owner(email: str) -> Self | None:
    return Self.objects.filter(email=Self.objects.normalize_email(email), is_active=True).first()


class OwnAddressLoginCodeForm(RequestLoginCodeForm):
    def clean_email(self) -> str:
        email = super().clean_email()  # throttled there
        if email:
            self._user = _owner(email)  # None: asked like an unknown address
        return str(email)


class OwnAddressResetPasswordForm(ResetPasswordForm):
    def clean_email(self) -> str:
        email = super().clean_email()
        self.users = [owner] if (owner := _owner(email)) else []
        return str(email)
