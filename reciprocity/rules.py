"""The Reciprocity Game's rules, from the proposal, in one place: its levels and rules, the
numbers, the wording, and pure functions deciding who earns what. The services, the
missed-meeting job's SQL and the benchmark's generator all decide through them.

Nothing here touches the database (no models imported): a person is whatever the caller
counts people in, a Self in the services, an id in the generator."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

# The choices' base classes only: what a field stores, not a model.
from django.db.models.enums import IntegerChoices, TextChoices
from django.utils import translation
from django.utils.formats import date_format, get_format
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _

Person = TypeVar("Person")


class Level(IntegerChoices):
    # Translators: level 1 of the Reciprocity Game (the game of points between members):
    # the listening round.
    LISTENING = 1, _("Listening")
    # Translators: level 2 of the Reciprocity Game: the money round.
    MONEY = 2, _("Money")
    # Translators: level 3 of the Reciprocity Game: meeting with one's crew (a small group of
    # 3–8 people who meet about once a month) month after month.
    CONSISTENCY = 3, _("Consistency")
    # Translators: level 4 of the Reciprocity Game: resolving a conflict between crew members.
    CONFLICT = 4, _("Conflict")
    # Translators: level 5 of the Reciprocity Game: the co-owners of a venture (a business or
    # pool whose legal ownership members share).
    CO_OWNERS = 5, _("Co-owners")


class Rule(TextChoices):
    """Which rule of the game produced an entry; POINTS below holds the points."""

    # Translators: a rule of the Reciprocity Game, what a member did for their points: in the
    # listening round, everyone listened to everyone.
    LISTENED = "listened", _("everyone listened to everyone")
    # Translators: a rule of the Reciprocity Game: in the money round, the focus person
    # asked for something.
    ASKED = "asked", _("asked for something they need")
    # Translators: a rule of the Reciprocity Game: in the money round, someone offered the
    # focus person something.
    OFFERED = "offered", _("offered the focus person something")
    # Translators: a rule of the Reciprocity Game: a money round held with mutual respect.
    MUTUAL_RESPECT = "mutual_respect", _("talked and listened with mutual respect")
    # Translators: a rule of the Reciprocity Game: a member met with their crew (a small group
    # of 3–8 people who meet about once a month).
    ATTENDED = "attended", _("met with their crew")
    # Translators: a rule of the Reciprocity Game: a member missed a meeting of their crew.
    MISSED = "missed", _("missed a meeting")
    # Translators: a rule of the Reciprocity Game: a conflict between members was resolved.
    RESOLVED = "resolved", _("resolved a conflict")
    # Translators: a rule of the Reciprocity Game: the parties to a conflict found no
    # agreeable resolution.
    UNRESOLVED = "unresolved", _("found no agreeable resolution")
    # Translators: a rule of the Reciprocity Game: a conflict stayed open past its deadline.
    EXPIRED = "expired", _("left a conflict open past its deadline")
    # Translators: a rule of the Reciprocity Game: a co-owner shares the legal ownership of a
    # venture (a business or pool whose legal ownership members share).
    CO_OWNED = "co_owned", _("shares legal ownership of a venture")
    # Translators: an entry of the ledger that reverses an earlier one.
    REVERSAL = "reversal", _("correction")


class LegalForm(TextChoices):
    """A venture's legal form (reciprocity.models.Venture reads it from here: an entry's
    reason names it)."""

    # Translators: a legal form of a venture (the proposal's shared business or pool).
    COMPANY = "company", _("company")
    # Translators: a legal form of a venture.
    ASSOCIATION = "association", _("association")
    # Translators: a legal form of a venture: a cooperative.
    COOP = "coop", _("co-op")
    # Translators: a legal form of a venture: a pool of savings shared by its members.
    SAVINGS_POOL = "savings_pool", _("savings pool")
    # Translators: a legal form of a venture: members lend to each other in turn.
    LENDING_CIRCLE = "lending_circle", _("lending circle")
    # Translators: a legal form of a venture: a small group sharing their livelihoods.
    LIVELIHOOD_POD = "livelihood_pod", _("livelihood pod")


# An entry's reason, as a member reads it: the ledger's column is this long.
REASON_LENGTH = 300

POINTS: dict[Rule, int] = {
    Rule.LISTENED: 1,  # each participant, when everyone listened to everyone
    Rule.ASKED: 5,  # the focus person, once per round
    Rule.OFFERED: 5,  # each offerer, once per round however many offers
    Rule.MUTUAL_RESPECT: 1,  # the focus person and each offerer, when there was an offer
    Rule.MISSED: -5,  # each member of the crew at the time who was not there
    Rule.RESOLVED: 10,  # each party, once all have confirmed
    Rule.UNRESOLVED: -20,  # each party
    Rule.EXPIRED: -20,  # each party, when still open past the deadline
    Rule.CO_OWNED: 100,  # each co-owner, once all have confirmed
}

LEVELS: dict[Rule, Level] = {
    Rule.LISTENED: Level.LISTENING,
    Rule.ASKED: Level.MONEY,
    Rule.OFFERED: Level.MONEY,
    Rule.MUTUAL_RESPECT: Level.MONEY,
    Rule.ATTENDED: Level.CONSISTENCY,
    Rule.MISSED: Level.CONSISTENCY,
    Rule.RESOLVED: Level.CONFLICT,
    Rule.UNRESOLVED: Level.CONFLICT,
    Rule.EXPIRED: Level.CONFLICT,
    Rule.CO_OWNED: Level.CO_OWNERS,
}

# Crew points are earned on these levels; co-owners' points belong to the congregation.
CREW_LEVELS = [Level.LISTENING, Level.MONEY, Level.CONSISTENCY, Level.CONFLICT]


def signed(points: int | None) -> str:
    """+5, 0 or −5, with a true minus sign."""
    points = points or 0
    if points < 0:
        return f"\u2212{-points}"
    return f"+{points}" if points else "0"


# Level 1 and level 2: what a round at a logged meeting earns.


def listening_round_awards(
    *, participants: Sequence[Person], everyone_listened: bool
) -> list[tuple[Person, Rule]]:
    """+1 to each participant when everyone listened to everyone; nothing otherwise (the
    round is still recorded)."""
    return [(person, Rule.LISTENED) for person in participants] if everyone_listened else []


def money_round_awards(
    *, focus: Person, asked: bool, offerers: Sequence[Person], mutual_respect: bool
) -> list[tuple[Person, Rule]]:
    """The focus person earns for asking, once per round; each offerer for offering, once
    per round however many offers; and, held with mutual respect and positive regard with
    at least one offer, the focus person and each offerer once more. ``offerers`` are
    distinct and exclude the focus person (the service refuses otherwise)."""
    awards = [(focus, Rule.ASKED)] if asked else []
    awards += [(person, Rule.OFFERED) for person in offerers]
    if mutual_respect and offerers:
        awards += [(person, Rule.MUTUAL_RESPECT) for person in [focus, *offerers]]
    return awards


# Level 3: consistency.

# The rules card shows the points for these meetings: the first, the second, each later.
CONSISTENCY_STEPS = (1, 2, 3)


def consistency_points(nth: int) -> int:
    """Points for attending one's n-th logged meeting in a crew: 1, then 3, then 5 each.
    The n-th counts the crew's logged meetings the member attended, this one included;
    missing one does not reset it."""
    if nth < 1:
        raise ValueError("Meetings are counted from 1.")
    return {1: 1, 2: 3}.get(nth, 5)


def member_at(joined_at: datetime, left_at: datetime | None, moment: datetime) -> bool:
    """Whether a crew membership from ``joined_at`` until ``left_at`` (None: still in it)
    counts at ``moment``, a meeting's start: joined by then, not yet left. Who joined
    exactly at the start was there; who left exactly at the start was not.

    The same condition is spelled twice more, where Python cannot run it:
    ``crews.models.CrewMembershipQuerySet.at`` (the ORM) and the join in
    ``reciprocity.services.consistency.MISSED_BY`` (the missed-meeting job);
    tests/reciprocity/test_rules.py holds all three to the same edges."""
    return joined_at <= moment and (left_at is None or left_at > moment)


# A meeting is either missed or attended, never both. Once its grace period has passed the
# missed-meeting job settles it (Meeting.deductions_applied_at): each member not marked
# present loses 5, and from then on the meeting can no longer be logged nor its attendance
# tapped, even if the congregation later lengthens its grace period, so nobody both loses 5
# for missing it and earns points for coming. A member who was there but not marked present
# disputes their −5 (services.dispute_deduction); a crew-mate marked present confirms, and
# the reversing entry names both: consent, no facilitator needed.
# Translators: {day} is a date; {points} is −5. A crew-mate is a member of the same crew (a
# small group of 3–8 people who meet about once a month). "My scores" names that page.
SETTLED = _(
    "This meeting was settled as missed on {day}, so it can no longer be logged. "
    "A member who was there can dispute their {points} from My scores, and a crew-mate "
    "who was there confirms it."
)


class Settled(Protocol):
    """What settled_notice reads of a meeting."""

    @property
    def deductions_applied_at(self) -> datetime | None: ...

    @property
    def timezone(self) -> tzinfo: ...


def settled_notice(meeting: Settled) -> str:
    """Why a settled meeting cannot be logged, dated on the meeting's own clock."""
    assert meeting.deductions_applied_at is not None, "only a settled meeting says so"
    day = meeting.deductions_applied_at.astimezone(meeting.timezone)
    return str(SETTLED).format(
        day=date_format(day, "DATE_FORMAT"), points=signed(POINTS[Rule.MISSED])
    )


# A missed-meeting −5 may be disputed this long after it was written: a crew-mate who
# was there still remembers. (A dispute's service and the "Waiting for you" list read it.)
DISPUTE_WITHIN = timedelta(days=30)


# When a Self leaves a crew or the congregation (they left, were removed, or left for good),
# nothing waits on them any more. The services that end a membership settle it at once
# (reciprocity.services.departures), and the congregation's History says what was withdrawn.
# Marked for translation, kept a plain string: the README quotes it word for word, and the
# rules card shows it through gettext.
# Translators: a crew is a small group of 3–8 people who meet about once a month; a venture
# is a business or pool whose legal ownership members share (its co-owners); a dispute is a
# member saying they were at a meeting they lost 5 points for missing.
WHEN_SOMEONE_LEAVES = gettext_noop(
    "When someone leaves a crew or the congregation, nothing waits on them. Their "
    "unanswered crew invitations, and the open ones they sent, are withdrawn. They leave "
    "each open conflict of theirs in that crew (in every crew, when they leave the "
    "congregation): if fewer than two parties remain, it closes without points; if everyone "
    "who remains has confirmed, it is resolved, +10 each; otherwise it waits for those who "
    "remain, and only they can lose 20 at its deadline. Nobody is charged for a partner who "
    "left. (A conflict already past its deadline stays as it was: its −20 applies.) When "
    "they leave the congregation, a venture they had not yet confirmed goes on "
    "without them: it scores +100 for each co-owner who remains once two or more remain and "
    "all have confirmed, and it is withdrawn, never to score, when fewer than two remain "
    "(one who had confirmed stays a co-owner). A dispute they made, or one that waited only "
    "for crew-mates who have all left, is withdrawn. They get no more email from that "
    "congregation."
)


def disputable_until(written_at: datetime) -> datetime:
    """The last moment a −5 written at ``written_at`` may be disputed."""
    return written_at + DISPUTE_WITHIN


# How each rule's entry names itself: the prefix of its idempotency key and the reason a
# member reads. Every −20 for a conflict shares one key prefix, so a party loses 20 once
# however the conflict closed. A reason is read in the reader's language from the entry's
# named parts (localized_reason); the ledger keeps it as written too, in English.
WORDING: dict[Rule, tuple[str, Promise]] = {
    Rule.LISTENED: (
        "listened",
        # Translators: a reason in the ledger of points (the Reciprocity Game): the
        # listening round at a meeting, in which everyone listened to everyone. {meeting}
        # names the meeting: its crew and its day.
        _("Everyone listened to everyone: {meeting}"),
    ),
    Rule.ASKED: (
        "asked",
        # Translators: a reason in the ledger of points: in the money round, the member
        # asked for something they need. {meeting}: the meeting's crew and day.
        _("Asked for something they need: {meeting}"),
    ),
    Rule.OFFERED: (
        "offered",
        # Translators: a reason in the ledger of points: in the money round, the member
        # offered {focus} (a person's name) something. {meeting}: the meeting's crew and day.
        _("Offered {focus} something: {meeting}"),
    ),
    Rule.MUTUAL_RESPECT: (
        "mutual_respect",
        # Translators: a reason in the ledger of points: a money round held with mutual
        # respect and positive regard. {meeting}: the meeting's crew and day.
        _("A money round held with mutual respect: {meeting}"),
    ),
    Rule.ATTENDED: (
        "attended",
        # Translators: a reason in the ledger of points: the member's {nth} meeting (a
        # number: 1, 2, 3…) with their crew (a small group of 3–8 people who meet about
        # once a month). {meeting}: the meeting's crew and day.
        _("Meeting number {nth} with the crew: {meeting}"),
    ),
    Rule.MISSED: (
        "missed",
        # Translators: a reason in the ledger of points: the member missed the meeting of
        # their crew. {meeting}: the meeting's crew and day.
        _("Missed the meeting: {meeting}"),
    ),
    Rule.RESOLVED: (
        "conflict-resolved",
        # Translators: a reason in the ledger of points: a conflict between members of a
        # crew was resolved together. {conflict}: the conflict's title.
        _("Resolved together: {conflict}"),
    ),
    Rule.UNRESOLVED: (
        "conflict-lost",
        # Translators: a reason in the ledger of points: the parties to a conflict found no
        # agreeable resolution. {conflict}: the conflict's title.
        _("No agreeable resolution: {conflict}"),
    ),
    Rule.EXPIRED: (
        "conflict-lost",
        # Translators: a reason in the ledger of points: a conflict stayed open past its
        # deadline. {conflict}: the conflict's title.
        _("Still open past its deadline: {conflict}"),
    ),
    Rule.CO_OWNED: (
        "co-owned",
        # Translators: a reason in the ledger of points: the member is a co-owner of a
        # venture (a business or pool whose legal ownership members share). {venture}: its
        # name; {legal_form}: its legal form, such as "co-op".
        _("Co-owner of {venture} ({legal_form})"),
    ),
}

# Translators: how a reason in the ledger names a meeting: {crew} is the crew's name (a crew
# is a small group of 3–8 people who meet about once a month), {day} the meeting's date.
MEETING = _("{crew}, {day}")
# Translators: a conflict between members of a crew that has no title, named by its crew
# (a small group of 3–8 people who meet about once a month).
UNTITLED_CONFLICT = _("conflict in {crew}")

# The language a reason is kept in, as written: the source language.
WRITTEN_IN = "en"


def entry_key(rule: Rule, source_id: int, member_id: int) -> str:
    """The idempotency key of ``rule``'s entry for one member and what it came from."""
    return f"{WORDING[rule][0]}:{source_id}:{member_id}"


def entry_reason(rule: Rule, **parts: object) -> str:
    """``rule``'s reason as written, in English, from words already put together (the
    benchmark's generator); the services write reason_parts and written_reason."""
    with translation.override(WRITTEN_IN):
        return str(WORDING[rule][1]).format(**parts)[:REASON_LENGTH]


# An entry's reason_parts: what its reason names, as plain JSON, so that it reads in any
# language. A meeting is its crew's name, its start (an ISO instant) and its zone; then, per
# rule, "nth" (attended), "focus" (offered: a name), "conflict" and "crew" (a conflict's
# title, its crew's name for an untitled one), "venture" and "legal_form" (the stored
# value). A correction names the entry it reverses ("corrected": its rule, parts and reason
# as written), "member", "points", and either "why" (a facilitator's words) or "disputer"
# and "confirmer" (a confirmed dispute).
Parts = dict[str, Any]


def meeting_parts(crew: str, starts_at: datetime, zone: tzinfo) -> Parts:
    return {"crew": crew, "starts_at": starts_at.isoformat(), "zone": str(zone)}


def meeting_name(parts: Mapping[str, Any]) -> str:
    """A meeting as a reason names it, in the active language: its crew and its day on the
    meeting's own clock."""
    start = datetime.fromisoformat(parts["starts_at"]).astimezone(ZoneInfo(parts["zone"]))
    day = _day(start.date(), get_language(), get_format("DATE_FORMAT"))
    return str(MEETING).format(crew=parts["crew"], day=day)


@functools.lru_cache(maxsize=4096)
def _day(day: date, language: str | None, written_as: str) -> str:
    """``day`` as the active language's DATE_FORMAT (``written_as``) writes it, its month
    names in ``language``: the missed-meeting job names thousands of meetings on a few
    dozen days."""
    return date_format(day, written_as)


def corrected_parts(rule: str, parts: Mapping[str, Any] | None, reason: str) -> Parts:
    """How a correction keeps the entry it reverses: enough to say it in any language."""
    return {"rule": str(rule), "parts": dict(parts or {}), "reason": reason}


def written_reason(rule: Rule, parts: Mapping[str, Any]) -> str:
    """The reason as the ledger keeps it: in English, at most REASON_LENGTH long."""
    (reason,) = written_reasons(rule, [parts])
    return reason


def written_reasons(rule: Rule, many: Sequence[Mapping[str, Any]]) -> list[str]:
    """written_reason of each of ``many`` parts, in English entered once for them all."""
    with translation.override(WRITTEN_IN):
        return [_said(Rule(rule), parts)[:REASON_LENGTH] for parts in many]


def localized_reason(rule: str, parts: Mapping[str, Any] | None, written: str) -> str:
    """An entry's reason in the active language, from its rule and named parts; an entry
    written before the parts were kept (or whose parts this code cannot read) shows its
    reason as written."""
    if not parts:
        return written
    try:
        return _said(Rule(rule), parts)
    except (KeyError, ValueError, TypeError):
        return written


def _said(rule: Rule, parts: Mapping[str, Any]) -> str:
    if rule == Rule.REVERSAL:
        corrected = parts["corrected"]
        quoted = localized_reason(corrected["rule"], corrected.get("parts"), corrected["reason"])
        if "disputer" in parts:
            why = str(DISPUTED).format(disputer=parts["disputer"], confirmer=parts["confirmer"])
        else:
            why = parts["why"]
        return correction_reason(quoted, why, member=parts["member"], points=parts["points"])
    names: dict[str, object] = {}
    if "starts_at" in parts:
        names["meeting"] = meeting_name(parts)
    if "nth" in parts:
        names["nth"] = parts["nth"]
    if "focus" in parts:
        names["focus"] = parts["focus"]
    if "conflict" in parts:
        names["conflict"] = parts["conflict"] or str(UNTITLED_CONFLICT).format(crew=parts["crew"])
    if "venture" in parts:
        names["venture"] = parts["venture"]
        form = parts["legal_form"]
        names["legal_form"] = LegalForm(form).label if form in LegalForm.values else form
    return str(WORDING[rule][1]).format(**names)


def entry_day(occurred_at: datetime, *clocks: tzinfo | None) -> date:
    """The day an entry happened, on the first of ``clocks`` it has: its meeting's, on
    which its reason names the day, then its crew's, then the reader's. A list and a
    spreadsheet then show the day its reason names."""
    return occurred_at.astimezone(next(zone for zone in clocks if zone is not None)).date()


# A correction in plain words, naming the entry it reverses: "Reversed Fern Walker’s +1 for
# “Everyone listened to everyone: …”: wrong meeting".
# Translators: a reason in the ledger of points, for an entry that reverses an earlier one:
# {member} is a person's name, {points} their points (+1, −5), {corrected} the reason of the
# entry reversed, {why} why it was corrected (as someone typed it, or a sentence).
CORRECTION = _("Reversed {member}’s {points} for “{corrected}”: {why}")


def correction_reason(corrected: str, why: str, *, member: str, points: int) -> str:
    """How a correction names the entry it reverses and why, in the active language. What
    is shortened to fit is the quoted reason, which the entry itself keeps whole, then a
    very long name; never the why."""
    template = str(CORRECTION)
    room = REASON_LENGTH - len(
        template.format(member="", points=signed(points), corrected="", why=why)
    )
    member = _fit(member, room - 1)  # at least the quote's "…" stays
    corrected = _fit(corrected, room - len(member))
    return template.format(member=member, points=signed(points), corrected=corrected, why=why)


def _fit(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)].rstrip() + "…"


# Why a disputed −5 is reversed: the one who was there and the crew-mate who confirmed.
# Translators: why a −5 for a missed meeting was given back: {disputer} and {confirmer} are
# people's names; a member of the same crew who was there confirmed it.
DISPUTED = _("{disputer} was at the meeting, as {confirmer}, who was there too, confirmed")


def dispute_reason(
    corrected: str, *, member: str, points: int, disputer: str, confirmer: str
) -> str:
    why = str(DISPUTED).format(disputer=disputer, confirmer=confirmer)
    return correction_reason(corrected, why, member=member, points=points)
