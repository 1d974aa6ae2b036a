"""The database's wall: row-level security on every tenant table, and what the runtime
roles may do, derived from the models after every ``migrate``.

Every concrete ``TenantOwned`` model's table gets RLS enabled and forced (the owner is
bound too) with one policy, for reading and for writing: only rows of the congregation
set for the current transaction (``congregations.tenancy``), and none when nothing is
set. A model that becomes tenant-owned later is covered at its next migrate without
anyone remembering. The runtime role (DATABASE_URL's) and the crossing role get exactly
the privileges the app needs; on an append-only table, reading and adding rows only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import TenantOwned
from .tenancy import SETTING

POLICY = "congregation_only"
# The setting is read in a scalar sub-select, which PostgreSQL evaluates once per
# statement instead of once per row (as django-rls-tenants does); unset, it is NULL and
# matches nothing.
MATCH = f"congregation_id = nullif((SELECT current_setting('{SETTING}', true)), '')::bigint"

# The parts of a connection that say who connects, and where.
CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def tenant_models() -> list[type[TenantOwned]]:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, TenantOwned) and not model._meta.proxy
    ]


def owner_of(connection: BaseDatabaseWrapper) -> dict[str, Any] | None:
    """The schema owner's credentials (DATABASE_OWNER_URL), where there is one to be."""
    owner = settings.DATABASE_OWNER
    return owner if owner is not None and connection.vendor == "postgresql" else None


def connect_as(connection: BaseDatabaseWrapper, credentials: dict[str, Any]) -> dict[str, Any]:
    """Connect anew with these credentials; returns the ones it connected with before."""
    before = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: credentials.get(key) for key in CREDENTIALS})
    return before


@contextmanager
def as_owner(alias: str = "default") -> Iterator[BaseDatabaseWrapper]:
    """Connect as the schema's owner for the block, then as before: migrations, flushes
    and dumps change the schema, empty tables or read every congregation, which the
    runtime role may not."""
    connection = connections[alias]
    owner = owner_of(connection)
    if owner is None:
        yield connection
        return
    before = connect_as(connection, owner)
    try:
        yield connection
    finally:
        connect_as(connection, before)


class AsOwner(BaseCommand):
    """Mixed into a management command, first: the whole command runs as the owner."""

    def handle(self, *args: Any, **options: Any) -> Any:
        with as_owner(options["database"]):
            return super().handle(*args, **options)


def secure(connection: BaseDatabaseWrapper, runtime_role: str | None) -> None:
    """Put the policy on every tenant table and give ``runtime_role`` and the crossing
    role their privileges. Idempotent; run by ``migrate`` as the owner."""
    if connection.vendor != "postgresql":
        return
    quote = connection.ops.quote_name
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        for model in tenant_models():
            table = quote(model._meta.db_table)
            cursor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            cursor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
            cursor.execute(f"DROP POLICY IF EXISTS {POLICY} ON {table}")
            cursor.execute(
                f"CREATE POLICY {POLICY} ON {table} USING ({MATCH}) WITH CHECK ({MATCH})"
            )
        cursor.execute("SELECT current_user, current_schema()")
        owner, schema = cursor.fetchone()
        if not runtime_role or runtime_role == owner:
            return
        roles = f"{quote(runtime_role)}, {quote(settings.DATABASE_CROSSING_ROLE)}"
        schema = quote(schema)
        cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {roles}")
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {roles}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {roles}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {roles}")
        for model in tenant_models():
            if model.append_only:
                cursor.execute(
                    f"REVOKE UPDATE, DELETE ON {quote(model._meta.db_table)} FROM {roles}"
                )
