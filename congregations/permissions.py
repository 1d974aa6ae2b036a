"""The one decorator that checks what a member may do in their congregation."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from microsolidarity.http import CongregationRequest

from .models import Permission

View = TypeVar("View", bound=Callable[..., HttpResponse])


def requires(permission: Permission) -> Callable[[View], View]:
    """403 for a member without ``permission``. Non-members never get here: the
    CongregationMiddleware has answered 404 already."""

    def decorator(view: View) -> View:
        @wraps(view)
        def checked(request: CongregationRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.membership.can(permission):
                raise PermissionDenied(f"Only those who may {permission.label} can do this.")
            return view(request, *args, **kwargs)

        return checked  # type: ignore[return-value]

    return decorator
