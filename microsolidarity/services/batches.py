"""The one claim–process–mark loop that every periodic job runs its items through.

Each item is claimed with SELECT … FOR UPDATE SKIP LOCKED and processed in its own
transaction, behind its congregation's walls, so two workers never take the same item and
an item that raises is rolled back alone: it is recorded as an ``ItemFailure`` with its
error and left out until its retry time, while every other item, of every other
congregation, goes on. Processing an item must mark it (make it no longer due), so a run
twice changes nothing the second time.

This is where the jobs cross congregations, and only here: what is due, and a whole batch
on the fast path, are read and claimed through the door
(``congregations.tenancy.across_congregations``); a job hands over ``due`` as a function
so that its query is made behind the door, never outside it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from django.db import InterfaceError, OperationalError, models, transaction
from django.db.models import Q, QuerySet

from congregations.tenancy import across_congregations, congregation_id_of, tenant

from ..arrays import among, one_of
from ..models import ItemFailure

logger = logging.getLogger(__name__)

# An item that fails this often is not going to succeed by itself: stop and leave it,
# with its error, for a person (the admin lists it; /healthz counts it).
MAX_ATTEMPTS = 5
BATCH = 100
# A lost connection or a lock timeout is nobody's item's fault: the task retries the run.
TRANSIENT = (OperationalError, InterfaceError)


M = TypeVar("M", bound=models.Model)


def backoff(attempts: int) -> timedelta:
    """2, 4, 8, 16 minutes: long enough for a mail server or a bad row's fix to come."""
    return timedelta(minutes=2**attempts)


def each_due(
    job: str,
    due: Callable[[], QuerySet[M]],
    process: Callable[[M], int],
    *,
    now: datetime,
    batch: int = BATCH,
    process_batch: Callable[[QuerySet[M]], int] | None = None,
    on_give_up: Callable[[M, str], None] | None = None,
    limit: int | None = None,
) -> int:
    """Run ``process`` on every item ``due()`` finds once; returns the sum of what it
    returned.

    ``limit``, when given, bounds the items one run takes (the first in order): a job
    catching up on a full database (a first start, a long outage) then spreads the work
    over its next runs instead of doing it all at once; what is left stays due.

    ``process_batch``, when given, first tries a whole batch set by set in one
    transaction (the fast path of a large job); if it raises, the batch is rolled back and
    its items go one by one, so only the bad one fails. ``on_give_up`` marks an item that
    failed its last attempt, in the transaction that records the failure."""
    # What is due is read once, in order: reading it again for each batch read every item
    # still due each time, the batches already done included, until a vacuum.
    with across_congregations():
        ids = list(_claimable(job, due(), now).order_by("pk").values_list("pk", flat=True)[:limit])
    done = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        with across_congregations():
            retrying = set(
                ItemFailure.objects.filter(job=job, item_id__in=one_of(chunk)).values_list(
                    "item_id", flat=True
                )
            )
        if process_batch is not None and not retrying:
            # Claimed again as due: another worker may have done some meanwhile.
            claimed = partial(_claimed_batch, job, due, now, chunk)
            whole = _try_whole(job, claimed, process_batch)
            if whole is not None:
                done += whole
                continue
        for pk in chunk:
            done += _one(job, due, pk, process, now, pk in retrying, on_give_up)
    return done


def _claimable(job: str, due: QuerySet[M], now: datetime) -> QuerySet[M]:
    resting = ItemFailure.objects.filter(job=job).filter(
        Q(retry_after__gt=now) | Q(gave_up_at__isnull=False)
    )
    return due.exclude(pk__in=resting.values("item_id"))


def _claimed_batch(
    job: str, due: Callable[[], QuerySet[M]], now: datetime, chunk: list[Any]
) -> QuerySet[M]:
    return _claimable(job, due(), now).filter(among("pk", chunk))


def _try_whole(
    job: str, items: Callable[[], QuerySet[M]], process_batch: Callable[[QuerySet[M]], int]
) -> int | None:
    try:
        # One transaction, whatever the database: on SQLite the door opens none, and a batch
        # that failed half-way would keep what it had written (its items marked done).
        with transaction.atomic(), across_congregations():
            return process_batch(items().select_for_update(skip_locked=True, of=("self",)))
    except TRANSIENT:
        raise
    except Exception:
        logger.warning("%s: a batch failed; trying its items one by one", job, exc_info=True)
        return None


def _one(
    job: str,
    due: Callable[[], QuerySet[M]],
    pk: Any,
    process: Callable[[M], int],
    now: datetime,
    retrying: bool,
    on_give_up: Callable[[M, str], None] | None,
) -> int:
    congregation_id = None
    try:
        with transaction.atomic():
            # Claimable, not only due: another worker may have failed it, or given up on
            # it, since this run read what was due.
            with across_congregations():
                claimable = _claimable(job, due(), now).filter(pk=pk)
                item = claimable.select_for_update(skip_locked=True, of=("self",)).first()
            if item is None:  # another worker holds it, or has just done it
                return 0
            congregation_id = congregation_id_of(item)
            with tenant(congregation_id):
                result = process(item)
            if retrying:
                ItemFailure.objects.filter(job=job, item_id=pk).delete()
            return result
    except TRANSIENT:
        raise
    except Exception as error:
        logger.exception("%s: item %s failed", job, pk)
        _record_failure(job, due, pk, congregation_id, error, now, on_give_up)
        return 0


@transaction.atomic
def _record_failure(
    job: str,
    due: Callable[[], QuerySet[M]],
    pk: Any,
    congregation_id: Any,
    error: Exception,
    now: datetime,
    on_give_up: Callable[[M, str], None] | None,
) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    failure, _ = ItemFailure.objects.select_for_update().get_or_create(
        job=job,
        item_id=pk,
        defaults={"congregation_id": congregation_id, "first_failed_at": now, "retry_after": now},
    )
    failure.attempts += 1
    failure.last_error = text
    failure.retry_after = now + backoff(failure.attempts)
    if failure.attempts >= MAX_ATTEMPTS:
        failure.gave_up_at = now
        logger.error("%s: gave up on item %s after %s attempts", job, pk, failure.attempts)
        if on_give_up is not None:
            with across_congregations():
                item = due().model._default_manager.get(pk=pk)
            with tenant(item):
                on_give_up(item, text)
    failure.save()


def failures_by_job() -> dict[str, dict[str, int]]:
    """For /healthz: per job, how many items wait to be retried and how many were given up."""
    counts: dict[str, dict[str, int]] = {}
    rows = ItemFailure.objects.values_list("job", "gave_up_at")
    for job, gave_up_at in rows:
        key = "given_up" if gave_up_at else "retrying"
        counts.setdefault(job, {"retrying": 0, "given_up": 0})[key] += 1
    return counts
