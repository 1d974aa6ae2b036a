"""Loading a generated world as `bench seed` does: as the schema's owner, since COPY and
TRUNCATE are the owner's alone (row-level security refuses COPY to the runtime role).
``as_owner`` reconnects, which a test's wrapping transaction would not survive: tests
that load use the transactional database, emptied by the owner after each."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from bench.load import first_ids, load
from bench.world import Shape, World
from congregations.rls import as_owner


def load_world(shape: Shape, seed: int, until: date, *, bulk: bool = False) -> dict[str, int]:
    """Generate the world and load it, committed; returns the rows in each table."""
    with as_owner() as owner, transaction.atomic():
        world = World(
            shape=shape, seed=seed, until=until, password="not-a-real-hash", ids=first_ids(owner)
        )
        return load(owner, world.congregations(), bulk=bulk)
