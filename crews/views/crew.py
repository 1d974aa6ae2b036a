"""A crew's page and the history of its meetings.

Both show every member of the crew the same meetings and people, so what they render of
them is cached once per version of the crew (``crews.versions``), per timezone (times read
in the reader's) and language, until the time changes what they show (a meeting starts, or
its time to log ends). A request renders only what is its own: its forms' tokens and keys,
and which member is "you"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.core.cache import caches
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import get_template, render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from microsolidarity.http import CongregationRequest
from microsolidarity.release import RENDERED

from ..access import crew_and_seat, crew_for_member
from ..forms import InviteForm, ScheduleForm
from ..models import Crew
from ..selectors import (
    crew_page,
    current_members,
    invitable,
    meeting_history,
    next_start,
    open_invitation,
)
from ..versions import crew_version

HISTORY_PAGE_SIZE = 20
TEMPLATE = "crews/crew.html"

T = TypeVar("T")


def _cached(key: str, now: datetime, render: Callable[[], tuple[T, datetime | None]]) -> T:
    """What ``render`` made for ``key``, until the moment it said it changes (None: not
    before something else changes it, and with it the key)."""
    found: tuple[T, datetime | None] | None = caches[RENDERED].get(key)
    # The moment is kept beside what it bounds, read by the app's clock rather than the
    # cache's: the two may differ.
    if found is not None and (found[1] is None or now < found[1]):
        return found[0]
    value, changes_at = render()
    timeout = None if changes_at is None else max(0.0, (changes_at - now).total_seconds())
    caches[RENDERED].set(key, (value, changes_at), timeout)
    return value


def _key(name: str, crew: Crew, *more: object) -> str:
    parts = [name, crew.pk, crew_version(crew), timezone.get_current_timezone_name()]
    return ":".join(str(part) for part in [*parts, get_language(), *more])


@dataclass(frozen=True)
class SharedParts:
    """The parts of a crew's page that read the same to each of its members."""

    head: SafeString
    schedule_fields: SafeString
    # The list of members as each of them sees it: their own name marked "you".
    members: dict[int, SafeString]
    asked: SafeString
    has_room: bool
    invite_fields: SafeString
    full: SafeString
    recent: SafeString


def shared_parts(request: CongregationRequest, crew: Crew, now: datetime) -> SharedParts:
    def render_parts() -> tuple[SharedParts, datetime | None]:
        page = crew_page(crew=crew, now=now)
        has_room = len(page.members) < crew.max_size
        # The request for its congregation's address, and no context processor: nothing
        # of the viewer's own reaches a part everyone is shown.
        context: dict[str, Any] = {
            "request": request,
            "page": page,
            "new_meeting": ScheduleForm(zone=crew.timezone, key_owner=request.congregation),
        }

        def part(name: str, **more: object) -> SafeString:
            return SafeString(render_to_string(f"{TEMPLATE}#{name}", {**context, **more}))

        parts = SharedParts(
            head=part("head"),
            schedule_fields=part("schedule_fields"),
            members={m.member_id: part("members", viewer_id=m.member_id) for m in page.members},
            asked=part("asked"),
            has_room=has_room,
            invite_fields=(
                InviteForm(candidates=invitable(crew=crew)).render() if has_room else SafeString()
            ),
            full=SafeString() if has_room else part("full"),
            recent=part("recent"),
        )
        return parts, page.changes_at

    grace = request.congregation.meeting_grace.total_seconds()
    parts = _cached(_key("crew-page", crew, grace), now, render_parts)
    if request.user.pk not in parts.members:
        # Rendered from a read of the crew that raced the viewer's joining it.
        parts, _ = render_parts()
    return parts


def render_crew_page(
    request: CongregationRequest,
    crew: Crew,
    *,
    invite_form: InviteForm | None = None,
    schedule_form: ScheduleForm | None = None,
) -> HttpResponse:
    """The page the crew's members see; a form that was refused comes back with its errors."""
    shared = shared_parts(request, crew, timezone.now())
    context = {
        "crew": crew,
        "shared": shared,
        "members": shared.members[request.user.pk],
        "invite_form": invite_form,
        "schedule_form": schedule_form
        or ScheduleForm(zone=crew.timezone, key_owner=request.congregation),
    }
    return render(request, TEMPLATE, context)


@require_GET
def crew_detail(request: CongregationRequest, pk: int) -> HttpResponse:
    """Crew pages are for the crew's members. Someone invited sees what they are invited
    to; a facilitator sees the crew's name and size, never its meetings; anyone else gets
    404."""
    crew, seated = crew_and_seat(request, pk)
    if seated:
        return render_crew_page(request, crew)
    invitation = open_invitation(crew=crew, self_=request.user)
    if invitation is None and not request.membership.is_facilitator:
        raise Http404("No such crew.")
    members = list(current_members(crew=crew))
    context = {"crew": crew, "invitation": invitation, "members": members}
    return render(request, "crews/crew_outside.html", context)


def history_lines(request: CongregationRequest, crew: Crew, now: datetime) -> list[SafeString]:
    """Each meeting of the crew that has started, newest first, as its history lists it."""

    def render_lines() -> tuple[list[SafeString], datetime | None]:
        line = get_template("crews/_meeting_line.html")
        lines = [
            SafeString(line.render({"request": request, "meeting": meeting, "past": True}))
            for meeting in meeting_history(crew=crew, now=now)
        ]
        return lines, next_start(crew=crew, now=now)

    return _cached(_key("crew-history", crew), now, render_lines)


@require_GET
def history(request: CongregationRequest, pk: int) -> HttpResponse:
    crew = crew_for_member(request, pk)
    lines = history_lines(request, crew, timezone.now())
    page = Paginator(lines, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "crews/history.html", {"crew": crew, "page": page})
