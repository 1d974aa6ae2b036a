"""`python -m bench load`: the realistic load run (bench/mix.py says what members do) on
the production setup (bench/production.py), with 1, 2 and 4 web processes by default, the
framework floor beside each; prints the curve and the verdict, writes JSON under
bench/results/."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.test.utils import override_settings
from django.utils import timezone

from bench import database, jobs, pages, production, stock
from bench.load_report import LoadReport, LoadRun, verify
from bench.mix import ACTIONS, FLOOR, SIGN_IN, summarise
from bench.world import PASSWORD


def process_counts(text: str) -> list[int]:
    """ "1,2,4" → [1, 2, 4]: each a number of web processes, at least 1."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) < 1:
        raise CommandError(f"--processes takes numbers of processes such as 1,2,4, not {text!r}.")
    return counts


class Command(BaseCommand):
    help = "Members of many congregations at once on gunicorn, PgBouncer, Redis and Celery."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=60.0, help="of each run (default 60)")
        parser.add_argument(
            "--users", type=int, default=20, help="members at once, one per congregation"
        )
        parser.add_argument(
            "--processes", type=process_counts, default=[1, 2, 4], help="e.g. 1,2,4 (default)"
        )
        parser.add_argument(
            "--output", type=Path, default=Path(settings.BASE_DIR) / "bench/results"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database.require_postgresql()
        seconds, users = options["seconds"], options["users"]
        if seconds <= 0 or users < 1:
            raise CommandError("--seconds and --users must be positive.")
        if not database.row_counts()["reciprocity_ledgerentry"]:
            raise CommandError("The bench database is empty: run `python -m bench seed` first.")
        when = timezone.now()
        samples = pages.samples(users)
        if len(samples) < users:
            raise CommandError(f"Only {len(samples)} congregations have a crew to sample.")
        source = production.Database.of(settings.DATABASES["default"])
        owner = production.Database.of(settings.DATABASE_OWNER or settings.DATABASES["default"])
        runs = []
        for processes in options["processes"]:
            self.stdout.write(
                f"Load: {users} members for {seconds:g} s on {processes} web process(es)…"
            )
            runs.append(self.one_run(source, owner, samples, processes, seconds))
        report = LoadReport(when, users, seconds, runs)
        self.stdout.write("\n" + report.table() + "\n")
        self.stdout.write(f"Written to {report.write(options['output'])}")

    def one_run(
        self,
        source: production.Database,
        owner: production.Database,
        samples: list[pages.Sample],
        processes: int,
        seconds: float,
    ) -> LoadRun:
        base = Path(settings.BASE_DIR)
        connections.close_all()  # the copy needs its source to itself
        with (
            production.copy_of(source, owner, f"{source.name}_loadrun") as copy,
            tempfile.TemporaryDirectory(prefix="bench-load-") as folder,
        ):
            scratch = Path(folder)
            with on(copy.name):
                # The jobs catch up first, as on a site that has been running: the seed's
                # backlog (a month to settle, every crew un-nudged) is a first start's,
                # which the bench run measures apart (jobs.py); during the load the jobs
                # then do what the members' minute gives them, on their schedule.
                caught_up = time.perf_counter()
                with override_settings(EMAIL_BACKEND=jobs.NOWHERE):
                    jobs.catch_up()
                catch_up_seconds = time.perf_counter() - caught_up
                members = [stock.prepare(sample, seconds) for sample in samples]
            with (
                production.pgbouncer(copy, scratch / "pgbouncer") as port,
                production.served(base, copy.url(port=port), processes) as served,
            ):
                load = swarm(scratch, served.host, members, seconds, floor=False)
                floor = swarm(scratch, served.host, members, seconds, floor=True)
                rss = {pid: production.rss_mb(pid) for pid in served.worker_pids()}
            with on(copy.name):
                checked = verify(members, load)
        names = [a.name for a in ACTIONS] + ["rounds page"]
        return LoadRun(
            processes=processes,
            seconds=load["seconds"],
            signed_in=load["signed_in"],
            sign_in=summarise(
                SIGN_IN, load["timings"][SIGN_IN], load["failures"].get(SIGN_IN, {}), 1.0
            ),
            actions=[
                summarise(n, load["timings"][n], load["failures"].get(n, {}), load["seconds"])
                for n in names
            ],
            floor=summarise(
                FLOOR, floor["timings"][FLOOR], floor["failures"].get(FLOOR, {}), floor["seconds"]
            ),
            worker_rss_mb=sorted(rss.values()),
            verified=checked,
            catch_up_seconds=catch_up_seconds,
            served_cpu_seconds=load["served_cpu_seconds"],
            floor_served_cpu_seconds=floor["served_cpu_seconds"],
        )


@contextmanager
def on(name: str) -> Iterator[None]:
    """This process's connections, the runtime role's and the owner's, go to the database
    ``name`` (the run's copy) until the block ends."""
    dicts = [connections["default"].settings_dict]
    if settings.DATABASE_OWNER:
        dicts.append(settings.DATABASE_OWNER)
    before = [d["NAME"] for d in dicts]
    connections.close_all()
    for d in dicts:
        d["NAME"] = name
    try:
        yield
    finally:
        connections.close_all()
        for d, was in zip(dicts, before, strict=True):
            d["NAME"] = was


def swarm(
    scratch: Path, host: str, members: list[dict[str, Any]], seconds: float, *, floor: bool
) -> dict[str, Any]:
    """Run bench/swarm.py in a process of its own (locust patches the standard library for
    gevent) and read what it measured."""
    given, taken = scratch / "swarm-in.json", scratch / "swarm-out.json"
    given.write_text(
        json.dumps(
            {
                "host": host,
                "seconds": seconds,
                "password": PASSWORD,
                "members": members,
                "floor": floor,
                "sign_in_timeout": 120,
            }
        )
    )
    taken.unlink(missing_ok=True)
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "bench.swarm", str(given), str(taken)],
        cwd=settings.BASE_DIR,
        check=True,
        timeout=seconds + 300,
    )
    if not taken.exists():
        raise CommandError(f"The swarm wrote nothing after {time.monotonic() - started:.0f} s.")
    result: dict[str, Any] = json.loads(taken.read_text())
    return result
