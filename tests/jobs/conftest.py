from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from microsolidarity.celery import app


@pytest.fixture
def overlapping_worker(transactional_db: None) -> Iterator[None]:
    """A real worker on Redis that runs two tasks at once, to make runs overlap."""
    app.control.purge()
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10
    ):
        yield
