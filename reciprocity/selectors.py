"""Read-only queries about the game: scores, breakdowns and histories."""

from __future__ import annotations

from django.db.models import Sum

from congregations.models import Congregation, Self
from crews.models import Crew, CrewMembership

from .models import LedgerEntry


def crew_scores(*, crew: Crew) -> dict[int, int]:
    """{self_id: points earned in this crew} for every current member, 0 included. A
    departed member's entries stay in the ledger and in the crew's total."""
    scores = dict.fromkeys(
        CrewMembership.objects.filter(crew=crew).current().values_list("member_id", flat=True), 0
    )
    earned = (
        LedgerEntry.objects.filter(crew=crew, member_id__in=list(scores))
        .values("member_id")
        .annotate(points=Sum("points"))
        .values_list("member_id", "points")
    )
    scores.update(earned)
    return scores


def member_score(*, self_: Self, congregation: Congregation) -> int:
    """A Self's total in the congregation: every crew's points and level 5's."""
    total = LedgerEntry.objects.filter(member=self_, congregation=congregation).aggregate(
        points=Sum("points")
    )["points"]
    return total or 0
