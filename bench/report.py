"""The bench's verdict: the targets from issues 7 and 20, a table for people and JSON for
tools."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import django
from django.db import connection

from .database import GROWTH
from .deductions import Deductions
from .jobs import IdleJob
from .pages import FLOOR as FLOOR_LABEL
from .pages import PageResult
from .throughput import Throughput

MAX_QUERIES = 15
MAX_FLOOR_RATIO = 4.0
# PostgreSQL writes the CSV itself (reciprocity.copy): nearer the floor than a page.
CSV = "crew ledger CSV"
MAX_CSV_FLOOR_RATIO = 3.0
CREW_SCORES_P95_MS = 100.0
MAX_JOB_RATIO = 4.0
IDLE_JOB_SECONDS = 1.0
# On four times the data, a page's median and the job's time per meeting it settles may
# grow this much at most: their cost follows what they show and settle, not the tables.
MAX_GROWTH = 1.25


@dataclass(frozen=True)
class Target:
    name: str
    verdict: str  # "pass", "miss" or "not measured"
    detail: str


def target_lines(targets: list[Target]) -> list[str]:
    """Each target judged, one a line, under a heading."""
    return [
        "",
        f"{'target':<44} {'result':<13} detail",
        *(f"{t.name:<44} {t.verdict:<13} {t.detail}" for t in targets),
    ]


@dataclass(frozen=True)
class Grown:
    """The floor, the pages and the deduction job on the data set four times larger."""

    data: dict[str, int]
    floor: PageResult
    pages: list[PageResult]
    deductions: Deductions


@dataclass
class Report:
    when: datetime
    machine: dict[str, Any]
    data: dict[str, int]
    floor: PageResult
    pages: list[PageResult]
    deductions: Deductions
    throughput: Throughput | None
    idle_jobs: list[IdleJob] | None = None
    grown: Grown | None = None

    def ratio(self, page: PageResult) -> float:
        return page.median_ms / self.floor.median_ms

    def growth(self) -> list[tuple[PageResult, PageResult]]:
        """Each page measured on both data sets, as (1×, grown)."""
        if self.grown is None:
            return []
        grown = {p.label: p for p in self.grown.pages if p.measured}
        return [(p, grown[p.label]) for p in self.pages if p.measured and p.label in grown]

    def grew(self, small: PageResult, big: PageResult) -> float:
        """How many times a page's cost on 1× data its cost on the grown data is, each
        against the floor timed with it: the floor does the same on any data, so what it
        moved by between the two runs is the machine's (a shared one slows down and speeds
        up by up to 2×), not the data's."""
        assert self.grown is not None
        return (big.median_ms / self.grown.floor.median_ms) / self.ratio(small)

    def targets(self) -> list[Target]:
        measured = [p for p in self.pages if p.measured]
        missing = [p.label for p in self.pages if not p.measured]
        unmeasured = f"; not measured: {', '.join(missing)}" if missing else ""
        heavy = [f"{p.label} {p.queries}" for p in measured if p.queries > MAX_QUERIES]
        slow = [
            f"{p.label} {self.ratio(p):.1f}×"
            for p in measured
            if self.ratio(p) > (MAX_CSV_FLOOR_RATIO if p.label == CSV else MAX_FLOOR_RATIO)
        ]
        scores = next((p for p in measured if p.label == "crew scores"), None)
        job, tp = self.deductions, self.throughput
        targets = [
            _target(
                f"every page runs ≤ {MAX_QUERIES} queries",
                measured,
                not heavy,
                (", ".join(heavy) or f"at most {max((p.queries for p in measured), default=0)}")
                + unmeasured,
            ),
            _target(
                f"each page's median ≤ {MAX_FLOOR_RATIO:g}× the floor, CSV ≤ "
                f"{MAX_CSV_FLOOR_RATIO:g}×",
                measured,
                not slow,
                (", ".join(slow) or f"at most {max(map(self.ratio, measured), default=0):.1f}×")
                + unmeasured,
            ),
            _target(
                f"crew scores p95 < {CREW_SCORES_P95_MS:g} ms",
                scores,
                scores is not None and scores.p95_ms < CREW_SCORES_P95_MS,
                f"{scores.p95_ms:.1f} ms" if scores else "the page is missing",
            ),
            _target(
                f"deduction job ≤ {MAX_JOB_RATIO:g}× its floor",
                True,
                job.ratio <= MAX_JOB_RATIO and job.same_count,
                f"{job.ratio:.1f}×, {job.job_written:,} entries"
                + ("" if job.same_count else f" but the floor found {job.floor_rows:,}"),
            ),
            _target(
                "a second run of the job writes nothing",
                True,
                job.second_run_written == 0,
                f"wrote {job.second_run_written}",
            ),
            _target(
                "zero errors under throughput",
                tp,
                tp is not None and tp.errors == 0,
                f"{tp.errors} errors in {tp.requests:,} requests" if tp else "not run",
            ),
            _idle_target(self.idle_jobs),
            *self._growth_targets(),
        ]
        return targets

    def _growth_targets(self) -> list[Target]:
        pairs = self.growth()
        grew = [
            f"{small.label} {self.grew(small, big):.2f}×"
            for small, big in pairs
            if self.grew(small, big) > MAX_GROWTH
        ]
        most = max((self.grew(small, big) for small, big in pairs), default=0)
        return [
            _target(
                f"pages on {GROWTH}× data ≤ {MAX_GROWTH:g}× on 1× (against each run's floor)",
                pairs,
                not grew,
                ", ".join(grew) or f"at most {most:.2f}×",
            ),
            self._job_growth_target(),
        ]

    def _job_growth_target(self) -> Target:
        """Judged on runs of production's size, the same number of meetings on either data:
        what grows then is what the ledger's size costs. A whole month at once is printed
        beside them: four times the meetings in one run write four times the WAL, which
        passes max_wal_size on a server with the defaults and forces checkpoints, a cost
        of the run's size, not of the data's."""
        name = f"job's time per meeting on {GROWTH}× data ≤ {MAX_GROWTH:g}× on 1×"
        job = self.deductions
        grown = self.grown.deductions if self.grown else None
        if grown is None or job.a_run is None or grown.a_run is None:
            return _target(name, None, False, "not loaded: `python -m bench seed --grown`")
        small, big = job.a_run, grown.a_run
        if not small.meetings or not big.meetings:
            # Nothing settled is nothing timed: a bench database whose month was settled.
            return _target(
                name,
                None,
                False,
                (
                    "no meetings due: reload with `python -m bench seed --fresh` (and "
                    "`--grown --fresh`)"
                ),
            )
        growth = big.ms_per_meeting / small.ms_per_meeting
        once, grown_once = job.month, grown.month
        month = grown_once.ms_per_meeting / once.ms_per_meeting if once.ms_per_meeting else 0
        return _target(
            name,
            grown,
            growth <= MAX_GROWTH,
            f"{growth:.2f}× (runs of {big.meetings:,} meetings, each after a checkpoint: "
            f"{small.ms_per_meeting:.2f} ms, then {big.ms_per_meeting:.2f} ms a meeting; WAL "
            f"a meeting {small.wal_kb_per_meeting:.0f} KB, then {big.wal_kb_per_meeting:.0f} "
            f"KB. A month at once, {job.meetings:,} then {grown.meetings:,} meetings: "
            f"{month:.2f}×, {once.ms_per_meeting:.2f} then {grown_once.ms_per_meeting:.2f} ms "
            f"a meeting, WAL {once.wal_kb_per_meeting:.0f} then "
            f"{grown_once.wal_kb_per_meeting:.0f} KB, checkpoints forced {job.checkpoints} then "
            f"{grown.checkpoints}, with "
            f"shared_buffers {self.machine.get('shared_buffers', '?')} and max_wal_size "
            f"{self.machine.get('max_wal_size', '?')})",
        )

    def table(self) -> str:
        data = self.data
        lines = [
            f"Microsolidarity scale bench, {self.when:%Y-%m-%d %H:%M} UTC",
            f"machine: {self.machine['cpus']} CPUs, {self.machine['memory_gb']} GB RAM, "
            f"PostgreSQL {self.machine['postgresql']} (shared_buffers "
            f"{self.machine.get('shared_buffers', '?')}, max_wal_size "
            f"{self.machine.get('max_wal_size', '?')}, autovacuum "
            f"{self.machine.get('autovacuum', '?')}), Python {self.machine['python']}, "
            f"Django {self.machine['django']}",
            f"data: {data['congregations_congregation']:,} congregations, "
            f"{data['congregations_self']:,} Selves, {data['crews_crew']:,} crews and dyads, "
            f"{data['crews_meeting']:,} meetings, "
            f"{data['reciprocity_ledgerentry']:,} ledger entries",
            "",
            f"{'page':<20} {'queries':>7} {'median ms':>10} {'p95 ms':>8} {'× floor':>8}",
        ]
        for page in [self.floor, *self.pages]:
            if page.measured:
                lines.append(
                    f"{page.label:<20} {page.queries:>7} {page.median_ms:>10.1f} "
                    f"{page.p95_ms:>8.1f} {self.ratio(page):>8.1f}"
                )
            else:
                lines.append(f"{page.label:<20} {'':>7} {'':>10} {'':>8} {'':>8}  {page.status}")
        job = self.deductions
        lines += [
            "",
            f"missed-meeting job: {job.job_written:,} entries in {job.job_seconds * 1000:.0f} ms; "
            f"its floor, one SQL statement: {job.floor_rows:,} rows in "
            f"{job.floor_seconds * 1000:.0f} ms; {job.ratio:.1f}× the floor; "
            f"a second run wrote {job.second_run_written} in "
            f"{job.second_run_seconds * 1000:.0f} ms",
        ]
        if tp := self.throughput:
            lines.append(
                f"throughput: {tp.clients} signed-in clients for {tp.seconds:g} s on gunicorn "
                f"with 2 workers: {tp.requests_per_second:.0f} requests/s, median "
                f"{tp.median_ms:.0f} ms, p95 {tp.p95_ms:.0f} ms, {tp.errors} errors "
                f"in {tp.requests:,} requests"
            )
        if self.idle_jobs:
            lines += ["", f"{'periodic job, nothing to do':<32} {'ms':>8} {'queries':>7}  scans"]
            lines += [
                f"{j.name:<32} {j.seconds * 1000:>8.0f} {j.queries:>7}  "
                + (", ".join(f"{t} ({n:,} rows)" for t, n in j.scans.items()) or "none")
                for j in self.idle_jobs
            ]
        lines += self._growth_lines()
        return "\n".join([*lines, *target_lines(self.targets())])

    def _growth_lines(self) -> list[str]:
        if self.grown is None:
            return []
        data, job = self.grown.data, self.grown.deductions
        return [
            "",
            f"{GROWTH}× data: {data['congregations_congregation']:,} congregations, "
            f"{data['congregations_self']:,} Selves, {data['crews_meeting']:,} meetings, "
            f"{data['reciprocity_ledgerentry']:,} ledger entries",
            # Growth against each run's floor; the floor's line is what the machine moved by.
            f"{'page':<20} {'1× ms':>8} {f'{GROWTH}× ms':>8} {'growth':>7} {'queries':>7}",
            f"{FLOOR_LABEL:<20} {self.floor.median_ms:>8.1f} {self.grown.floor.median_ms:>8.1f} "
            f"{'':>7}",
            *(
                f"{small.label:<20} {small.median_ms:>8.1f} {big.median_ms:>8.1f} "
                f"{self.grew(small, big):>7.2f} {big.queries:>7}"
                for small, big in self.growth()
            ),
            f"missed-meeting job: {self.deductions.meetings:,} meetings in "
            f"{self.deductions.job_seconds * 1000:.0f} ms on 1×, {job.meetings:,} in "
            f"{job.job_seconds * 1000:.0f} ms on {GROWTH}× ({job.ratio:.1f}× its floor)",
            *self._run_line(),
        ]

    def _run_line(self) -> list[str]:
        small = self.deductions.a_run
        big = self.grown.deductions.a_run if self.grown else None
        if small is None or big is None:
            return []
        return [
            f"a run of production's size, after a checkpoint: {small.meetings:,} meetings in "
            f"{small.seconds * 1000:.0f} ms on 1×, {big.meetings:,} in "
            f"{big.seconds * 1000:.0f} ms on {GROWTH}×"
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "when": self.when.isoformat(),
            "machine": self.machine,
            "data": self.data,
            "floor": asdict(self.floor),
            "pages": [
                {**asdict(p), "floor_ratio": self.ratio(p) if p.measured else None}
                for p in self.pages
            ],
            "deductions": {**asdict(self.deductions), "ratio": self.deductions.ratio},
            "throughput": asdict(self.throughput) if self.throughput else None,
            "idle_jobs": [
                {
                    **asdict(j),
                    "scans_ledger": j.scans_ledger,
                    "pass": j.seconds <= IDLE_JOB_SECONDS and not j.scans_ledger,
                }
                for j in self.idle_jobs or []
            ]
            or None,
            "grown": {
                "data": self.grown.data,
                "floor": asdict(self.grown.floor),
                "pages": [asdict(p) for p in self.grown.pages],
                "growth": {small.label: self.grew(small, big) for small, big in self.growth()},
                "deductions": {
                    **asdict(self.grown.deductions),
                    "ratio": self.grown.deductions.ratio,
                },
            }
            if self.grown
            else None,
            "targets": [asdict(t) for t in self.targets()],
        }

    def write(self, folder: Path) -> Path:
        return write_json(folder, "bench", self.when, self.as_json())


def write_json(folder: Path, kind: str, when: datetime, data: dict[str, Any]) -> Path:
    """A report's JSON under ``folder``, named by its kind and when it was taken."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{kind}-{when:%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path


def _idle_target(jobs: list[IdleJob] | None) -> Target:
    """Each periodic job with nothing to do within a second, and none reading the ledger
    whole (issue 20)."""
    jobs = jobs or []
    late = [f"{j.name} {j.seconds:.1f} s" for j in jobs if j.seconds > IDLE_JOB_SECONDS]
    scanning = [f"{j.name} scans the ledger" for j in jobs if j.scans_ledger]
    slowest = max(jobs, key=lambda j: j.seconds, default=None)
    return _target(
        f"each idle periodic job ≤ {IDLE_JOB_SECONDS:g} s, no ledger scan",
        jobs,
        not late and not scanning,
        ", ".join(late + scanning)
        or (f"at most {slowest.seconds * 1000:.0f} ms ({slowest.name})" if slowest else ""),
    )


def _target(name: str, measured: Any, passed: bool, detail: str) -> Target:
    verdict = "not measured" if not measured else "pass" if passed else "miss"
    return Target(name, verdict, detail)


def machine() -> dict[str, Any]:
    """Where the numbers came from."""
    memory_kb = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        memory_kb = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgresql = cursor.fetchone()[0].split()[0]
        # What the job's writes and the grown data's reads depend on most.
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
        cursor.execute("SHOW autovacuum")
        autovacuum = cursor.fetchone()[0]
        cursor.execute("SHOW max_wal_size")
        max_wal_size = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024),
        "cpu": platform.processor() or platform.machine(),
        "postgresql": postgresql,
        "shared_buffers": shared_buffers,
        "autovacuum": autovacuum,
        "max_wal_size": max_wal_size,
        "python": platform.python_version(),
        "django": django.get_version(),
    }
