"""The main pages, timed through Django's test client as real members, against the
framework floor."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, replace
from typing import Any

from django.db import connection
from django.db.models import Count, Q
from django.http import HttpResponseBase
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews.models import Crew, CrewMembership, Kind, Meeting, MeetingStatus

from .urls import FLOOR_PATH

# (label, path): {slug} is the member's congregation, {crew} a crew they are in, {meeting}
# that crew's latest logged meeting. Pages not built yet resolve to nothing and are
# reported as missing.
PAGES = [
    ("congregation home", "/c/{slug}/"),
    ("dating pool", "/c/{slug}/people/"),
    ("crew page", "/c/{slug}/crews/{crew}/"),
    ("meeting history", "/c/{slug}/crews/{crew}/meetings/"),
    ("crew scores", "/c/{slug}/crews/{crew}/scores/"),
    ("meeting page", "/c/{slug}/meetings/{meeting}/"),
    ("my page", "/c/{slug}/me/"),
    ("crew ledger CSV", "/c/{slug}/crews/{crew}/entries.csv"),
]
FLOOR = "framework floor"
# Each page's requests, taken in rounds with the others' (measure_together).
REQUESTS = 100


@dataclass(frozen=True)
class Sample:
    """A member signed in to their own congregation, the fullest crew they are in, and its
    latest logged meeting (its rounds and attendance the most a meeting page shows)."""

    slug: str
    crew: int
    member: Self
    meeting: int | None = None

    def path(self, template: str) -> str:
        return template.format(slug=self.slug, crew=self.crew, meeting=self.meeting)


@dataclass(frozen=True)
class PageResult:
    label: str
    path: str
    status: str  # "ok", "missing", or what went wrong
    requests: int = 0
    queries: int = 0
    median_ms: float = 0.0
    p95_ms: float = 0.0

    @property
    def measured(self) -> bool:
        return self.status == "ok"


def samples(count: int) -> list[Sample]:
    """Members of ``count`` congregations spread over the data, each in their congregation's
    fullest crew: the most rows behind a page. Each is found behind its congregation's
    walls, as the app would find it."""
    ids = list(Congregation.objects.order_by("pk").values_list("pk", flat=True))
    chosen = [ids[i * len(ids) // count] for i in range(min(count, len(ids)))]
    found = []
    for congregation in Congregation.objects.filter(pk__in=chosen).order_by("pk"):
        with tenant(congregation):
            crew = (
                Crew.objects.filter(congregation=congregation, kind=Kind.CREW)
                .annotate(size=Count("memberships", filter=Q(memberships__left_at__isnull=True)))
                .order_by("-size", "pk")
                .first()
            )
            if crew is None:
                continue
            seat = (
                CrewMembership.objects.current()
                .filter(crew=crew)
                .select_related("member")
                .order_by("pk")
                .first()
            )
            meeting = (
                Meeting.objects.filter(crew=crew, status=MeetingStatus.LOGGED)
                .order_by("-starts_at")
                .values_list("pk", flat=True)
                .first()
            )
        if seat is not None:
            found.append(Sample(congregation.slug, crew.pk, seat.member, meeting))
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _get(client: Client, path: str) -> HttpResponseBase:
    response: Any = client.get(path)
    # A streamed export is only produced as it is read: reading it is part of serving it.
    if response.streaming:
        b"".join(response.streaming_content)
    return response


def measure(label: str, template: str, members: list[tuple[Sample, Client]]) -> PageResult:
    """One page on its own (measure_together)."""
    (result,) = measure_together([(label, template)], members)
    return result


def measure_together(
    labelled: list[tuple[str, str]], members: list[tuple[Sample, Client]]
) -> list[PageResult]:
    """Each (label, path template)'s median and p95 over REQUESTS requests, taking the
    members in turn, after one request of each member (which also counts the most queries
    any of them ran). The pages are timed in the same rounds, each round asking each page
    once: a shared machine that slows down or speeds up meanwhile weighs on every page
    alike, the floor included, so that their ratios hold where their times would not."""
    results: dict[str, PageResult] = {}
    timed: dict[str, list[float]] = {}
    for label, template in labelled:
        try:
            resolve(members[0][0].path(template))
        except Resolver404:
            results[label] = PageResult(label, template, "missing")
            continue
        queries = 0
        for sample, client in members:
            with CaptureQueriesContext(connection) as captured:
                response = _get(client, sample.path(template))
            if response.status_code != 200:
                status = f"HTTP {response.status_code} for {sample.member}"
                results[label] = PageResult(label, template, status)
                break
            queries = max(queries, len(captured))
        else:
            results[label] = PageResult(label, template, "ok", REQUESTS, queries)
            timed[label] = []
    templates = dict(labelled)
    for n in range(REQUESTS):
        sample, client = members[n % len(members)]
        for label, timings in timed.items():
            started = time.perf_counter()
            _get(client, sample.path(templates[label]))
            timings.append((time.perf_counter() - started) * 1000)
    for label, timings in timed.items():
        results[label] = replace(
            results[label],
            median_ms=statistics.median(timings),
            p95_ms=percentile(timings, 0.95),
        )
    return [results[label] for label, _ in labelled]


def measure_all(members: list[Sample]) -> tuple[PageResult, list[PageResult]]:
    """The floor and every page, each client signed in once as its member."""
    clients = []
    for sample in members:
        client = Client()
        client.force_login(sample.member)
        clients.append((sample, client))
    try:
        floor, *pages = measure_together([(FLOOR, FLOOR_PATH), *PAGES], clients)
    finally:
        for _, client in clients:
            client.logout()
    return floor, pages
