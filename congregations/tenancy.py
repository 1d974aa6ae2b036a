"""The two walls between congregations, entered together at one boundary.

The Python wall is django-scopes: a tenant-owned model's manager refuses to query with no
congregation in scope and filters by the one in scope. The database's wall is PostgreSQL
row-level security (``congregations.rls``): every tenant table admits only the rows of
the congregation set for the current transaction. ``tenant()`` enters both at once, so
they always agree; the tenancy middleware enters it for a request and
``tenant_service`` for a domain service.

Work that spans congregations on purpose goes through one door, ``across_congregations``,
used only by the modules listed in ``ACROSS_CONGREGATIONS`` (a test keeps the list short).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django_scopes import scope, scopes_disabled

P = ParamSpec("P")
R = TypeVar("R")

# The transaction-local setting the row-level-security policies read.
SETTING = "microsolidarity.congregation"

# The modules that may open the door, and why. Anything else that needs rows of several
# congregations is a mistake the isolation tests should catch, not a new entry here.
ACROSS_CONGREGATIONS = {
    "microsolidarity.services.batches": "the periodic jobs' claim steps",
    "microsolidarity.admin": "the operators' admin",
    "congregations.selectors": "a Self's own list of congregations; an invitation link",
    "congregations.services.invitations": "an invitation link, which names no congregation",
    "congregations.services.notifications": "a Self marking all their notifications read",
    "crews.selectors": "a Self's own crews and calendar feed, across their congregations",
    "reciprocity.selectors.waiting": "what waits for a Self, across their congregations",
    "privacy.services.archive": "everything the app holds about a Self, for them to download",
}

# What this thread's current transaction has set: the congregation's id, and whether the
# door is open. Kept here so that re-entering the same congregation costs no query.
_current: ContextVar[tuple[int | None, bool]] = ContextVar("tenancy", default=(None, False))


def _on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def _set(congregation_id: int | None, across: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true), set_config('role', %s, true)",
            [
                SETTING,
                "" if congregation_id is None else str(congregation_id),
                settings.DATABASE_CROSSING_ROLE if across else "none",
            ],
        )
    _current.set((congregation_id, across))


@contextmanager
def _entered(congregation_id: int | None, across: bool) -> Iterator[None]:
    """Run the block in one transaction (the setting is transaction-local, so it must be
    made inside the ``atomic`` that runs the queries) with this setting, then put back
    what was set before. At the outermost block the transaction's end clears it."""
    if not _on_postgresql():
        # No database wall to set, so no transaction to open for it: on SQLite, whose
        # transactions take the write lock up front, every page would queue for it.
        yield
        return
    wanted = (congregation_id, across)
    if connection.in_atomic_block and _current.get() == wanted:
        yield  # already behind these walls, in this transaction
        return
    outermost = not connection.in_atomic_block
    previous = (None, False) if outermost else _current.get()
    with transaction.atomic():
        if wanted != previous:
            _set(*wanted)
        try:
            yield
            # A block marked for rollback (``transaction.set_rollback``) is rolled back to
            # its savepoint on the way out, which restores the setting; a query now would
            # fail. So would one in a transaction a swallowed error aborted: that raises,
            # and the rollback restores the setting too.
            if wanted != previous and not outermost and not connection.needs_rollback:
                _set(*previous)
        finally:
            # Whichever way the block is left, this thread forgets what it set: a stale
            # memory would skip setting a congregation, or put one back, in a later block.
            _current.set(previous)


def congregation_id_of(subject: Any) -> int:
    from .models import Congregation

    if isinstance(subject, Congregation):
        return int(subject.pk)
    if isinstance(subject, int):
        return subject
    return int(subject.congregation_id)


@contextmanager
def tenant(congregation: Any) -> Iterator[None]:
    """Both walls for ``congregation`` (a Congregation, a tenant-owned row, or an id), on
    PostgreSQL in one transaction: queries see its rows and may write only its rows."""
    congregation_id = congregation_id_of(congregation)
    with _entered(congregation_id, across=False), scope(congregation=congregation_id):
        yield


@contextmanager
def across_congregations() -> Iterator[None]:
    """The door for work that spans congregations on purpose (see ACROSS_CONGREGATIONS):
    the scopes are off and, for this transaction, the queries run as the crossing role,
    which row-level security lets through. A ``tenant()`` inside closes it again."""
    with _entered(None, across=True), scopes_disabled():
        yield


def subject_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """The congregation a service acts on: that of the congregation or tenant-owned rows
    it is given. Rows of two congregations in one call are a mistake, refused."""
    from .models import Congregation, TenantOwned

    found = {
        congregation_id_of(value)
        for value in (*args, *kwargs.values())
        if isinstance(value, (Congregation, TenantOwned))
    }
    if len(found) != 1:
        raise TypeError(
            "A tenant service takes a congregation or its rows"
            + (f", of one congregation, not of {len(found)}." if found else ".")
        )
    return found.pop()


def tenant_service(service: Callable[P, R]) -> Callable[P, R]:
    """Run the service inside its congregation's walls: every query on tenant data it
    makes sees only that congregation's rows, and it works the same from a view, a Celery
    task or `manage.py shell`."""

    @wraps(service)
    def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
        with tenant(subject_of(args, kwargs)):
            return service(*args, **kwargs)

    return scoped
