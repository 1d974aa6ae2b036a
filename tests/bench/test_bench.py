"""The bench's own parts: the floor view only in the bench's URLconf, pages that are not
built yet reported as missing, and targets judged from the numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from bench import pages
from bench.deductions import Deductions
from bench.report import Report
from bench.throughput import Throughput
from bench.urls import FLOOR_PATH
from bench.world import Shape

from .owner import load_world

BENCH_URLS = "bench.urls"


@pytest.fixture
def members(transactional_db: None) -> list[pages.Sample]:
    load_world(Shape(congregations=1, members=12, months=2), 1, date(2026, 3, 1))
    return pages.samples(1)


def test_the_floor_is_served_only_by_the_bench(members: list[pages.Sample]) -> None:
    with pytest.raises(Resolver404):
        resolve(FLOOR_PATH)
    client = Client()
    client.force_login(members[0].member)
    with override_settings(ROOT_URLCONF=BENCH_URLS):
        response = client.get(FLOOR_PATH)
    assert response.status_code == 200


@override_settings(ROOT_URLCONF=BENCH_URLS)
def test_a_page_not_built_yet_is_missing_and_a_built_one_is_timed(
    members: list[pages.Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "REQUESTS", 3)
    client = Client()
    client.force_login(members[0].member)
    signed_in = [(members[0], client)]
    assert pages.measure("nowhere", "/c/{slug}/nowhere/", signed_in).status == "missing"
    home = pages.measure("congregation home", "/c/{slug}/", signed_in)
    assert home.measured
    assert 0 < home.queries <= 15
    assert home.requests == 3


def page(label: str, median: float, queries: int = 5) -> pages.PageResult:
    return pages.PageResult(label, "/", "ok", 50, queries, median, median * 1.2)


def test_targets_pass_miss_or_are_not_measured() -> None:
    report = Report(
        when=datetime(2026, 3, 1, tzinfo=UTC),
        machine={},
        data={},
        floor=page(pages.FLOOR, 2.0),
        pages=[page("congregation home", 4.0), page("my page", 8.0, queries=16)],
        deductions=Deductions(0.3, 100, 0.1, 100, 0.01, 0),
        throughput=Throughput(20, 30.0, 3000, 0, 100.0, 50.0, 90.0),
    )
    verdicts = {t.name: t.verdict for t in report.targets()}
    assert verdicts == {
        "every page runs ≤ 15 queries": "miss",
        "each page's median ≤ 3× the floor": "miss",
        "crew scores p95 < 100 ms": "not measured",
        "deduction job ≤ 5× its floor": "pass",
        "a second run of the job writes nothing": "pass",
        "zero errors under throughput": "pass",
    }
