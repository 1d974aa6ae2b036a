"""The one place that resolves the congregation and the caller's membership."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.db import connection, transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import SimpleTemplateResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext

from microsolidarity.http import CongregationRequest

from .models import Congregation
from .selectors import current_membership
from .tenancy import tenant

SLUG_KWARG = "congregation_slug"
# Set on a request whose view raised (see process_exception).
RAISED = "microsolidarity.view_raised"


def _behind_walls(congregation: Congregation, content: Iterable[Any]) -> Iterator[Any]:
    """A streamed response is read after the view returns, when the request's transaction
    is over and the database would show its cursor no row: it reads behind the walls again,
    in a transaction of its own, closed with the response."""
    with tenant(congregation):
        yield from content


class CongregationMiddleware:
    """For URLs under /c/<slug>/: anonymous callers are sent to sign in before the slug is
    looked up; a signed-in Self who is not a current member gets the same 404 as for a
    congregation that does not exist. Members get ``request.congregation`` and
    ``request.membership``, and the view runs in one transaction behind that
    congregation's two walls, so a query on tenant data sees only its rows; an exception
    out of the view, or a response that is a server error, rolls the transaction back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get(SLUG_KWARG)
        if slug is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # A slug names one congregation, and a Self has one current membership in it:
        # taking the first row found spares every page the ORDER BY that .first() compiles.
        congregation = next(iter(Congregation.objects.filter(slug=slug)[:1]), None)
        if congregation is None:
            raise Http404(gettext("No such congregation."))
        # The whole request runs in one transaction behind both walls (congregations.tenancy).
        with tenant(congregation):
            membership = current_membership(congregation=congregation, self_=request.user)
            if membership is None:
                raise Http404(gettext("No such congregation."))
            membership.congregation = congregation
            request = cast(CongregationRequest, request)
            request.membership = membership
            request.congregation = congregation
            response = self.get_response(request)
            # A TemplateResponse renders after the view returns: keep that inside the walls.
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            failed = response.status_code >= 500 or request.META.get(RAISED, False)
            # Only where tenant() opened the request's transaction (PostgreSQL): on SQLite
            # the innermost transaction, if any, is a caller's, not this request's.
            if failed and connection.vendor == "postgresql":
                transaction.set_rollback(True)
        if isinstance(response, StreamingHttpResponse):
            response.streaming_content = _behind_walls(congregation, response.streaming_content)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        # An exception out of a view undoes the request's writes whatever response Django
        # makes of it (an Http404 or PermissionDenied raised after a service wrote is a 404
        # or 403, not a server error), as ATOMIC_REQUESTS would. Marked here, rolled back
        # once that response is made: its page may still need to read.
        request.META[RAISED] = True

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: dict[str, Any]
    ) -> None:
        # The slug has done its work above; views take the congregation from the request.
        kwargs.pop(SLUG_KWARG, None)
