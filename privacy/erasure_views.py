"""The profile's "Delete my account": a page saying what goes and what stays, confirmed
with the Self's password, a passkey or the authenticator app, or an emailed code —
allauth's reauthentication, which asks again once its few minutes have passed — then
``erase_self`` and a page saying it is done."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from congregations.selectors import handovers_needed
from microsolidarity.http import AuthenticatedRequest

from .services import erase_self


@login_required
@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
def delete_account(request: AuthenticatedRequest) -> HttpResponse:
    """GET explains; POST, once the Self has confirmed who they are, deletes the account.
    A POST before that is kept by allauth while they confirm, then run."""
    context: dict[str, Any] = {"handovers": handovers_needed(self_=request.user)}
    if request.method == "POST":
        try:
            erase_self(self_=request.user)
        except ValidationError as error:
            context["refusal"] = " ".join(error.messages)
        else:
            logout(request)
            return redirect("privacy:account_deleted")
    return render(request, "privacy/delete_account.html", context)


@require_http_methods(["GET"])
def account_deleted(request: HttpRequest) -> HttpResponse:
    return render(request, "privacy/account_deleted.html")
