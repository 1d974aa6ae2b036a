"""Template helpers for the game's pages: points as people read them, the rules in the
proposal's words, and a meeting's rounds for the meeting page."""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import get_language, gettext

from crews.access import is_member
from crews.models import Meeting

from ..models import LedgerEntry
from ..rules import (
    CONSISTENCY_STEPS,
    LEVELS,
    POINTS,
    WHEN_SOMEONE_LEAVES,
    Level,
    Rule,
    consistency_points,
    disputable_until,
    signed,
)
from ..selectors import meeting_rounds_version, recorded_rounds

register = template.Library()

register.filter(signed)


@register.filter
def disputable(entry: LedgerEntry) -> bool:
    """Whether its member may still say they were there: a missed-meeting −5, neither
    reversed nor disputed, within rules.DISPUTE_WITHIN, with a crew-mate who could confirm it
    (selectors.entries tells; the service has the last word)."""
    return (
        entry.rule == Rule.MISSED
        and entry.witnessed  # type: ignore[attr-defined]
        and not hasattr(entry, "reversed_by")
        and not hasattr(entry, "dispute")
        and timezone.now() <= disputable_until(entry.recorded_at)
    )


@register.simple_tag
def game_rules() -> str:
    """Every rule with its points, numbers from reciprocity.rules, grouped by level, and
    what happens when someone leaves: the same card for everyone reading a language,
    rendered once per language and process (the rules change only with the code)."""
    return _rules_card(get_language())


@functools.cache
def _rules_card(language: str) -> str:
    attended = " / ".join(signed(consistency_points(n)) for n in CONSISTENCY_STEPS)
    # Translators: What earns level 3's points: meeting with one's crew (a small group of
    # 3–8 people who meet about once a month); the points read like "+1 / +2 / +3".
    met = gettext("met with their crew: the first, second, each later time")
    rows = [(Level.CONSISTENCY, attended, met)]
    rows += [(LEVELS[rule], signed(points), str(rule.label)) for rule, points in POINTS.items()]
    return render_to_string(
        "reciprocity/_rules.html",
        {"rules": sorted(rows, key=lambda row: row[0]), "leaving": gettext(WHEN_SOMEONE_LEAVES)},
    )


@register.inclusion_tag("reciprocity/_meeting_rounds.html", takes_context=True)
def meeting_game(context: template.Context, meeting: Meeting) -> dict[str, Any]:
    """The rounds recorded at a meeting, for the crew's members only: a page that let in
    only them (crews.access.meeting_for_member) says so with ``crew_member``. They are
    read only where the crew's shared copy of them is out of date (``version``): the
    template calls ``rounds`` then."""
    member = context.get("crew_member") or is_member(meeting.crew, context["request"].user)
    return {
        "request": context["request"],
        "meeting": meeting,
        "member": member,
        "version": meeting_rounds_version(meeting=meeting) if member else "",
        "language": get_language(),
        "rounds": functools.partial(recorded_rounds, meeting=meeting),
    }
