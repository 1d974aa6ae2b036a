"""Checks the game's services share: who may act, and what a meeting must be by then."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from congregations.models import Self
from crews.models import Attendance, Crew, Meeting, MeetingStatus
from crews.selectors import is_current_member


def require_crew_member(crew: Crew, self_: Self, refusal: str) -> None:
    """Refused with ``refusal``, a translated sentence naming the crew as %(crew)s, unless
    the Self is in the crew now."""
    if not is_current_member(crew=crew, self_=self_):
        raise ValidationError(refusal % {"crew": crew})


def lock_logged_meeting(meeting: Meeting) -> Meeting:
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("crew", "congregation")
        .get(pk=meeting.pk)
    )
    if meeting.status != MeetingStatus.LOGGED:
        raise ValidationError(_("Rounds are recorded for a meeting once it has been logged."))
    return meeting


def distinct(selves: Iterable[Self]) -> list[Self]:
    return list(dict.fromkeys(selves))


def require_present(meeting: Meeting, selves: Iterable[Self], field: str) -> None:
    """Everyone named must have been marked present at the meeting."""
    people = list(selves)
    here = set(
        Attendance.objects.filter(meeting=meeting, present=True, member__in=people).values_list(
            "member_id", flat=True
        )
    )
    absent = [p for p in people if p.pk not in here]
    if absent:
        names = ", ".join(str(p) for p in absent)
        # Translators: the names of one or several people (the forms are for how many).
        said = ngettext(
            "Not at this meeting: %(names)s.", "Not at this meeting: %(names)s.", len(absent)
        )
        raise ValidationError({field: said % {"names": names}})
