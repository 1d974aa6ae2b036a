"""The one decorator that checks what a member may do in their congregation."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django_htmx.http import reselect, reswap, retarget

from microsolidarity.http import CongregationRequest

from .accounts import has_second_factor
from .guards import PAGE_REFUSALS
from .models import Permission

View = TypeVar("View", bound=Callable[..., HttpResponse])


def requires(permission: Permission) -> Callable[[View], View]:
    """403 for a member without ``permission``. Non-members never get here: the
    CongregationMiddleware has answered 404 already. In a congregation that asks its
    facilitators for a second factor, a facilitator without one waits before any of these
    pages, the members' too: there a facilitator handles everyone's invitations, not only
    their own, beyond any quota. The page says why and where to add one."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: CongregationRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.membership.can(permission):
                raise PermissionDenied(PAGE_REFUSALS[permission])
            if (
                request.membership.is_facilitator
                and request.congregation.facilitators_need_second_factor
                and not has_second_factor(request.user)
            ):
                return _second_factor_first(request)
            return view(request, *args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorator


def _second_factor_first(request: CongregationRequest) -> HttpResponse:
    """The page that says why and where to add one. An htmx action gets it in place of the
    whole page (htmx swaps no 403), so the facilitator reads it rather than nothing."""
    context = {"next": request.get_full_path() if request.method == "GET" else ""}
    template = "congregations/second_factor_required.html"
    if request.htmx:
        response = render(request, template, context)
        return reselect(reswap(retarget(response, "#main"), "outerHTML"), "#main")
    return render(request, template, context, status=403)
