"""A version for what a crew's pages show alike to all its members — its roster (who is
in it, their names, who is asked to join; ``congregations.roster``) and its meetings — so
the pages can cache what they render of it (``congregations.versions`` says how)."""

from __future__ import annotations

from typing import Any

from congregations import versions
from congregations.roster import roster_key

from .models import Crew, Meeting


def _meetings_key(crew_id: int) -> str:
    return f"crew-meetings-version:{crew_id}"


def crew_version(crew: Crew) -> str:
    return versions.current(roster_key(crew.congregation_id), _meetings_key(crew.pk))


def on_meeting_saved(sender: Any, instance: Meeting, **kwargs: Any) -> None:
    # Attendance rows need no receiver of their own: the pages count who came only once a
    # meeting is logged, and logging saves the meeting after its attendance.
    versions.changed(_meetings_key(instance.crew_id))
