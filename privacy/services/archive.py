"""Everything the app holds about one Self, in every congregation, as one zip.

What goes in is decided field by field, with one rule: the Self's own rows, and of other
people only the names of those they shared a crew, a conflict or a venture with (the
people they already see beside them in the app). A crew's purpose, a meeting's place,
agenda, reflections and envisioning belong to the crew, not to any one of its members,
so they stay out; so do notifications, which are the app's messages about the rows that
are in, and may name people outside the rule. Never a secret: no password hash, token
or token hash, passkey credential, TOTP seed, recovery code or session key."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from congregations.account_selectors import describe_device
from congregations.models import (
    Ask,
    Invitation,
    Membership,
    MembershipEvent,
    Self,
)
from congregations.tenancy import across_congregations
from crews.models import Attendance, CalendarFeed, CrewInvitation, CrewMembership
from microsolidarity.spreadsheets import cell
from reciprocity.models import (
    ConflictParty,
    CoOwner,
    Dispute,
    LedgerEntry,
    ListeningParticipant,
    MoneyOffer,
    MoneyRound,
)

Row = dict[str, Any]

# In the reader's language (the archive is built in its owner's); the files' names and
# the JSON's keys stay as they are, for programs to read.
# Translators: the README of a person's data archive, a plain text file: keep the file
# names (profile.json …) and the line breaks, and keep the descriptions lined up after
# them. {made} is a date and time, {zone} a timezone such as Europe/Madrid. A congregation
# is the whole community; a crew a small group of 3–8 people; a dyad a pair of members; a
# venture a business or pool whose legal ownership members share.
README = _(
    """\
Everything Microsolidarity holds about you, made {made} ({zone}).

Every time in these files is in UTC, as the "Z" or "+00:00" at its end says; your own
timezone is {zone}, where the app shows you the same moments.

profile.json        your profile, email settings, calendar feed and how you sign in
congregations.json  per congregation: your memberships and their changes, crews and
                    dyads, meetings, rounds, conflicts, ventures, invitations, disputes
ledger.csv          every entry of points you earned or lost, with its reason

Of other people it holds only the names of those you shared a crew, a conflict or a
venture with. A crew's reflections, notes and agenda belong to the crew: ask your crew.
"""
)

# In the profile's words.
FACTOR_KINDS = {
    Authenticator.Type.TOTP: _("authenticator app"),
    Authenticator.Type.WEBAUTHN: _("passkey"),
    Authenticator.Type.RECOVERY_CODES: _("recovery codes"),
}

# The ledger's CSV headings, in the reader's language.
LEDGER_COLUMNS = [
    # Translators: a heading of the data archive's ledger CSV: the congregation (the whole
    # community of members).
    pgettext_lazy("ledger heading", "congregation"),
    # Translators: a heading of the ledger CSV: the crew (a small group of 3–8 people).
    pgettext_lazy("ledger heading", "crew"),
    # Translators: a heading of the ledger CSV: the level of the Reciprocity Game (1 to 5).
    pgettext_lazy("ledger heading", "level"),
    # Translators: a heading of the ledger CSV: the rule of the Reciprocity Game applied.
    pgettext_lazy("ledger heading", "rule"),
    pgettext_lazy("ledger heading", "points"),
    pgettext_lazy("ledger heading", "reason"),
    pgettext_lazy("ledger heading", "occurred_at"),
    pgettext_lazy("ledger heading", "recorded_at"),
    pgettext_lazy("ledger heading", "recorded_by"),
    # Translators: a heading of the ledger CSV: the entry's number.
    pgettext_lazy("ledger heading", "entry"),
    # Translators: a heading of the ledger CSV: the number of the entry this one reverses.
    pgettext_lazy("ledger heading", "reverses_entry"),
]


def export_self_data(*, self_: Self, now: datetime | None = None) -> bytes:
    """The zip of JSON and CSV files holding everything the app holds about ``self_``."""
    now = now or timezone.now()
    # One read of the Self's own rows across their congregations, every query filtered
    # by them (congregations.tenancy.ACROSS_CONGREGATIONS).
    with across_congregations():
        profile = _profile(self_, now)
        congregations = _congregations(self_, now)
        ledger = _ledger(self_)
    archive = io.BytesIO()
    stamp = now.astimezone(UTC).timetuple()[:6]
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zip_file:
        for name, text in [
            ("README.txt", _readme(self_, now)),
            ("profile.json", _json(profile)),
            ("congregations.json", _json(congregations)),
            ("ledger.csv", ledger),
        ]:
            zip_file.writestr(zipfile.ZipInfo(name, date_time=stamp), text, zipfile.ZIP_DEFLATED)
    return archive.getvalue()


def _readme(self_: Self, now: datetime) -> str:
    # The profile's TimeZoneField holds a ZoneInfo.
    zone = self_.timezone
    return str(README).format(made=f"{now.astimezone(zone):%Y-%m-%d %H:%M}", zone=zone)


def _json(data: Any) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)


def _by_you(self_: Self, self_id: int | None) -> bool:
    return self_id == self_.pk


def _profile(self_: Self, now: datetime) -> Row:
    feed = CalendarFeed.objects.filter(owner=self_).first()
    opted_out = self_.email_opt_outs.values_list("ask", flat=True)
    return {
        "exported_at": now,
        "email": self_.email,
        "display_name": self_.display_name,
        "timezone": str(self_.timezone),
        "the work I do for money": self_.paid_work,
        "the work most meaningful to me": self_.meaningful_work,
        "joined": self_.date_joined,
        "last_signed_in": self_.last_login,
        "email_settings": {
            "reminders before my crews meet": self_.reminders_enabled,
            "one email a day instead of one each": self_.email_digest,
            "no email about": sorted(Ask(ask).label for ask in opted_out),
        },
        # Whether a feed exists and since when; its address is a secret, never written out.
        "calendar_feed": {"exists": feed is not None, "created_at": feed and feed.created_at},
        "sign_in": _sign_in(self_),
    }


def _sign_in(self_: Self) -> Row:
    """How they sign in: names and dates only. An authenticator's ``data`` holds its
    secret (a TOTP seed, a passkey's credential, recovery codes), so only a passkey's
    name is read from it; a session's key is its secret and stays out."""
    factors = Authenticator.objects.filter(user=self_).order_by("created_at", "pk")
    sessions = UserSession.objects.filter(user=self_).order_by("created_at", "pk")
    return {
        "password": self_.has_usable_password(),
        "email_addresses": [
            {"email": address.email, "primary": address.primary, "verified": address.verified}
            for address in EmailAddress.objects.filter(user=self_).order_by("pk")
        ],
        "second_factors": [
            {
                "kind": FACTOR_KINDS.get(factor.type, factor.type),
                "name": factor.data.get("name", "")
                if factor.type == Authenticator.Type.WEBAUTHN
                else "",
                "created_at": factor.created_at,
                "last_used_at": factor.last_used_at,
            }
            for factor in factors
        ],
        "sessions": [
            {
                "device": describe_device(session.user_agent),
                "ip_address": session.ip,
                "signed_in_at": session.created_at,
                "last_seen_at": session.last_seen_at,
            }
            for session in sessions
        ],
    }


def _congregations(self_: Self, now: datetime) -> list[Row]:
    """Per congregation they ever belonged to, by name: their rows there."""
    memberships = list(
        Membership.objects.filter(member=self_)
        .select_related("congregation")
        .order_by("congregation__name", "joined_at")
    )
    sections: dict[int, Row] = {}
    for membership in memberships:
        congregation = membership.congregation
        section = sections.setdefault(
            congregation.pk,
            {"congregation": congregation.name, "memberships": []} | {part: [] for part in PARTS},
        )
        section["memberships"].append(
            {
                "role": membership.role,
                "joined_at": membership.joined_at,
                "left_at": membership.left_at,
            }
        )
    for part, rows in _parts(self_, now).items():
        for congregation_id, row in rows:
            if congregation_id in sections:
                sections[congregation_id][part].append(row)
    return list(sections.values())


PARTS = [
    "membership_history",
    "crews",
    "crew_invitations",
    "meetings",
    "listening_rounds",
    "money_rounds_as_focus",
    "money_offers",
    "conflicts",
    "ventures",
    "invitations_sent",
    "invitation_accepted",
    "disputes",
]


def _parts(self_: Self, now: datetime) -> dict[str, list[tuple[int, Row]]]:
    return {
        "membership_history": _membership_history(self_),
        "crews": _crews(self_),
        "crew_invitations": _crew_invitations(self_),
        "meetings": _meetings(self_),
        "listening_rounds": _listening_rounds(self_),
        "money_rounds_as_focus": _money_rounds(self_),
        "money_offers": _money_offers(self_),
        "conflicts": _conflicts(self_),
        "ventures": _ventures(self_),
        "invitations_sent": _invitations_sent(self_, now),
        "invitation_accepted": _invitation_accepted(self_),
        "disputes": _disputes(self_),
    }


def _membership_history(self_: Self) -> list[tuple[int, Row]]:
    """Changes to their own membership (joined, made facilitator, left...). Who made the
    change is said only when it was them: a facilitator is not someone they shared a
    crew with."""
    events = MembershipEvent.objects.filter(subject=self_).order_by("at", "pk")
    return [
        (
            e.congregation_id,
            {"action": e.get_action_display(), "at": e.at, "by_you": _by_you(self_, e.actor_id)},
        )
        for e in events
    ]


def _overlap(mine: CrewMembership, theirs: CrewMembership) -> bool:
    """Whether two spells in a crew shared some time."""
    return (theirs.left_at is None or theirs.left_at > mine.joined_at) and (
        mine.left_at is None or mine.left_at > theirs.joined_at
    )


def _crews(self_: Self) -> list[tuple[int, Row]]:
    """Each spell in a crew or dyad, and the names of those who were in it at the same
    time. The crew's purpose is the crew's own words, not theirs: left out."""
    mine = list(
        CrewMembership.objects.filter(member=self_)
        .select_related("crew")
        .order_by("joined_at", "pk")
    )
    others: dict[int, list[CrewMembership]] = defaultdict(list)
    for spell in (
        CrewMembership.objects.filter(crew__in={m.crew_id for m in mine})
        .exclude(member=self_)
        .select_related("member")
        .order_by("member__display_name", "pk")
    ):
        others[spell.crew_id].append(spell)
    return [
        (
            spell.congregation_id,
            {
                "name": spell.crew.name,
                "kind": spell.crew.kind,
                "joined_at": spell.joined_at,
                "left_at": spell.left_at,
                "shared_with": _names(
                    o.member for o in others[spell.crew_id] if _overlap(spell, o)
                ),
            },
        )
        for spell in mine
    ]


def _names(selves: Iterable[Self]) -> list[str]:
    return sorted({s.display_name for s in selves})


def _crew_invitations(self_: Self) -> list[tuple[int, Row]]:
    """Invitations into a crew they were asked or sent. Who asked them, or whom they
    asked, is left out: they may never have shared the crew."""
    invitations = (
        CrewInvitation.objects.filter(Q(invitee=self_) | Q(invited_by=self_))
        .select_related("crew")
        .order_by("created_at", "pk")
    )
    return [
        (
            i.congregation_id,
            {
                "crew": i.crew.name,
                "you_were": "invited" if i.invitee_id == self_.pk else "the one who invited",
                "at": i.created_at,
                "answered_at": i.answered_at,
                "accepted": i.accepted,
                "withdrawn_at": i.withdrawn_at,
            },
        )
        for i in invitations
    ]


def _meetings(self_: Self) -> list[tuple[int, Row]]:
    """The meetings they were counted at, present or not. Place, agenda, reflections and
    envisioning belong to the crew."""
    attendances = (
        Attendance.objects.filter(member=self_)
        .select_related("meeting__crew")
        .order_by("meeting__starts_at", "pk")
    )
    return [
        (
            a.congregation_id,
            {
                "crew": a.meeting.crew.name,
                "starts_at": a.meeting.starts_at,
                "timezone": str(a.meeting.timezone),
                "status": a.meeting.status,
                "present": a.present,
            },
        )
        for a in attendances
    ]


def _listening_rounds(self_: Self) -> list[tuple[int, Row]]:
    seats = (
        ListeningParticipant.objects.filter(participant=self_)
        .select_related("round__meeting__crew")
        .order_by("round__recorded_at", "pk")
    )
    return [
        (
            s.congregation_id,
            {
                "crew": s.round.meeting.crew.name,
                "meeting_starts_at": s.round.meeting.starts_at,
                "everyone_listened": s.round.everyone_listened,
            },
        )
        for s in seats
    ]


def _money_rounds(self_: Self) -> list[tuple[int, Row]]:
    """Rounds in which they were the focus person, with who offered what: the offerers
    were at that meeting of their crew."""
    rounds = (
        MoneyRound.objects.filter(focus=self_)
        .select_related("meeting__crew")
        .prefetch_related("offers__offerer")
        .order_by("recorded_at", "pk")
    )
    return [
        (
            r.congregation_id,
            {
                "crew": r.meeting.crew.name,
                "meeting_starts_at": r.meeting.starts_at,
                "asked": r.asked,
                "mutual_respect": r.mutual_respect,
                "offers": [
                    {"from": o.offerer.display_name, "kind": o.kind} for o in r.offers.all()
                ],
            },
        )
        for r in rounds
    ]


def _money_offers(self_: Self) -> list[tuple[int, Row]]:
    offers = (
        MoneyOffer.objects.filter(offerer=self_)
        .select_related("round__meeting__crew", "round__focus")
        .order_by("round__recorded_at", "pk")
    )
    return [
        (
            o.congregation_id,
            {
                "crew": o.round.meeting.crew.name,
                "meeting_starts_at": o.round.meeting.starts_at,
                "to": o.round.focus.display_name,
                "kind": o.kind,
            },
        )
        for o in offers
    ]


def _conflicts(self_: Self) -> list[tuple[int, Row]]:
    """Conflicts they are a party to, with the other parties' names and its title: the
    title is the parties' own, and they are one of them."""
    seats = (
        ConflictParty.objects.filter(party=self_)
        .select_related("conflict__crew")
        .prefetch_related("conflict__parties__party")
        .order_by("conflict__opened_at", "pk")
    )
    return [
        (
            s.congregation_id,
            {
                "title": s.conflict.title,
                "crew": s.conflict.crew.name,
                "opened_at": s.conflict.opened_at,
                "opened_by_you": _by_you(self_, s.conflict.opened_by_id),
                "deadline_at": s.conflict.deadline_at,
                "status": s.conflict.status,
                "closed_at": s.conflict.closed_at,
                "you_confirmed_at": s.confirmed_at,
                "you_left_at": s.left_at,
                "parties": _names(p.party for p in s.conflict.parties.all()),
            },
        )
        for s in seats
    ]


def _ventures(self_: Self) -> list[tuple[int, Row]]:
    shares = (
        CoOwner.objects.filter(co_owner=self_)
        .select_related("venture")
        .prefetch_related("venture__co_owners__co_owner")
        .order_by("venture__registered_at", "pk")
    )
    return [
        (
            s.congregation_id,
            {
                "name": s.venture.name,
                "legal_form": s.venture.legal_form,
                "registered_at": s.venture.registered_at,
                "registered_by_you": _by_you(self_, s.venture.registered_by_id),
                "confirmed_at": s.venture.confirmed_at,
                "withdrawn_at": s.venture.withdrawn_at,
                "you_confirmed_at": s.confirmed_at,
                "you_left_at": s.left_at,
                "co_owners": _names(c.co_owner for c in s.venture.co_owners.all()),
            },
        )
        for s in shares
    ]


def _invitations_sent(self_: Self, now: datetime) -> list[tuple[int, Row]]:
    """The address and note they wrote themselves (until the address is forgotten); the
    link's token hashes stay out."""
    invitations = Invitation.objects.filter(invited_by=self_).order_by("sent_at", "pk")
    return [
        (
            i.congregation_id,
            {
                "email": i.email,
                "note": i.note,
                "sent_at": i.sent_at,
                "expires_at": i.expires_at,
                "status": i.status_at(now),
            },
        )
        for i in invitations
    ]


def _invitation_accepted(self_: Self) -> list[tuple[int, Row]]:
    """The invitation that let them in: when, not who sent it."""
    invitations = Invitation.objects.filter(accepted_by=self_).order_by("accepted_at", "pk")
    return [
        (i.congregation_id, {"sent_at": i.sent_at, "accepted_at": i.accepted_at})
        for i in invitations
    ]


def _disputes(self_: Self) -> list[tuple[int, Row]]:
    """Missed-meeting deductions they disputed, or confirmed for a crew-mate."""
    disputes = (
        Dispute.objects.filter(Q(disputed_by=self_) | Q(confirmed_by=self_))
        .select_related("entry__crew")
        .order_by("disputed_at", "pk")
    )
    return [
        (
            d.congregation_id,
            {
                "you": "disputed" if d.disputed_by_id == self_.pk else "confirmed",
                "entry": d.entry.localized_reason,
                "crew": d.entry.crew.name if d.entry.crew else "",
                "disputed_at": d.disputed_at,
                "confirmed_at": d.confirmed_at,
                "withdrawn_at": d.withdrawn_at,
            },
        )
        for d in disputes
    ]


def _ledger(self_: Self) -> str:
    """Their entries as CSV, in each congregation oldest first. Who recorded an entry is
    "you", "someone else" or "the app" (a background job): a recorder may be a
    facilitator they shared no crew with."""
    entries = (
        LedgerEntry.objects.filter(member=self_)
        .select_related("congregation", "crew")
        .order_by("congregation__name", "occurred_at", "pk")
    )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(LEDGER_COLUMNS)
    # Who recorded an entry, in the reader's words.
    by_the_app, by_you, by_someone = (
        # Translators: who recorded an entry of points, in the data archive: a background job.
        pgettext("recorded by", "the app"),
        # Translators: who recorded an entry of points: the person reading their archive.
        pgettext("recorded by", "you"),
        # Translators: who recorded an entry of points: another member, left unnamed.
        pgettext("recorded by", "someone else"),
    )
    for e in entries:
        writer.writerow(
            [
                cell(e.congregation.name),
                cell(e.crew.name if e.crew else ""),
                e.get_level_display(),
                # In the words of the crew's own export, not the stored code.
                e.get_rule_display(),
                e.points,
                cell(e.localized_reason),
                e.occurred_at.isoformat(),
                e.recorded_at.isoformat(),
                by_the_app
                if e.recorded_by_id is None
                else by_you
                if _by_you(self_, e.recorded_by_id)
                else by_someone,
                e.pk,
                e.reverses_id or "",
            ]
        )
    return text.getvalue()
