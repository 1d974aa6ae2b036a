"""Each periodic job with nothing to do: what a quiet 15 minutes costs at 40,000 members.

Every job of ``microsolidarity.schedule.PERIODIC_TASKS`` is first run until it has caught
up (a job that works in bounded batches runs several times), the outbox is then taken as
sent, and each job is timed on its next run, which finds nothing to do. Its queries are
captured and explained in the same transaction, through the door between congregations
as the jobs read: a sequential scan of a big table (the ledger above all) is named, since
that cost grows with the data while the job has nothing to do. Everything happens in one
transaction that is rolled back, so the bench database keeps its unsettled month for the
missed-meeting measurement and the next run.

Run as the runtime role, as the worker runs them; the outbox is never really sent (no
mail server here): the emails the catch-up queued are marked sent in the transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone
from django.utils.module_loading import import_string

from congregations.models import Congregation, Email
from congregations.rls import as_owner
from congregations.tenancy import tenant
from microsolidarity.schedule import PERIODIC_TASKS

# A job still finding work after this many runs is reported as such, not waited for.
CATCH_UP_RUNS = 50
# A table this large read whole by a job with nothing to do is a cost that grows with data.
BIG_TABLE_ROWS = 100_000
LEDGER = "reciprocity_ledgerentry"
# Sending is not what is measured here (no mail server): its catch-up is the drain below.
OUTBOX = "send_emails"
# Where an email would go if a job sent one: nowhere off the machine.
NOWHERE = "django.core.mail.backends.locmem.EmailBackend"


@dataclass(frozen=True)
class IdleJob:
    name: str
    seconds: float
    queries: int
    # The big tables its queries read whole (sequential scans), with their rows.
    scans: dict[str, int] = field(default_factory=dict)
    # Runs it took to catch up before the idle run (0: it had nothing to do at all).
    catch_up_runs: int = 0
    # What the idle run did (its return value): 0 when it had nothing to do.
    did: int = 0

    @property
    def scans_ledger(self) -> bool:
        return LEDGER in self.scans


def _jobs() -> dict[str, Callable[[], Any]]:
    return {name: import_string(periodic.task) for name, periodic in PERIODIC_TASKS.items()}


def _drain_outbox() -> None:
    """Take what the catch-up queued as sent, one statement a congregation, behind its
    walls. Sending it email by email would measure the planner instead: inside this one
    transaction the statistics still say the outbox is empty, and each email's lookup
    scans thousands of unsent ones."""
    for congregation_id in Congregation.objects.values_list("pk", flat=True):
        with tenant(congregation_id):
            Email.objects.filter(sent_at__isnull=True, failed_at__isnull=True).update(
                sent_at=timezone.now()
            )


def _table_rows() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        return dict(cursor.fetchall())


def _plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


def seq_scans(sql: str) -> set[str]:
    """The tables a statement's plan reads whole (a sequential scan, parallel or not)."""
    words = sql.lstrip().split(None, 1)
    if not words or words[0].upper() not in {"SELECT", "UPDATE", "DELETE", "WITH", "INSERT"}:
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SAVEPOINT bench_explain")
        try:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            plan = cursor.fetchone()[0]
        except Exception:
            cursor.execute("ROLLBACK TO SAVEPOINT bench_explain")
            return set()
        cursor.execute("RELEASE SAVEPOINT bench_explain")
    if isinstance(plan, str):
        plan = json.loads(plan)
    return {
        node["Relation Name"]
        for node in _plan_nodes(plan[0]["Plan"])
        if node.get("Node Type") == "Seq Scan" and "Relation Name" in node
    }


def _timed(run: Callable[[], Any]) -> tuple[float, Any, list[str]]:
    connection.queries_log.clear()  # a full log would hide what this run adds to it
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - started
    return seconds, result, [q["sql"] for q in captured.captured_queries]


def catch_up() -> dict[str, int]:
    """Every periodic job run until it has nothing left to do, as on a site that has been
    running, the outbox taken as sent; the runs each took."""
    caught_up: dict[str, int] = {}
    # Twice over: a job's catch-up can give another work (deductions queue emails).
    for _ in range(2):
        for name, run in _jobs().items():
            runs = 0
            if name == OUTBOX:
                _drain_outbox()
            else:
                while runs < CATCH_UP_RUNS and (run() or 0) > 0:
                    runs += 1
            caught_up[name] = caught_up.get(name, 0) + runs
        _drain_outbox()
    return caught_up


def measure() -> list[IdleJob]:
    """Each job's idle run, after every job has caught up; all rolled back."""
    jobs = _jobs()
    results = []
    # No mail server here: nothing may really be sent, even by mistake.
    with (
        override_settings(EMAIL_BACKEND=NOWHERE),
        transaction.atomic(),
    ):
        caught_up = catch_up()
        rows = _table_rows()
        idle = {name: _timed(run) for name, run in jobs.items()}
        transaction.set_rollback(True)
    # Plans read as the owner, whom row-level security lets through as the jobs' own door
    # does; the runtime role may not see across congregations outside a job.
    with as_owner(), transaction.atomic():
        for name, (seconds, did, statements) in idle.items():
            scanned = set().union(*(seq_scans(sql) for sql in statements))
            big = {t: rows.get(t, 0) for t in scanned if rows.get(t, 0) >= BIG_TABLE_ROWS}
            results.append(
                IdleJob(
                    name=name,
                    seconds=seconds,
                    queries=len(statements),
                    scans=big,
                    catch_up_runs=caught_up[name],
                    did=did or 0,
                )
            )
    return results
