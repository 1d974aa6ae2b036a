"""Starting background work from a request without depending on the broker."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction

logger = logging.getLogger(__name__)

# A web process waits at most about this long for the broker, once, and never retries:
# the work is rows in the database that the next periodic run picks up anyway.
PUBLISH_TIMEOUT = 0.5


def enqueue_after_commit(task: Task, *args: Any) -> None:
    """Send ``task`` once the transaction commits, as a head start only: a broker that is
    down or slow delays the work and never turns the page into an error or a wait."""

    def send() -> None:
        options = {
            **(task.app.conf.broker_transport_options or {}),
            "socket_connect_timeout": PUBLISH_TIMEOUT,
            "socket_timeout": PUBLISH_TIMEOUT,
            "max_retries": 0,
        }
        try:
            with task.app.connection_for_write(
                transport_options=options, connect_timeout=PUBLISH_TIMEOUT
            ) as connection:
                task.apply_async(args=args, retry=False, connection=connection)
        except Exception as error:  # kombu raises a different class per transport
            logger.warning("Could not enqueue %s, the periodic run will: %s", task.name, error)

    transaction.on_commit(send)
