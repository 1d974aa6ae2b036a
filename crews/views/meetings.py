"""Scheduling a crew's meetings, changing them before they start, and logging them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from congregations.web import show_refusal, swap_or_back
from microsolidarity.http import CongregationRequest
from reciprocity.rules import settled_notice

from .. import services
from ..access import crew_for_member, meeting_for_member
from ..forms import (
    CancelForm,
    LogMeetingForm,
    NotesForm,
    RescheduleForm,
    ScheduleForm,
    ServiceForm,
    TapForm,
)
from ..models import Meeting
from ..selectors import (
    AttendanceRow,
    congregation_self,
    is_marked_present,
    marked_present,
    meeting_attendance,
)
from .common import to_page
from .crew import render_crew_page

TEMPLATE = "crews/meeting.html"


def render_meeting_page(
    request: CongregationRequest, meeting: Meeting, **refused: ServiceForm
) -> HttpResponse:
    """The meeting as its crew sees it now (``meeting`` is one meeting_for_member let the
    viewer into): changeable before the start, loggable from the start until the grace
    period ends, its notes editable once logged. A form that was refused comes back with
    its errors."""
    now = timezone.now()
    context: dict[str, Any] = {
        "meeting": meeting,
        "crew": meeting.crew,
        "crew_member": True,
        "can_change": meeting.can_change_at(now),
        "can_log": meeting.can_log_at(now),
        "has_started": meeting.has_started(now),
        "settled": settled_notice(meeting) if meeting.is_settled_as_missed else "",
        "attendance": meeting_attendance(meeting=meeting),
        "reschedule_form": RescheduleForm.for_meeting(meeting),
        "cancel_form": CancelForm(initial={"version": meeting.version}),
        "log_form": LogMeetingForm(),
        "notes_form": NotesForm.for_meeting(meeting),
    }
    context.update(refused)
    return render(request, TEMPLATE, context)


@require_POST
def schedule(request: CongregationRequest, pk: int) -> HttpResponse:
    crew = crew_for_member(request, pk)
    form = ScheduleForm(request.POST, zone=crew.timezone, key_owner=request.congregation)
    if form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.schedule_meeting(
                crew=crew,
                starts_at=data["starts_at"],
                place=data["place"],
                agenda=data["agenda"],
                scheduled_by=request.user,
                request_key=data["request_key"],
            )
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, gettext("The meeting is scheduled."))
            return to_page(request, "meeting", pk=meeting.pk)
    return render_crew_page(request, crew, schedule_form=form)


@require_GET
def meeting_detail(request: CongregationRequest, pk: int) -> HttpResponse:
    return render_meeting_page(request, meeting_for_member(request, pk))


def _change(
    request: CongregationRequest,
    meeting: Meeting,
    form: ServiceForm,
    form_name: str,
    done: str,
    change: Callable[[dict[str, Any]], object],
) -> HttpResponse:
    """The shape every change to a meeting takes: a valid form goes to its service; a
    refusal is shown next to the form on the meeting page, a success above it."""
    if form.is_valid():
        try:
            change(form.cleaned_data)
        except ValidationError as error:
            show_refusal(form, error)
        else:
            messages.success(request, done)
            return to_page(request, "meeting", pk=meeting.pk)
    return render_meeting_page(request, meeting, **{form_name: form})


@require_POST
def reschedule(request: CongregationRequest, pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, pk)
    return _change(
        request,
        meeting,
        RescheduleForm(request.POST, zone=meeting.crew.timezone),
        "reschedule_form",
        gettext("The meeting is changed."),
        lambda data: services.reschedule_meeting(
            meeting=meeting,
            changed_by=request.user,
            starts_at=data["starts_at"],
            place=data["place"],
            agenda=data["agenda"],
            version=data["version"],
        ),
    )


@require_POST
def cancel(request: CongregationRequest, pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, pk)
    return _change(
        request,
        meeting,
        CancelForm(request.POST),
        "cancel_form",
        gettext("The meeting is cancelled."),
        lambda data: services.cancel_meeting(
            meeting=meeting, cancelled_by=request.user, version=data["version"]
        ),
    )


@require_POST
def tap(request: CongregationRequest, pk: int, member_id: int) -> HttpResponse:
    """One tap on one member's name. With htmx only that member's button comes back;
    without it, the whole page."""
    meeting = meeting_for_member(request, pk)
    # Only Selves of this congregation: a name from elsewhere is never shown here.
    member = congregation_self(congregation=request.congregation, pk=member_id)
    if member is None:
        raise Http404(gettext("No such member."))
    form = TapForm(request.POST)
    error = None
    if form.is_valid():
        try:
            services.mark_attendance(
                meeting=meeting,
                member=member,
                present=form.cleaned_data["present"],
                marked_by=request.user,
            )
        except ValidationError as refused:
            error = refused
    else:
        error = ValidationError(
            gettext("That tap was not understood: reload the page and tap again.")
        )
    return swap_or_back(
        request,
        f"{TEMPLATE}#attendee",
        lambda: {
            "meeting": meeting,
            "row": AttendanceRow(
                member=member, present=is_marked_present(meeting=meeting, self_=member)
            ),
            "can_log": meeting.can_log_at(timezone.now()),
        },
        back=reverse("crews:meeting", args=[request.congregation.slug, meeting.pk]),
        refusal=error,
    )


@require_POST
def log(request: CongregationRequest, pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, pk)
    return _change(
        request,
        meeting,
        LogMeetingForm(request.POST),
        "log_form",
        gettext("The meeting is logged. Thank you for keeping the rhythm."),
        lambda data: services.log_meeting(
            meeting=meeting,
            present=marked_present(meeting=meeting),
            logged_by=request.user,
            reflections=data["reflections"],
            envisioning=data["envisioning"],
        ),
    )


@require_POST
def notes(request: CongregationRequest, pk: int) -> HttpResponse:
    meeting = meeting_for_member(request, pk)
    return _change(
        request,
        meeting,
        NotesForm(request.POST),
        "notes_form",
        gettext("The notes are saved."),
        lambda data: services.update_meeting_notes(
            meeting=meeting,
            edited_by=request.user,
            reflections=data["reflections"],
            envisioning=data["envisioning"],
            version=data["version"],
        ),
    )
