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

from django.apps import apps
from django.conf import settings
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


@contextmanager
def as_owner(alias: str = "default") -> Iterator[BaseDatabaseWrapper]:
    """Connect as the schema's owner (DATABASE_OWNER_URL) for the block, then as before:
    migrations and the test suite's flushes change the schema or empty tables, which the
    runtime role may not."""
    connection = connections[alias]
    owner = settings.DATABASE_OWNER
    if owner is None or connection.vendor != "postgresql":
        yield connection
        return
    before = {key: connection.settings_dict.get(key) for key in CREDENTIALS}
    connection.close()
    connection.settings_dict.update({key: owner.get(key) for key in CREDENTIALS})
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict.update(before)


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
