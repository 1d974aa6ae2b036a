"""Recording a meeting's listening round and money rounds (levels 1 and 2)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from congregations.web import show_refusal, swap_or_back
from crews.access import meeting_for_member
from crews.models import Meeting
from microsolidarity.http import CongregationRequest

from .. import services
from ..forms import KeyedForm, ListeningRoundForm, MoneyRoundForm
from ..selectors import present_at, recorded_rounds

TEMPLATE = "reciprocity/meeting_rounds.html"


def _page(request: CongregationRequest, meeting: Meeting, **bound: KeyedForm) -> dict[str, Any]:
    """The page's context; a form given in ``bound`` (with what was typed and its errors)
    replaces the fresh one."""
    present = present_at(meeting=meeting)
    rounds = recorded_rounds(meeting=meeting)
    congregation = request.congregation
    listening = bound.get("listening")
    if listening is None and not any(r.is_listening for r in rounds):
        listening = ListeningRoundForm(key_owner=congregation, present=present)
    money = bound.get("money")
    if money is None:
        money = MoneyRoundForm(key_owner=congregation, present=present)
    return {"meeting": meeting, "rounds": rounds, "listening_form": listening, "money_form": money}


@require_GET
def meeting_rounds(request: CongregationRequest, meeting_pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, meeting_pk)
    return render(request, TEMPLATE, _page(request, meeting))


def _answer(
    request: CongregationRequest, meeting: Meeting, kind: str, form: KeyedForm, done: str
) -> HttpResponse:
    """Refused: the form again with its errors. Recorded: with htmx, the fresh form and,
    swapped out of band, the list of rounds; without, back to the page (so reloading does
    not post twice)."""
    if form.errors:
        template = f"{TEMPLATE}#{kind}_form" if request.htmx else TEMPLATE
        return render(request, template, _page(request, meeting, **{kind: form}))
    return swap_or_back(
        request,
        f"{TEMPLATE}#{kind}_saved",
        lambda: _page(request, meeting),
        back=reverse("reciprocity:meeting_rounds", args=[request.congregation.slug, meeting.pk]),
        done=done,
    )


@require_POST
def record_listening_round(request: CongregationRequest, meeting_pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, meeting_pk)
    form = ListeningRoundForm(
        request.POST, key_owner=request.congregation, present=present_at(meeting=meeting)
    )
    if form.is_valid():
        try:
            services.record_listening_round(
                meeting=meeting,
                participants=form.cleaned_data["participants"],
                everyone_listened=form.cleaned_data["everyone_listened"],
                recorded_by=request.user,
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
    # Translators: A listening round: one at a time, each says something true for them.
    return _answer(request, meeting, "listening", form, _("The listening round is recorded."))


@require_POST
def record_money_round(request: CongregationRequest, meeting_pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, meeting_pk)
    form = MoneyRoundForm(
        request.POST, key_owner=request.congregation, present=present_at(meeting=meeting)
    )
    # Translators: A money round: one person talks about their paid and their meaningful
    # work; the others offer help.
    done = _("The money round is recorded.")
    if form.is_valid():
        focus = form.cleaned_data["focus"]
        offers = form.offers()
        try:
            services.record_money_round(
                meeting=meeting,
                focus=focus,
                asked=form.cleaned_data["asked"],
                offerers=[p for p in form.people if p.pk in offers],
                offer_kinds=offers,
                mutual_respect=form.cleaned_data["mutual_respect"],
                recorded_by=request.user,
                request_key=form.cleaned_data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        # Translators: A money round: one person (named) talks about their paid and their
        # meaningful work; the others offer help.
        done = _("The money round for %(name)s is recorded.") % {"name": focus}
    return _answer(request, meeting, "money", form, done)
