"""Forming crews and dyads by consent: propose, invite, answer, leave."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from congregations.selectors import member_selves
from congregations.web import show_refusal
from microsolidarity.http import WAITING_CHANGED, CongregationRequest

from .. import services
from ..access import crew_for_member
from ..forms import InviteForm, ProposeCrewForm
from ..selectors import find_invitation_to, invitable
from .common import to_page
from .crew import render_crew_page


@require_http_methods(["GET", "POST"])
def propose(request: CongregationRequest) -> HttpResponse:
    """Propose a crew or dyad; ``?with=<id>`` (from the dating pool) ticks that person."""
    candidates = member_selves(congregation=request.congregation).exclude(pk=request.user.pk)
    form = ProposeCrewForm(
        request.POST or None,
        candidates=candidates,
        initial={"invitees": request.GET.getlist("with"), "timezone": request.user.timezone},
        key_owner=request.congregation,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            crew = services.propose_crew(
                congregation=request.congregation,
                name=data["name"],
                purpose=data["purpose"],
                kind=data["kind"],
                timezone=data["timezone"],
                proposed_by=request.user,
                invitees=data["invitees"],
                request_key=data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                gettext("You proposed %(crew)s. It forms once enough people say yes.")
                % {"crew": crew.name},
            )
            return to_page(request, "crew", pk=crew.pk)
    return render(request, "crews/propose.html", {"form": form})


@require_POST
def answer_invitation(request: CongregationRequest, pk: int) -> HttpResponse:
    invitation = find_invitation_to(self_=request.user, pk=pk)
    if invitation is None:
        raise Http404(gettext("No such invitation."))
    answer = request.POST.get("answer")
    if answer not in ("accept", "decline"):
        return HttpResponseBadRequest(gettext("Answer accept or decline."))
    accept = answer == "accept"
    try:
        services.answer_crew_invitation(
            invitation=invitation, answered_by=request.user, accept=accept
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _answered(request, "congregation")
    if not accept:
        said_no = gettext("You said no to %(crew)s.")
        messages.success(request, said_no % {"crew": invitation.crew.name})
        return _answered(request, "congregation")
    messages.success(request, gettext("Welcome to %(crew)s.") % {"crew": invitation.crew.name})
    return _answered(request, "crew", pk=invitation.crew_id)


def _answered(request: CongregationRequest, page: str, **kwargs: int) -> HttpResponse:
    """Answered in place (htmx, from "Waiting for you"): the list and the unread count
    reload themselves, and the list shows the message; otherwise, on to the page."""
    if request.htmx:
        return HttpResponse(status=204, headers={"HX-Trigger": WAITING_CHANGED})
    return to_page(request, page, **kwargs)


@require_POST
def invite(request: CongregationRequest, pk: int) -> HttpResponse:
    crew = crew_for_member(request, pk)
    form = InviteForm(request.POST, candidates=invitable(crew=crew))
    if form.is_valid():
        invitee = form.cleaned_data["invitee"]
        try:
            services.invite_to_crew(crew=crew, invitee=invitee, invited_by=request.user)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(
                request,
                gettext("%(name)s is invited to %(crew)s.")
                % {"name": invitee.display_name, "crew": crew.name},
            )
            return to_page(request, "crew", pk=crew.pk)
    return render_crew_page(request, crew, invite_form=form)


@require_POST
def leave(request: CongregationRequest, pk: int) -> HttpResponse:
    crew = crew_for_member(request, pk)
    services.leave_crew(crew=crew, member=request.user)
    messages.success(request, gettext("You left %(crew)s.") % {"crew": crew.name})
    return to_page(request, "congregation")
