"""Forms of the crew pages. They parse what a person typed; the services judge it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.formats import date_format
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from congregations.models import Self
from congregations.request_keys import KeyedForm
from congregations.timezones import TimeZoneChoiceField
from congregations.validators import single_line
from congregations.web import SharesItsPage

from .models import (
    AGENDA_LENGTH,
    CREW_NAME_LENGTH,
    CREW_PURPOSE_LENGTH,
    NOTES_LENGTH,
    PLACE_LENGTH,
    Kind,
    Meeting,
)


class ServiceForm(forms.Form):
    """A form whose service may refuse it (``congregations.web.show_refusal`` shows how)."""

    # A service's name for a field, where this form calls it something else.
    service_fields: ClassVar[dict[str, str]] = {}


class ProposeCrewForm(KeyedForm, ServiceForm):
    kind = forms.ChoiceField(
        # Translators: whether a crew or a dyad is proposed.
        label=_("Kind"),
        choices=[
            # Translators: A crew is a small group of 3–8 people who meet about once a month
            # (the proposal's "Crew").
            (Kind.CREW, _("A crew: 3 to 8 people, one dinner table")),
            # Translators: A dyad is a partnership of two people who meet about once a month
            # (the proposal's "Dyad").
            (Kind.DYAD, _("A dyad: a partnership of two")),
        ],
        initial=Kind.CREW,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(label=_("Name"), max_length=CREW_NAME_LENGTH, validators=[single_line])
    purpose = forms.CharField(
        label=_("Purpose"),
        required=False,
        max_length=CREW_PURPOSE_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What brings you together, in a sentence or two."),
    )
    invitees = forms.ModelMultipleChoiceField(
        queryset=Self.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Who to invite"),
        # Translators: A dyad is a partnership of two people who meet about once a month
        # (the proposal's "Dyad").
        help_text=_("Each of them is asked and says yes or no. For a dyad, choose one person."),
    )
    timezone = TimeZoneChoiceField(
        label=_("Timezone"),
        # Translators: A crew is a small group of 3–8 people who meet about once a month
        # (the proposal's "Crew").
        help_text=_("The crew's meeting times are set in this timezone."),
    )

    def __init__(self, *args: Any, candidates: QuerySet[Self], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = candidates  # type: ignore[attr-defined]
        timezone = self.fields["timezone"]
        assert isinstance(timezone, TimeZoneChoiceField)
        timezone.keep(self.initial.get("timezone"))  # the proposer's own, whatever it is


class InviteForm(ServiceForm):
    invitee = forms.ModelChoiceField(queryset=Self.objects.none(), label=_("Invite someone"))

    def __init__(self, *args: Any, candidates: QuerySet[Self], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["invitee"].queryset = candidates  # type: ignore[attr-defined]


def local_instant(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock date and time in ``zone`` names. A time the clocks skip
    when they go forward names no instant, and is refused; of a time that happens twice
    when they go back, the first is meant."""
    wall = datetime.combine(day, clock)
    instant = wall.replace(tzinfo=zone).astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        raise ValidationError(
            gettext(
                "%(time)s does not exist on %(day)s in %(zone)s: the clocks go forward then. "
                "Choose another time."
            )
            % {
                "time": f"{clock:%H:%M}",
                # Translators: a date format in the letters of Django's date filter; escape
                # literal letters with a backslash. A day and its month: "31 March".
                "day": date_format(day, pgettext("date format", "j F")),
                "zone": zone.key,
            },
            code="dst_gap",
        )
    return instant


class MeetingForm(ServiceForm):
    """A meeting's time as the crew reads it: a date and a time in the crew's timezone."""

    service_fields = {"starts_at": "date"}

    # A date picker reads only an ISO date, whatever the page's language: Spanish and German
    # would otherwise fill it with "02/01/2027" or "02.01.2027", which it shows as empty.
    date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    time = forms.TimeField(
        label=_("Time"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    place = forms.CharField(
        label=_("Place or call link"),
        required=False,
        max_length=PLACE_LENGTH,
        validators=[single_line],
        help_text=_("An address, or the link to a video call."),
    )
    agenda = forms.CharField(
        label=_("Agenda"),
        required=False,
        max_length=AGENDA_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, zone: ZoneInfo, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone
        # Translators: A crew is a small group of 3–8 people who meet about once a month
        # (the proposal's "Crew").
        self.fields["time"].help_text = gettext("In the crew's timezone, %(zone)s.") % {
            "zone": zone.key
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "date" in cleaned and "time" in cleaned:
            try:
                cleaned["starts_at"] = local_instant(cleaned["date"], cleaned["time"], self.zone)
            except ValidationError as error:
                self.add_error("time", error)
        return cleaned


class ScheduleForm(KeyedForm, MeetingForm):
    """A new meeting: its key makes a double click or a retry schedule it once."""


class VersionedForm(ServiceForm):
    """Carries the version of the meeting the person was looking at, so the service can
    tell them when someone else changed it in the meantime."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class RescheduleForm(SharesItsPage, VersionedForm, MeetingForm):
    id_prefix = "reschedule"

    @classmethod
    def for_meeting(cls, meeting: Meeting) -> RescheduleForm:
        zone = meeting.crew.timezone
        start = meeting.starts_at.astimezone(zone)
        return cls(
            zone=zone,
            initial={
                "date": start.date(),
                "time": start.time(),
                "place": meeting.place,
                "agenda": meeting.agenda,
                "version": meeting.version,
            },
        )


class CancelForm(SharesItsPage, VersionedForm):
    id_prefix = "cancel"


class TapForm(forms.Form):
    """One tap on a member's name: present or not."""

    present = forms.TypedChoiceField(
        choices=[("1", _("present")), ("0", _("not present"))], coerce=lambda value: value == "1"
    )


class NotesFields(forms.Form):
    reflections = forms.CharField(
        # Translators: a meeting's reflections (the proposal's "where we have been").
        label=_("Where we have been"),
        required=False,
        max_length=NOTES_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Reflections: what happened for each of us since we last met."),
    )
    envisioning = forms.CharField(
        # Translators: a meeting's envisioning (the proposal's "where we might go").
        label=_("Where we might go"),
        required=False,
        max_length=NOTES_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Envisioning: what we hope for, and what we will try next."),
    )


class LogMeetingForm(ServiceForm, NotesFields):
    pass


class NotesForm(VersionedForm, NotesFields):
    @classmethod
    def for_meeting(cls, meeting: Meeting) -> NotesForm:
        return cls(
            initial={
                "reflections": meeting.reflections,
                "envisioning": meeting.envisioning,
                "version": meeting.version,
            }
        )
