"""Pages of crews, dyads and their meetings."""

from .calendar import calendar_feed, calendar_settings
from .congregation import congregation_home, people
from .crew import crew_detail, history
from .forming import answer_invitation, invite, leave, propose
from .meetings import cancel, log, meeting_detail, notes, reschedule, schedule, tap

__all__ = [
    "answer_invitation",
    "calendar_feed",
    "calendar_settings",
    "cancel",
    "congregation_home",
    "crew_detail",
    "history",
    "invite",
    "leave",
    "log",
    "meeting_detail",
    "notes",
    "people",
    "propose",
    "reschedule",
    "schedule",
    "tap",
]
