"""The bench's own parts: the floor view only in the bench's URLconf, pages that are not
built yet reported as missing, and targets judged from the numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import Resolver404, resolve

from bench import deductions, jobs, pages
from bench.deductions import Deductions, Run
from bench.jobs import LEDGER, IdleJob
from bench.report import Grown, Report
from bench.throughput import Throughput
from bench.urls import FLOOR_PATH
from bench.world import Shape
from congregations.models import Congregation
from congregations.tenancy import across_congregations, tenant
from crews.models import Meeting, MeetingStatus
from microsolidarity.schedule import PERIODIC_TASKS

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
    # The meeting page is its crew's latest logged meeting, one the member may open.
    (meeting,) = (path for label, path in pages.PAGES if label == "meeting page")
    assert members[0].meeting is not None
    with tenant(Congregation.objects.get(slug=members[0].slug)):
        latest = Meeting.objects.filter(crew_id=members[0].crew, status=MeetingStatus.LOGGED)
        assert members[0].meeting == latest.latest("starts_at").pk
    timed = pages.measure("meeting page", meeting, signed_in)
    assert timed.measured
    assert 0 < timed.queries <= 15


def page(label: str, median: float, queries: int = 5) -> pages.PageResult:
    return pages.PageResult(label, "/", "ok", 50, queries, median, median * 1.2)


def test_targets_pass_miss_or_are_not_measured() -> None:
    report = Report(
        when=datetime(2026, 3, 1, tzinfo=UTC),
        machine={},
        data={},
        floor=page(pages.FLOOR, 2.0),
        pages=[page("congregation home", 4.0), page("my page", 9.0, queries=16)],
        deductions=Deductions(0.3, 100, 0.1, 100, 0.01, 0),
        throughput=Throughput(20, 30.0, 3000, 0, 100.0, 50.0, 90.0),
    )
    verdicts = {t.name: t.verdict for t in report.targets()}
    assert verdicts == {
        "every page runs ≤ 15 queries": "miss",
        "each page's median ≤ 4× the floor, CSV ≤ 3×": "miss",
        "crew scores p95 < 100 ms": "not measured",
        "deduction job ≤ 4× its floor": "pass",
        "a second run of the job writes nothing": "pass",
        "zero errors under throughput": "pass",
        "each idle periodic job ≤ 1 s, no ledger scan": "not measured",
        "pages on 4× data ≤ 1.25× on 1× (against each run's floor)": "not measured",
        "job's time per meeting on 4× data ≤ 1.25× on 1×": "not measured",
    }


def test_the_csv_is_held_nearer_the_floor_than_a_page() -> None:
    def slow(csv_ms: float) -> str:
        report = Report(
            when=datetime(2026, 3, 1, tzinfo=UTC),
            machine={},
            data={},
            floor=page(pages.FLOOR, 2.0),
            pages=[page("congregation home", 7.9), page("crew ledger CSV", csv_ms)],
            deductions=Deductions(0.3, 100, 0.1, 100, 0.01, 0),
            throughput=None,
        )
        (target,) = (t for t in report.targets() if t.name.startswith("each page's median"))
        return f"{target.verdict}: {target.detail}"

    assert slow(5.9) == "pass: at most 4.0×"
    assert slow(6.2) == "miss: crew ledger CSV 3.1×"


PAGES_GROWTH = "pages on 4× data ≤ 1.25× on 1× (against each run's floor)"


def grown_report(
    home_ms: float, run_seconds: float, grown_floor_ms: float = 2.0, month_seconds: float = 1.2
) -> Report:
    return Report(
        when=datetime(2026, 3, 1, tzinfo=UTC),
        machine={"shared_buffers": "128MB", "max_wal_size": "1GB"},
        data={},
        floor=page(pages.FLOOR, 2.0),
        pages=[page("congregation home", 4.0), page("my page", 6.0)],
        deductions=Deductions(
            0.3,
            100,
            0.1,
            100,
            0.01,
            0,
            meetings=50,
            wal_bytes=50 * 40 * 1024,
            a_run=Run(0.2, 20, 20 * 22 * 1024),
        ),
        throughput=None,
        grown=Grown(
            data={},
            floor=page(pages.FLOOR, grown_floor_ms),
            pages=[
                page("congregation home", home_ms),
                page("my page", 6.6 * grown_floor_ms / 2.0),
            ],
            # A month of four times the meetings in one run, and a run of production's
            # size: the same 20 meetings.
            deductions=Deductions(
                month_seconds,
                400,
                0.4,
                400,
                0.02,
                0,
                meetings=200,
                checkpoints=3,
                wal_bytes=200 * 41 * 1024,
                a_run=Run(run_seconds, 20, 20 * 23 * 1024),
            ),
        ),
    )


JOB_GROWTH = "job's time per meeting on 4× data ≤ 1.25× on 1×"


def test_growth_is_judged_per_page_and_per_meeting_of_runs_of_one_size() -> None:
    def judged(home_ms: float, run_seconds: float, month_seconds: float) -> dict[str, str]:
        report = grown_report(home_ms, run_seconds, month_seconds=month_seconds)
        return {t.name: f"{t.verdict}: {t.detail}" for t in report.targets() if "4× data" in t.name}

    # The month at once grew 2× a meeting; the runs of one size, judged, did not.
    assert judged(4.8, 0.24, 2.4) == {
        PAGES_GROWTH: "pass: at most 1.20×",
        JOB_GROWTH: (
            "pass: 1.20× (runs of 20 meetings, each after a checkpoint: 10.00 ms, then "
            "12.00 ms a meeting; WAL a meeting 22 KB, then 23 KB. A month at once, 50 then "
            "200 meetings: 2.00×, 6.00 then 12.00 ms a meeting, WAL 40 then 41 KB, "
            "checkpoints forced 0 then 3, with shared_buffers 128MB and max_wal_size 1GB)"
        ),
    }
    # And the other way about.
    verdict = judged(5.2, 0.4, 1.2)
    assert verdict[PAGES_GROWTH] == "miss: congregation home 1.30×"
    assert verdict[JOB_GROWTH].startswith("miss: 2.00× (runs of 20 meetings")
    assert "A month at once, 50 then 200 meetings: 1.00×" in verdict[JOB_GROWTH]


def test_job_growth_is_not_measured_without_the_grown_data() -> None:
    report = grown_report(4.0, 0.2)
    report = replace(report, grown=None)
    (target,) = (t for t in report.targets() if t.name == JOB_GROWTH)
    assert (target.verdict, target.detail) == (
        "not measured",
        "not loaded: `python -m bench seed --grown`",
    )


def test_job_growth_is_not_measured_where_no_meeting_was_due() -> None:
    # A bench database whose month someone settled: no run timed anything, and 0 ms a
    # meeting must not read as flat.
    report = grown_report(4.0, 0.2)
    assert report.grown is not None
    settled = replace(report.grown.deductions, a_run=Run(0.01, 0, 0))
    report = replace(report, grown=replace(report.grown, deductions=settled))
    (target,) = (t for t in report.targets() if t.name == JOB_GROWTH)
    assert (target.verdict, target.detail) == (
        "not measured",
        "no meetings due: reload with `python -m bench seed --fresh` (and `--grown --fresh`)",
    )


def test_a_checkpoint_asked_as_someone_not_a_superuser_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        deductions, "SUPERUSER_URL", "postgres://microsolidarity_app@127.0.0.1:5432/postgres"
    )
    with pytest.raises(CommandError, match="set POSTGRES_SUPERUSER_URL to one"):
        deductions.checkpoint()


def test_a_page_is_judged_against_the_floor_timed_with_it() -> None:
    def verdict(home_ms: float, grown_floor_ms: float) -> str:
        report = grown_report(home_ms, 1.2, grown_floor_ms)
        (target,) = (t for t in report.targets() if t.name == PAGES_GROWTH)
        return f"{target.verdict}: {target.detail}"

    # The machine twice as slow while the grown data was timed: the floor took twice as
    # long too, and a page that did no more than it is flat.
    assert verdict(8.0, 4.0) == "pass: at most 1.10×"
    # Twice as fast: the same 4.8 ms is then a page that grew with the data.
    assert verdict(4.8, 1.0) == "miss: congregation home 2.40×"


def test_idle_jobs_pass_within_a_second_and_without_a_scan_of_the_ledger() -> None:
    def judged(*jobs: IdleJob) -> tuple[str, str]:
        report = Report(
            when=datetime(2026, 3, 1, tzinfo=UTC),
            machine={},
            data={},
            floor=page(pages.FLOOR, 2.0),
            pages=[page("congregation home", 4.0)],
            deductions=Deductions(0.3, 100, 0.1, 100, 0.01, 0),
            throughput=None,
            idle_jobs=list(jobs),
        )
        (target,) = (t for t in report.targets() if t.name.startswith("each idle"))
        return target.verdict, target.detail

    quick = IdleJob("heartbeat", 0.002, 4)
    assert judged(quick) == ("pass", "at most 2 ms (heartbeat)")
    assert judged(quick, IdleJob("nudge_quiet_crews", 1.5, 9000)) == (
        "miss",
        "nudge_quiet_crews 1.5 s",
    )
    scanning = IdleJob("expire_open_conflicts", 0.4, 3, {LEDGER: 4_800_000})
    assert judged(quick, scanning) == ("miss", "expire_open_conflicts scans the ledger")


def test_each_periodic_job_is_measured_once_caught_up(members: list[pages.Sample]) -> None:
    measured = jobs.measure()

    assert [j.name for j in measured] == list(PERIODIC_TASKS)
    # Caught up first, the run measured has nothing left to do.
    assert all(j.did == 0 for j in measured), [(j.name, j.did) for j in measured]
    # The small world's unsettled month was the deduction job's to catch up on.
    (deductions,) = (j for j in measured if j.name == "apply_missed_meeting_deductions")
    assert deductions.catch_up_runs >= 1
    # All of it rolled back: the bench's data stays for the next run.
    with across_congregations():
        assert Meeting.objects.filter(deductions_applied_at__isnull=True).exists()
