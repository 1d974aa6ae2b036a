"""The congregation's home and its dating pool."""

from __future__ import annotations

from django.core.cache import caches
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from congregations.models import Congregation
from congregations.roster import roster_version
from microsolidarity.http import CongregationRequest
from microsolidarity.release import RENDERED

from ..selectors import congregation_overview, dating_pool


@require_GET
def congregation_home(request: CongregationRequest) -> HttpResponse:
    overview = congregation_overview(
        congregation=request.congregation, self_=request.user, now=timezone.now()
    )
    context = {"overview": overview, "roster_version": roster_version(request.congregation.pk)}
    return render(request, "crews/congregation.html", context)


@require_GET
def people(request: CongregationRequest) -> HttpResponse:
    """The dating pool: who does what work, so complementary crew-mates can find each other."""
    viewer = request.user.pk
    # Joined here, not in a loop of the template: a couple of hundred cards cost the
    # template more than the rest of the page.
    cards = "".join(
        as_you_see_it if self_id == viewer else as_others_see_it
        for self_id, as_others_see_it, as_you_see_it in pool_cards(request.congregation)
    )
    return render(request, "crews/people.html", {"cards": SafeString(cards)})


Card = tuple[int, SafeString, SafeString]


def pool_cards(congregation: Congregation) -> list[Card]:
    """Each person's card as the others see it and as they see their own, rendered once per
    version of the roster for everyone alike: the page picks the viewer's own, with no
    per-viewer style rule (the Content-Security-Policy allows none inline). They are
    written in the viewer's language, which is part of the key."""

    def render_cards() -> list[Card]:
        cards: list[Card] = []
        for membership in dating_pool(congregation=congregation):
            context = {"membership": membership, "congregation": congregation}
            cards.append(
                (
                    membership.member_id,
                    SafeString(render_to_string("crews/_person.html", context)),
                    SafeString(render_to_string("crews/_person.html", {**context, "mine": True})),
                )
            )
        return cards

    key = f"roster-pool:{congregation.pk}:{roster_version(congregation.pk)}:{get_language()}"
    cards = caches[RENDERED].get_or_set(key, render_cards, None)
    assert cards is not None, "get_or_set stores what render_cards returned"
    return list(cards)
