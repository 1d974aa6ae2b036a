"""`python -m bench run`: measure the app on the seeded data against the framework's own
floor, print a table and write it as JSON under bench/results/."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from bench import database, deductions, jobs, pages, throughput
from bench.report import Grown, Report, machine


class Command(BaseCommand):
    help = (
        "Measure pages, the missed-meeting job, the periodic jobs with nothing to do and "
        "throughput on the seeded data, then the pages and the job on the grown data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-throughput", action="store_true", help="skip the gunicorn throughput run"
        )
        parser.add_argument(
            "--no-growth",
            action="store_true",
            help=f"skip the pages and the job on {database.GROWTH}× the data",
        )
        parser.add_argument(
            "--output", type=Path, default=Path(settings.BASE_DIR) / "bench/results"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database.require_postgresql()
        data = database.row_counts()
        if not data["reciprocity_ledgerentry"]:
            raise CommandError("The bench database is empty: run `python -m bench seed` first.")
        # Asked of the superuser before anything is timed, not minutes later at the job.
        deductions.checkpoint()
        when = timezone.now()
        self.stdout.write("Timing the pages…")
        members = pages.samples(10)
        floor, measured = pages.measure_all(members)
        self.stdout.write("Timing the missed-meeting job against its floor…")
        job = deductions.measure(when)
        self.stdout.write("Timing each periodic job with nothing to do…")
        idle = jobs.measure()
        tp = None
        if not options["no_throughput"]:
            paths = [p.path for p in measured if p.measured]
            self.stdout.write(
                f"Throughput: {throughput.CLIENTS} clients for {throughput.SECONDS:g} s "
                f"over {len(paths)} pages…"
            )
            tp = throughput.run(pages.samples(throughput.CLIENTS), paths)
        grown = None if options["no_growth"] else self.grown(when)
        report = Report(when, machine(), data, floor, measured, job, tp, idle, grown)
        self.stdout.write("\n" + report.table() + "\n")
        self.stdout.write(f"Written to {report.write(options['output'])}")

    def grown(self, when: datetime) -> Grown | None:
        """The floor, the pages and the job again on the data set four times larger, when
        `seed --grown` has loaded it."""
        with database.named(database.grown_name()):
            if not database.exists() or not database.row_counts()["reciprocity_ledgerentry"]:
                self.stdout.write(
                    f"{database.name()} is not loaded: `python -m bench seed --grown` loads it."
                )
                return None
            self.stdout.write(f"Timing the pages and the job again on {database.name()}…")
            data = database.row_counts()
            floor, measured = pages.measure_all(pages.samples(10))
            return Grown(data, floor, measured, deductions.measure(when))
