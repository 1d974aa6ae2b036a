"""/healthz: is the database answering, is the broker reachable, is the schedule running?

Anyone may ask and is told only which parts are ok; what went wrong goes to the log, and
to an operator signed in to the admin, with the items the periodic jobs failed on."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app
from .services.batches import failures_by_job
from .services.heartbeats import stale_tasks

logger = logging.getLogger(__name__)


def _database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as error:
        return str(error)
    return None


def _broker() -> str | None:
    with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as broker:
        try:
            broker.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
        except Exception as error:  # kombu raises a different class per transport
            return str(error)
    return None


def _schedule() -> str | None:
    stale = stale_tasks()
    return f"stale: {', '.join(stale)}" if stale else None


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    problems = {"database": _database(), "broker": _broker()}
    if problems["database"] is None:
        problems["schedule"] = _schedule()
    else:
        problems["schedule"] = "unknown: the database is down"
    down = sorted(name for name, problem in problems.items() if problem)
    for name in down:
        logger.warning("healthz: %s is down: %s", name, problems[name])
    body: dict[str, object] = {
        "status": "down" if down else "ok",
        "down": down,
        "checks": {name: "down" if problem else "ok" for name, problem in problems.items()},
    }
    if request.user.is_staff:
        body["details"] = {name: problems[name] for name in down}
        if problems["database"] is None:
            body["failed_items"] = failures_by_job()
    return JsonResponse(body, status=503 if down else 200)
