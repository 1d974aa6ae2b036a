"""Checks the game's services share: who may act, and what a meeting must be by then."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model

from congregations.models import Congregation, Self
from crews.models import Attendance, Crew, Meeting, MeetingStatus
from crews.selectors import is_current_member

from ..models import RequestKeyed
from ..request_keys import check_request_key

M = TypeVar("M", bound=RequestKeyed)


def require_crew_member(crew: Crew, self_: Self, doing: str) -> None:
    if not is_current_member(crew=crew, self_=self_):
        raise ValidationError(f"Only members of {crew} can {doing}.")


def lock_logged_meeting(meeting: Meeting) -> Meeting:
    meeting = (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("crew", "congregation")
        .get(pk=meeting.pk)
    )
    if meeting.status != MeetingStatus.LOGGED:
        raise ValidationError("Rounds are recorded for a meeting once it has been logged.")
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
        raise ValidationError({field: f"Not at this meeting: {names}."})


SPENT_KEY = "This form has been used already for something else. Reload the page and try again."


def replayed(
    model: type[M], request_key: str | None, congregation: Congregation, **same: object
) -> M | None:
    """The row an earlier submission of the same form made, if any; a key that is forged,
    belongs to another congregation, or was spent on a row that differs from this call in
    ``same`` (field name: value, a model instance for a foreign key) is refused."""
    if request_key is None:
        return None
    check_request_key(request_key, congregation)
    manager = model._default_manager
    earlier = manager.filter(congregation=congregation, request_key=request_key).first()
    if earlier is not None and any(
        _value(earlier, name, value) != (value.pk if isinstance(value, Model) else value)
        for name, value in same.items()
    ):
        raise ValidationError(SPENT_KEY)
    return earlier


def _value(row: Model, name: str, like: object) -> object:
    return getattr(row, f"{name}_id" if isinstance(like, Model) else name)
