"""A new member's first page in the congregation, after accepting its invitation: their
timezone, their work, what they want emailed, and where to go next."""

from __future__ import annotations

from typing import NamedTuple

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from congregations.forms import WelcomeForm
from congregations.services import update_profile
from congregations.web import show_refusal
from microsolidarity.http import CongregationRequest

from ..selectors.waiting import waiting_for


class NextStep(NamedTuple):
    path: str
    text: str  # what waits there, as a sentence


def next_step(request: CongregationRequest) -> NextStep:
    """The crew invitation waiting for them, the first one asked; else the dating pool."""
    items = waiting_for(self_=request.user, now=timezone.now(), membership=request.membership)
    for item in items:
        if item.kind == "crew_invitation":
            return NextStep(item.path, item.text)
    people = reverse("crews:people", kwargs={"congregation_slug": request.congregation.slug})
    return NextStep(
        people, _("See who does what work, and find people whose work complements yours.")
    )


@require_http_methods(["GET", "POST"])
def welcome(request: CongregationRequest) -> HttpResponse:
    form = WelcomeForm(request.POST or None, self_=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            update_profile(self_=request.user, **form.cleaned_data)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, _("Saved. You can change any of it on your profile."))
            return redirect(next_step(request).path)
    return render(request, "reciprocity/welcome.html", {"form": form, "next": next_step(request)})
