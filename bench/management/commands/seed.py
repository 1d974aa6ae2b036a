"""`python -m bench seed`: 200 congregations of 200 Selves with five years of history,
loaded with COPY into the bench's own database as the schema's owner
(`--grown`: four times as many congregations, into the grown database of bench.settings)
(BENCH_DATABASE_OWNER_URL): COPY and TRUNCATE are the owner's to do, and row-level security
refuses COPY to anyone it holds back (the owner it lets through)."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from bench import database
from bench.load import first_ids, load
from bench.world import PASSWORD, Shape, World
from congregations.models import SETTING_BOUNDS
from congregations.rls import as_owner


class Command(BaseCommand):
    help = "Load the scale benchmark's data into its database (once; --fresh reloads)."

    def add_arguments(self, parser: CommandParser) -> None:
        shape = Shape()
        parser.add_argument("--congregations", type=int, default=shape.congregations)
        parser.add_argument("--members", type=int, default=shape.members, help="per congregation")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument(
            "--until",
            type=date.fromisoformat,
            default=None,
            help="the day the five years end (default: today, UTC)",
        )
        parser.add_argument(
            "--fresh", action="store_true", help="drop the bench database and load it again"
        )
        parser.add_argument(
            "--grown",
            action="store_true",
            help=f"{database.GROWTH}× the congregations, into {database.grown_name()}",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        database.require_postgresql()
        if options["grown"]:
            with database.named(database.grown_name()):
                grown = options["congregations"] * database.GROWTH
                self.seed(**{**options, "congregations": grown})
        else:
            self.seed(**options)

    def seed(self, **options: Any) -> None:
        shape = Shape(congregations=options["congregations"], members=options["members"])
        most = SETTING_BOUNDS["hard_size_cap"][1]
        if shape.congregations < 1 or not 8 <= shape.members <= most:
            raise CommandError(f"Give at least 1 congregation of 8 to {most} members.")
        started = time.monotonic()
        if database.ensure(fresh=options["fresh"]):
            self.stdout.write(f"Created the database {database.name()}.")
        call_command("migrate", interactive=False, verbosity=0)
        held = {table: n for table, n in database.row_counts().items() if n}
        if held:
            self.stdout.write(
                f"{database.name()} holds data already ({held.get('congregations_congregation', 0)}"
                f" congregations, {held.get('reciprocity_ledgerentry', 0):,} ledger entries): "
                "reusing it. --fresh loads it again."
            )
            return
        until = options["until"] or timezone.now().date()
        password = password_hash(options["seed"])
        with as_owner() as connection, transaction.atomic():
            world = World(
                shape=shape,
                seed=options["seed"],
                until=until,
                password=password,
                ids=first_ids(connection),
            )
            counts = load(
                connection,
                world.congregations(),
                bulk=True,
                progress=self.progress(shape.congregations),
            )
        self.stdout.write(
            f"Loaded {shape.congregations} congregations × {shape.members} members in "
            f"{time.monotonic() - started:.0f} s: "
            + ", ".join(f"{n:,} {table}" for table, n in counts.items())
        )
        self.stdout.write(f"Every Self signs in with the password {PASSWORD}.")

    def progress(self, total: int) -> Any:
        step = max(1, total // 10)

        def report(done: int) -> None:
            if done % step == 0 or done == total:
                self.stdout.write(f"  {done}/{total} congregations generated")

        return report


def password_hash(seed: int) -> str:
    """One hash for every Self: hashing 40,000 passwords would take longer than the load.
    Its salt is as long as Django's own: a shorter one has the hasher hash the password
    again at each Self's first sign-in (must_update), doubling what signing in costs."""
    return make_password(PASSWORD, salt=f"microsolidarity-bench-{seed:06d}")
