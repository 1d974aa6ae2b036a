"""The load run's verdict (issue 20): per action count, throughput, p50/p95/p99 and errors,
the total requests a second beside the floor's, the curve over web processes and each
gunicorn worker's memory, judged against the targets; a table for people, JSON for tools."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .mix import ActionResult
from .report import Target, target_lines, write_json

P95_MS = 250.0
RSS_MB = 200.0
# Issue 20's first mixed run, made by hand on 2 cores: 43.7 requests/s, the floor view
# 62–127 on the same setup, "the app using three quarters of" the cores (locust, on the
# same machine, the rest). The same mix should now do twice as much per core.
FIRST_RUN_PER_CORE = 43.7 / 2
FIRST_RUN_PER_USED_CORE = 43.7 / (2 * 0.75)
GAIN_PER_CORE = 2.0


@dataclass
class LoadRun:
    processes: int
    seconds: float
    signed_in: int
    sign_in: ActionResult
    actions: list[ActionResult]
    floor: ActionResult
    worker_rss_mb: list[float]
    # Each write kind: successes the swarm saw, and what the database holds afterwards.
    verified: dict[str, dict[str, int]] = field(default_factory=dict)
    # How long the periodic jobs took to catch up on the copy before the servers started.
    catch_up_seconds: float = 0.0
    # CPU-seconds the machine spent on all but the load generator while the mix, then the
    # floor, was counted (0: not measured).
    served_cpu_seconds: float = 0.0
    floor_served_cpu_seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(a.count for a in self.actions)

    @property
    def errors(self) -> int:
        return sum(a.errors for a in self.actions)

    @property
    def per_second(self) -> float:
        return _per(self.requests, self.seconds)

    @property
    def per_used_core(self) -> float:
        """Requests served per CPU-second the servers used: requests a second per core
        kept busy, whatever share of the machine the load generator took."""
        return _per(self.requests, self.served_cpu_seconds)

    @property
    def floor_per_used_core(self) -> float:
        return _per(self.floor.count, self.floor_served_cpu_seconds)

    @property
    def unconfirmed(self) -> list[str]:
        """Writes the swarm counted as done that the database does not hold. It may hold
        more: a write still in flight when the run stopped counting is done, not counted."""
        return [k for k, v in self.verified.items() if v["stored"] < v["answered"]]


def _per(count: int, seconds: float) -> float:
    """``count`` a second, or 0 where nothing was measured."""
    return count / seconds if seconds else 0.0


@dataclass
class LoadReport:
    when: datetime
    users: int
    seconds: float
    runs: list[LoadRun]
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    def per_core(self) -> Target:
        """Requests a second per core, against the first run's, with the floor's on the
        same servers beside it. Where the run measured the CPU the servers used, per core
        they kept busy (the first run's app used three quarters of its two cores, the load
        generator the rest), from the most efficient run; else per core of this machine,
        from the fastest run."""
        name = f"throughput per core ≥ {GAIN_PER_CORE:g}× the first run's"
        measured = [r for r in self.runs if r.served_cpu_seconds]
        if measured:
            best = max(measured, key=lambda r: r.per_used_core)
            mine = best.per_used_core
            return Target(
                name,
                "pass" if mine >= GAIN_PER_CORE * FIRST_RUN_PER_USED_CORE else "miss",
                f"{mine:.1f} requests a CPU-second the servers used ({best.processes}p; "
                f"the first run {FIRST_RUN_PER_USED_CORE:.1f}); the floor "
                f"{best.floor_per_used_core:.1f}; per core of the machine "
                f"{best.per_second / self.cores:.1f} (the first run {FIRST_RUN_PER_CORE:.1f})",
            )
        best = max(self.runs, key=lambda r: r.per_second)
        mine = best.per_second / self.cores
        return Target(
            name,
            "pass" if mine >= GAIN_PER_CORE * FIRST_RUN_PER_CORE else "miss",
            f"{mine:.1f} requests/s a core ({best.processes}p; the first run "
            f"{FIRST_RUN_PER_CORE:.1f}); the floor {best.floor.per_second / self.cores:.1f}",
        )

    def serving(self) -> list[LoadRun]:
        """The runs with a web process for every core (or with the most processes run):
        the setups one would serve with. A run with fewer processes than cores, at a load
        that must saturate it for throughput to be seen growing with processes, is the
        curve's saturated end: its members queue by design, so its p95 is reported, not
        held to the target."""
        most = max(r.processes for r in self.runs)
        return [r for r in self.runs if r.processes >= min(self.cores, most)]

    def targets(self) -> list[Target]:
        runs = self.runs
        if not runs:
            return [Target("load run", "not measured", "no run")]
        errors = [
            f"{r.processes}p: {r.errors} errors, {r.sign_in.errors} failed sign-ins"
            + (f", not in the database: {', '.join(r.unconfirmed)}" if r.unconfirmed else "")
            for r in runs
            if r.errors or r.sign_in.errors or r.unconfirmed
        ]
        serving = self.serving()
        slow = [
            f"{r.processes}p {a.name} {a.p95_ms:.0f} ms"
            for r in serving
            for a in r.actions
            if a.count and a.p95_ms >= P95_MS
        ]
        saturated = [
            f"{r.processes}p, saturated: {max(a.p95_ms for a in r.actions):.0f} ms"
            for r in runs
            if r not in serving and r.actions
        ]
        by_processes = {r.processes: r.per_second for r in runs}
        heavy = [
            f"{r.processes}p {mb:.0f} MB" for r in runs for mb in r.worker_rss_mb if mb > RSS_MB
        ]
        most = max((mb for r in runs for mb in r.worker_rss_mb), default=0.0)
        growth = (
            Target(
                "throughput grows from 1 to 2 processes",
                "pass" if by_processes[2] > by_processes[1] else "miss",
                f"{by_processes[1]:.1f} → {by_processes[2]:.1f} requests/s",
            )
            if 1 in by_processes and 2 in by_processes
            else Target("throughput grows from 1 to 2 processes", "not measured", "run 1 and 2")
        )
        return [
            Target(
                "0 errors under load",
                "miss" if errors else "pass",
                ", ".join(errors) or f"0 in {sum(r.requests for r in runs):,} requests",
            ),
            Target(
                f"p95 of every action < {P95_MS:g} ms",
                "miss" if slow else "pass",
                (
                    ", ".join(slow)
                    or f"{', '.join(f'{r.processes}p' for r in serving)}: at most "
                    f"{max(a.p95_ms for r in serving for a in r.actions):.0f} ms"
                )
                + (f" ({'; '.join(saturated)})" if saturated else ""),
            ),
            growth,
            self.per_core(),
            Target(
                f"each gunicorn worker's RSS ≤ {RSS_MB:g} MB",
                "miss" if heavy else "pass" if most else "not measured",
                ", ".join(heavy) or f"at most {most:.0f} MB",
            ),
        ]

    def table(self) -> str:
        lines = [
            f"Load run, {self.when:%Y-%m-%d %H:%M} UTC: {self.users} members of as many "
            f"congregations, {self.seconds:g} s a run, gunicorn sync workers through PgBouncer "
            "(transaction pooling), Redis cache and broker, Celery worker and beat running",
        ]
        for run in self.runs:
            lines += [
                "",
                f"{run.processes} web process(es): {run.per_second:.1f} requests/s "
                f"({run.requests:,} in {run.seconds:.0f} s, {run.errors} errors); the floor "
                f"on the same setup: {run.floor.per_second:.1f} requests/s, p95 "
                f"{run.floor.p95_ms:.0f} ms; {run.sign_in.count - run.sign_in.errors} signed in "
                f"(median {run.sign_in.p50_ms:.0f} ms, {run.sign_in.errors} failed); worker RSS "
                + ", ".join(f"{mb:.0f}" for mb in run.worker_rss_mb)
                + f" MB; the jobs caught up in {run.catch_up_seconds:.0f} s before; "
                f"{run.per_used_core:.1f} requests a CPU-second the servers used (the floor "
                f"{run.floor_per_used_core:.1f})",
                f"  {'action':<22} {'count':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
                f"{'p99 ms':>7} {'errors':>6}",
            ]
            for a in run.actions:
                wrong = "  " + ", ".join(f"{k} ×{v}" for k, v in a.failures.items())
                lines.append(
                    f"  {a.name:<22} {a.count:>6} {a.per_second:>7.1f} {a.p50_ms:>7.0f} "
                    f"{a.p95_ms:>7.0f} {a.p99_ms:>7.0f} {a.errors:>6}"
                    + (wrong if a.failures else "")
                )
            for kind, seen in run.verified.items():
                lines.append(f"  {kind}: {seen['answered']} done, {seen['stored']} in the database")
        lines += [
            "",
            "curve: " + ", ".join(f"{r.processes}p {r.per_second:.1f}/s" for r in self.runs),
        ]
        return "\n".join([*lines, *target_lines(self.targets())])

    def as_json(self) -> dict[str, Any]:
        return {
            "when": self.when.isoformat(),
            "users": self.users,
            "seconds": self.seconds,
            "cores": self.cores,
            "runs": [
                {
                    **asdict(r),
                    "requests": r.requests,
                    "errors": r.errors,
                    "requests_per_second": r.per_second,
                    "requests_per_used_core": r.per_used_core,
                }
                for r in self.runs
            ],
            "targets": [asdict(t) for t in self.targets()],
        }

    def write(self, folder: Path) -> Path:
        return write_json(folder, "load", self.when, self.as_json())


def verify(members: list[dict[str, Any]], load: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Each write the swarm saw succeed, against what the database holds after the run
    (read as the owner, whom row-level security lets see every congregation)."""
    from congregations.rls import as_owner
    from crews.models import CrewInvitation, Meeting, MeetingStatus
    from reciprocity.models import ListeningRound

    def done(name: str) -> int:
        return len(load["timings"].get(name, [])) - sum(load["failures"].get(name, {}).values())

    opened = [pk for m in members for pk in m["open_meetings"]]
    asked = [pk for m in members for pk in m["invitations"]]
    crews = [m["crew"] for m in members]
    with as_owner() as connection, connection.cursor() as cursor:

        def count(sql: str, values: list[Any]) -> int:
            cursor.execute(sql, values)
            return int(cursor.fetchone()[0])

        meetings = Meeting._meta.db_table
        stored = {
            "log a meeting": count(
                f"SELECT count(*) FROM {meetings} WHERE id = ANY(%s) AND status = %s",
                [opened, MeetingStatus.LOGGED],
            ),
            "listening round": count(
                f"SELECT count(*) FROM {ListeningRound._meta.db_table} WHERE meeting_id = ANY(%s)",
                [opened],
            ),
            "answer an invitation": count(
                f"SELECT count(*) FROM {CrewInvitation._meta.db_table}"
                " WHERE id = ANY(%s) AND answered_at IS NOT NULL",
                [asked],
            ),
            "schedule a meeting": count(
                f"SELECT count(*) FROM {meetings} WHERE crew_id = ANY(%s) AND agenda = %s",
                [crews, "Check-in, then the money round."],
            ),
        }
    return {kind: {"answered": done(kind), "stored": n} for kind, n in stored.items()}
