"""Starting background work from a request without depending on the broker."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue_after_commit(task: Task, *args: Any) -> None:
    """Send ``task`` once the transaction commits, as a head start only: the work itself is
    rows in the database that a periodic run picks up anyway, so a broker that is down
    delays it and never turns the page into an error."""

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except Exception as error:  # kombu raises a different class per transport
            logger.warning("Could not enqueue %s, the periodic run will: %s", task.name, error)

    transaction.on_commit(send)
