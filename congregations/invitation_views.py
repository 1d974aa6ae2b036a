"""The page an emailed invitation link opens. It lives outside /c/<slug>/: the person
opening it is not a member yet."""

from __future__ import annotations

from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .forms import SignUpForm, show_refusal
from .models import Self
from .services import accept_invitation, open_invitation, sign_up_with_invitation


def _invalid(request: HttpRequest) -> HttpResponse:
    # One page and one status for every link that does not work, whatever the reason,
    # so the page reveals nothing about which invitations exist.
    return render(request, "congregations/invitation_invalid.html", status=404)


@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    found = open_invitation(token)
    if found is None:
        return _invalid(request)
    user = request.user
    if user.is_authenticated and user.email != found.email:
        return _invalid(request)
    context: dict[str, object] = {"invitation": found}
    if user.is_authenticated:
        if request.method == "POST":
            try:
                accept_invitation(token=token, self_=user)
            except ValidationError as error:
                context["errors"] = error.messages
            else:
                return redirect("crews:congregation", congregation_slug=found.congregation.slug)
        return render(request, "congregations/invitation.html", context)
    if Self.objects.filter(email=found.email).exists():
        context["sign_in_first"] = True
        return render(request, "congregations/invitation.html", context)
    form = SignUpForm(request.POST or None, email=found.email)
    if request.method == "POST" and form.is_valid():
        try:
            membership = sign_up_with_invitation(
                token=token,
                display_name=form.cleaned_data["display_name"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            login(request, membership.member, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("crews:congregation", congregation_slug=found.congregation.slug)
    context["form"] = form
    return render(request, "congregations/invitation.html", context)
