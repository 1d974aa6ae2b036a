"""What a line of the congregation's History did, beyond its action: kept as plain JSON
(``MembershipEvent.details``) when it happens, and said in words only when someone reads
it, in their language. The services that write a line build its details with the
functions here; ``described`` is the one place that puts them into words.

The words name crews, conflicts and ventures, but this module imports nothing of crews or
the game: a detail is data (a count, a crew's or a venture's name), not a row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from django.utils.translation import gettext, npgettext, pgettext

if TYPE_CHECKING:
    from .models import MembershipEvent

# One thing a line did, e.g. {"setting": "invitation_quota", "from": 5, "to": 8}.
Detail = dict[str, Any]
# How much of a long value (a purpose) History quotes on each side of the arrow.
QUOTED_LENGTH = 60


def setting_changed(field: str, old: object, new: object) -> Detail:
    """A facilitator changed one of the congregation's settings."""
    return {"setting": field, "from": _kept(old), "to": _kept(new)}


def withdrew(what: Literal["crew_invitations", "disputes"], count: int) -> Detail:
    """Someone left, and this many of their open crew invitations (to or from them) or of
    the disputes of a missed meeting that waited on them were withdrawn."""
    return {"withdrew": what, "count": count}


def conflict_left(outcome: Literal["closed", "resolved", "waits"], crew: object) -> Detail:
    """Someone left a conflict in ``crew``: it closed without points (fewer than two
    parties remain), was resolved (all who remain had confirmed), or waits for the others."""
    return {"conflict": outcome, "crew": str(crew)}


def venture_left(outcome: Literal["withdrawn", "scored", "left"], venture: object) -> Detail:
    """Someone dropped out of ``venture``: it was withdrawn (fewer than two co-owners
    remain), scored (all who remain had confirmed), or goes on without them."""
    return {"venture": outcome, "name": str(venture)}


def described(event: MembershipEvent) -> str:
    """What ``event`` did, in the active language: its details one after another, else (a
    line written before they were kept) the words stored with it, in English."""
    if not event.details:
        return event.detail
    # Whoever the line is about: the one who left, in phrases that name them.
    name = str(event.subject) if event.subject_id else event.email
    text = "; ".join(filter(None, (_phrase(detail, name) for detail in event.details)))
    return text[:1].upper() + text[1:]


def _kept(value: object) -> bool | int | str:
    if isinstance(value, bool | int):
        return value
    text = str(value)
    return text if len(text) <= QUOTED_LENGTH else text[: QUOTED_LENGTH - 1].rstrip() + "…"


def _said(value: object) -> str:
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return str(value)


def _phrase(detail: Detail, name: str) -> str:
    # Each translator comment sits right before its msgid, after the context: xgettext
    # attaches a comment only to the string that follows it.
    from .services.congregations import SETTINGS_LABELS  # the services import the models

    if "setting" in detail:
        field = detail["setting"]
        return pgettext(
            "history detail",
            # Translators: a change of a congregation's settings in its History: the
            # setting's label, its value before and its value after.
            "%(setting)s: %(from)s → %(to)s",
        ) % {
            "setting": SETTINGS_LABELS.get(field, field),
            "from": _said(detail["from"]),
            "to": _said(detail["to"]),
        }
    count = detail.get("count", 0)
    if detail.get("withdrew") == "crew_invitations":
        return npgettext(
            "history detail",
            # Translators: said in a congregation's History of someone who left: their
            # open invitations to join a crew (a small group of 3–8 people who meet
            # about once a month, the proposal's "Crew"), to them or from them, were
            # withdrawn.
            "withdrew %(count)s crew invitation",
            "withdrew %(count)s crew invitations",
            count,
        ) % {"count": count}
    if detail.get("withdrew") == "disputes":
        return npgettext(
            "history detail",
            # Translators: said in a congregation's History of someone who left: the
            # disputes of a −5 for missing a meeting that waited on them were withdrawn.
            "withdrew %(count)s dispute of a missed meeting",
            "withdrew %(count)s disputes of a missed meeting",
            count,
        ) % {"count": count}
    crew = detail.get("crew", "")
    if detail.get("conflict") == "closed":
        return pgettext(
            "history detail",
            # Translators: said in a congregation's History; %(crew)s is the name of a
            # crew (a small group of 3–8 people who meet about once a month, the
            # proposal's "Crew"). A conflict between crew members closed as someone left
            # it.
            "closed a conflict in %(crew)s without points: fewer than two parties remain",
        ) % {"crew": crew}
    if detail.get("conflict") == "resolved":
        return pgettext(
            "history detail",
            # Translators: said in a congregation's History; %(crew)s is a crew's name.
            "resolved a conflict in %(crew)s: everyone who remains had confirmed",
        ) % {"crew": crew}
    if detail.get("conflict") == "waits":
        return pgettext(
            "history detail",
            # Translators: said in a congregation's History; %(name)s is the person who
            # left, %(crew)s a crew's name. "which" is the conflict.
            "%(name)s left a conflict in %(crew)s, which waits for the others",
        ) % {"name": name, "crew": crew}
    venture = detail.get("name", "")
    if detail.get("venture") == "withdrawn":
        return pgettext(
            "history detail",
            # Translators: said in a congregation's History; a venture is a shared
            # project that its co-owners confirm together to score points (the
            # proposal's "venture"). %(name)s is the person who left, %(venture)s the
            # venture's name.
            "%(name)s dropped out of the venture %(venture)s, which was withdrawn: "
            "fewer than two co-owners remain",
        ) % {"name": name, "venture": venture}
    if detail.get("venture") == "scored":
        return pgettext(
            "history detail",
            # Translators: said in a congregation's History; a venture is a shared
            # project its co-owners confirm together; it scored its points when this
            # person left.
            "%(name)s dropped out of the venture %(venture)s, which scored: "
            "every co-owner who remains had confirmed",
        ) % {"name": name, "venture": venture}
    if detail.get("venture") == "left":
        return pgettext(
            "history detail",
            # Translators: said in a congregation's History; a venture is a shared
            # project its co-owners confirm together; it goes on without this person.
            "%(name)s dropped out of the venture %(venture)s",
        ) % {"name": name, "venture": venture}
    return ""  # a kind this version does not know: nothing rather than a guess
