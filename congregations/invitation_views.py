"""The page an emailed invitation link opens. It lives outside /c/<slug>/: the person
opening it is not a member yet."""

from __future__ import annotations

from allauth.account.utils import perform_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from .forms import SignUpForm
from .models import Congregation, Self
from .selectors import has_account, joined_with, open_invitation
from .services import accept_invitation, sign_up_with_invitation
from .web import show_refusal

# Just in, a person is welcomed (their timezone, their work, where to go next), and the
# same form sent again is the same act, welcomed alike; the link opened again later goes
# to the congregation's home.
WELCOME = "reciprocity:welcome"
HOME = "crews:congregation"


def _go_in(congregation: Congregation, to: str = HOME) -> HttpResponse:
    return redirect(to, congregation_slug=congregation.slug)


def _sign_in_and_go_in(
    request: HttpRequest, self_: Self, congregation: Congregation, to: str = HOME
) -> HttpResponse:
    """Signed in through allauth, as every sign-in is: its session list and its stages
    (a second factor, once they have one) apply here too."""
    url = reverse(to, kwargs={"congregation_slug": congregation.slug})
    return perform_login(request, self_, redirect_url=url)


def _used(request: HttpRequest, token: str) -> HttpResponse | None:
    """The link's form sent again after it did its work (a double click, a reload, a
    retry): whoever joined through it goes in, signed in by their sign-up form's key and
    password when the first response did not reach them."""
    user = request.user
    if user.is_authenticated:
        congregation = joined_with(token, self_=user)
        to = WELCOME if request.method == "POST" else HOME
        return _go_in(congregation, to) if congregation else None
    if request.method != "POST":
        return None
    try:
        membership = sign_up_with_invitation(
            token=token,
            display_name=request.POST.get("display_name", ""),
            password=request.POST.get("password1", ""),
            request_key=request.POST.get("request_key", ""),
        )
    except ValidationError:
        return None
    return _sign_in_and_go_in(request, membership.member, membership.congregation, to=WELCOME)


def _invalid(request: HttpRequest) -> HttpResponse:
    # One page and one status for every link that does not work, whatever the reason,
    # so the page reveals nothing about which invitations exist.
    return render(request, "congregations/invitation_invalid.html", status=404)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = open_invitation(token)
    if found is None:
        return _used(request, token) or _invalid(request)
    user = request.user
    if user.is_authenticated and user.email != found.email:
        return _invalid(request)
    context: dict[str, object] = {"invitation": found}
    if user.is_authenticated:
        if request.method == "POST":
            try:
                accept_invitation(token=token, self_=user)
            except ValidationError as error:
                # The same button pressed twice at once: the other press let them in.
                if joined := joined_with(token, self_=user):
                    return _go_in(joined, to=WELCOME)
                context["errors"] = error.messages
            else:
                return _go_in(found.congregation, to=WELCOME)
        return render(request, "congregations/invitation.html", context)
    if has_account(email=found.email):
        context["sign_in_first"] = True
        return render(request, "congregations/invitation.html", context)
    form = SignUpForm(request.POST or None, email=found.email, key_owner=found.congregation)
    if request.method == "POST" and form.is_valid():
        try:
            membership = sign_up_with_invitation(
                token=token,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            return _sign_in_and_go_in(request, membership.member, found.congregation, to=WELCOME)
    context["form"] = form
    return render(request, "congregations/invitation.html", context)
