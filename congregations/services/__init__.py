"""Every change to congregations, memberships, invitations, profiles and the email outbox
goes through here.

Each function validates before it writes, runs in one transaction, and raises
``ValidationError`` with a message a person can read, changing nothing. Functions that
change who belongs lock the congregation's row first, so two facilitators acting at once
cannot leave it with no facilitator or invite it past its cap.
"""

from .congregations import SETTINGS_FIELDS, SETTINGS_LABELS, create_congregation, update_settings
from .daily import send_daily_emails
from .invitations import (
    INVALID_INVITATION,
    InvitationOutcome,
    accept_invitation,
    invite,
    invite_each,
    resend_invitation,
    revoke_invitation,
    sign_up_with_invitation,
    withdraw_invitations_sent_by,
)
from .memberships import change_role, leave_congregation, remove_member
from .notifications import Notice, mark_all_read, mark_read, notify
from .outbox import Attachment, Outgoing, queue_emails, send_due_emails
from .profile import (
    PROFILE_FIELDS,
    choose_language,
    remember_browser_language,
    turn_off_emails,
    update_profile,
)
from .reminders import remind_invitations

__all__ = [
    "INVALID_INVITATION",
    "PROFILE_FIELDS",
    "SETTINGS_FIELDS",
    "SETTINGS_LABELS",
    "Attachment",
    "InvitationOutcome",
    "Notice",
    "Outgoing",
    "accept_invitation",
    "change_role",
    "choose_language",
    "create_congregation",
    "invite",
    "invite_each",
    "leave_congregation",
    "mark_all_read",
    "mark_read",
    "notify",
    "queue_emails",
    "remember_browser_language",
    "remind_invitations",
    "remove_member",
    "resend_invitation",
    "revoke_invitation",
    "send_daily_emails",
    "send_due_emails",
    "sign_up_with_invitation",
    "turn_off_emails",
    "update_profile",
    "update_settings",
    "withdraw_invitations_sent_by",
]
