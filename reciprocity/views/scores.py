"""Scores, and the entries behind every number: a crew's (for its members) and one's own."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from congregations.models import Congregation, Permission
from congregations.permissions import requires
from congregations.web import say_outcome
from crews.access import crew_for_member, is_member
from crews.models import Crew
from crews.selectors import ever_in_crew, find_crew
from microsolidarity.http import CongregationRequest
from microsolidarity.lazy import lazy

from .. import services
from ..charts import step_chart
from ..forms import EntryFilter, ReversalForm
from ..models import LedgerEntry
from ..rules import CREW_LEVELS, Level, Rule
from ..selectors import (
    crew_breakdown,
    crew_history,
    crew_scores_version,
    deductions_to_dispute,
    entries,
    member_breakdown,
)

PER_PAGE = 50


@require_GET
def crew_scores(request: CongregationRequest, crew_pk: int) -> HttpResponse:
    crew = crew_for_member(request, crew_pk)
    # ?member=<id> draws that member's line beside the crew's: someone who has been in it.
    asked = request.GET.get("member", "")
    valid = asked.isascii() and asked.isdigit() and int(asked) < 2**31  # a key to compare
    shown = ever_in_crew(crew=crew, member_id=int(asked)) if valid else None
    # Read only when the page's cached copy is older than the crew's ledger.
    history = lazy(lambda: crew_history(crew=crew))
    context = {
        "crew": crew,
        "version": crew_scores_version(crew=crew),
        "breakdown": lazy(lambda: crew_breakdown(crew=crew)),
        "history": history,
        "shown": shown,
        "chart": lazy(
            lambda: step_chart(
                history, crew_history(crew=crew, member_id=shown.pk) if shown else None
            )
        ),
        "levels": CREW_LEVELS,
    }
    return render(request, "reciprocity/crew_scores.html", context)


def _entries_page(
    request: CongregationRequest, found: QuerySet[LedgerEntry], context: dict[str, Any]
) -> HttpResponse:
    page = Paginator(found, PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reciprocity/entries.html",
        {
            **context,
            "page": page,
            "query": query.urlencode(),
            "can_correct": request.membership.can(Permission.MANAGE),
            "next": request.get_full_path(),
        },
    )


def _described(
    filters: dict[str, Any], congregation: Congregation, crew: Crew | None = None
) -> list[str]:
    """The filters in words, for the page's heading. A member is named only if they have
    been in the crew, so an id in the address reveals no one else's name."""
    words = []
    if "member_id" in filters and crew is not None:
        someone = ever_in_crew(crew=crew, member_id=filters["member_id"])
        # Translators: A crew is a small group of 3–8 people who meet about once a month.
        words.append(someone.display_name if someone else _("nobody in this crew"))
    if "level" in filters:
        words.append(str(Level(filters["level"]).label))
    if "crew_id" in filters:
        found = find_crew(congregation=congregation, pk=filters["crew_id"])
        # Translators: A crew is a small group of 3–8 people who meet about once a month.
        words.append(found.name if found else _("no crew"))
    if "month" in filters:
        words.append(date_format(filters["month"], "YEAR_MONTH_FORMAT"))
    return words


@require_GET
def crew_entries(request: CongregationRequest, crew_pk: int) -> HttpResponse:
    crew = crew_for_member(request, crew_pk)
    filters = EntryFilter(request.GET).filters()
    filters.pop("crew_id", None)
    found = entries(congregation=request.congregation, crew=crew, **filters)
    return _entries_page(
        request,
        found,
        {
            "crew": crew,
            "filters": _described(filters, request.congregation, crew),
            "csv_url": reverse(
                "reciprocity:crew_entries_csv", args=[request.congregation.slug, crew.pk]
            ),
            "xlsx_url": reverse(
                "reciprocity:crew_entries_xlsx", args=[request.congregation.slug, crew.pk]
            ),
        },
    )


@require_GET
def me(request: CongregationRequest) -> HttpResponse:
    mine = member_breakdown(self_=request.user, congregation=request.congregation)
    missed = deductions_to_dispute(self_=request.user, congregation=request.congregation)
    return render(
        request,
        "reciprocity/me.html",
        {"mine": mine, "missed": missed, "next": request.get_full_path()},
    )


@require_GET
def my_entries(request: CongregationRequest) -> HttpResponse:
    filters = EntryFilter(request.GET).filters()
    filters.pop("member_id", None)
    found = entries(
        congregation=request.congregation,
        member_id=request.user.pk,
        tz=timezone.get_current_timezone(),
        **filters,
    )
    return _entries_page(
        request,
        found,
        {
            "filters": _described(filters, request.congregation),
            "csv_url": reverse("reciprocity:my_entries_csv", args=[request.congregation.slug]),
            "xlsx_url": reverse("reciprocity:my_entries_xlsx", args=[request.congregation.slug]),
        },
    )


def may_see(request: CongregationRequest, entry: LedgerEntry) -> bool:
    """An entry is seen by the one it belongs to and, for a crew's, by the crew. A
    facilitator also sees a missed-meeting deduction on its own, so that the one who was
    there can ask any facilitator to correct it: that entry, not the crew's meetings."""
    if entry.member_id == request.user.pk:
        return True
    if entry.rule == Rule.MISSED and request.membership.can(Permission.MANAGE):
        return True
    return entry.crew is not None and is_member(entry.crew, request.user)


def _visible_entry(request: CongregationRequest, pk: int) -> LedgerEntry:
    entry: LedgerEntry = get_object_or_404(entries(congregation=request.congregation), pk=pk)
    if not may_see(request, entry):
        raise Http404(_("No such entry."))
    return entry


@require_GET
def entry(request: CongregationRequest, pk: int) -> HttpResponse:
    """One entry, and its correction form for a facilitator whose entry it is not."""
    found = _visible_entry(request, pk)
    return render(
        request,
        "reciprocity/entry.html",
        {
            "entry": found,
            "can_correct": request.membership.can(Permission.MANAGE),
            "next": request.get_full_path(),
        },
    )


@require_POST
@requires(Permission.MANAGE)
def reverse_entry(request: CongregationRequest, pk: int) -> HttpResponse:
    """A facilitator corrects an entry they can see with a reversing entry."""
    entry = _visible_entry(request, pk)
    form = ReversalForm(request.POST)
    if form.is_valid():
        say_outcome(
            request,
            lambda: services.reverse_entry(
                entry=entry, reversed_by=request.user, reason=form.cleaned_data["reason"]
            ),
            _("Corrected: %(points)s for %(name)s.")
            % {"points": f"{entry.points:+d}", "name": entry.member},
        )
    else:
        messages.error(request, _("Say why this entry is being corrected."))
    return _back(request)


@require_POST
def dispute_deduction(request: CongregationRequest, pk: int) -> HttpResponse:
    """The member who lost 5 for a meeting says they were there."""
    entry = _visible_entry(request, pk)
    say_outcome(
        request,
        lambda: services.dispute_deduction(entry=entry, disputed_by=request.user),
        _(
            # Translators: A crew-mate is someone in the same crew (a small group that meets
            # about once a month).
            "Your crew-mates who were there are asked to confirm it. "
            "When one does, the 5 points come back."
        ),
    )
    return _back(request)


def _back(request: CongregationRequest) -> HttpResponse:
    """Back to the page the form was on, if it is one of ours; else to My entries."""
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("reciprocity:my_entries", args=[request.congregation.slug])
    return redirect(back)
