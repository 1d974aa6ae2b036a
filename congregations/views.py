from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .selectors import memberships_of


def home(request: HttpRequest) -> HttpResponse:
    """The signed-in Self's congregations; a short welcome for everyone else."""
    if not request.user.is_authenticated:
        return render(request, "congregations/landing.html")
    memberships = memberships_of(self_=request.user)
    return render(request, "congregations/home.html", {"memberships": memberships})
