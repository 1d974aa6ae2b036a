"""Every change to crews, dyads, their meetings and the emails about them goes through here.

Rules a person can break raise ``ValidationError`` with a readable message before anything
is written. Functions that change who is in a crew lock the crew's row first; functions
that change a meeting lock the meeting's row and take the ``version`` the person was
looking at.
"""

from .calendar import renew_calendar_feed, revoke_calendar_feed
from .forming import (
    answer_crew_invitation,
    end_crew_memberships,
    form_crew,
    invite_to_crew,
    leave_crew,
    on_membership_ended,
    propose_crew,
)
from .meetings import (
    cancel_meeting,
    log_meeting,
    mark_attendance,
    reschedule_meeting,
    schedule_meeting,
    update_meeting_notes,
)
from .reminders import nudge_quiet_crews, nudge_unlogged_meetings, send_due_reminders

__all__ = [
    "answer_crew_invitation",
    "cancel_meeting",
    "end_crew_memberships",
    "form_crew",
    "invite_to_crew",
    "leave_crew",
    "log_meeting",
    "mark_attendance",
    "nudge_quiet_crews",
    "nudge_unlogged_meetings",
    "on_membership_ended",
    "propose_crew",
    "renew_calendar_feed",
    "reschedule_meeting",
    "revoke_calendar_feed",
    "schedule_meeting",
    "send_due_reminders",
    "update_meeting_notes",
]
