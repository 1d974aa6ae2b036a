"""The database's own guard of the append-only ledger: triggers that refuse UPDATE and
DELETE on its rows, whatever code or person issues them. Migrations 0002 (which made them)
and 0006 (which makes them again on SQLite) both run this SQL, so a fresh ``migrate``
always builds the same guard; to change it on databases already migrated, add a migration.

SQLite rebuilds a table to alter one of its columns, and a rebuild drops the table's
triggers: 0003 did, so 0006 re-creates them. A later migration that alters the ledger
must do the same (``guard_again``); tests/reciprocity/test_ledger_guard.py fails when
the triggers are missing after a full ``migrate``.
"""

from __future__ import annotations

from typing import Any

from django.db import NotSupportedError

POSTGRESQL = """
CREATE FUNCTION reciprocity_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the reciprocity ledger is append-only: % is not allowed; write a reversing entry instead', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER reciprocity_ledger_append_only
    BEFORE UPDATE OR DELETE ON reciprocity_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION reciprocity_ledger_append_only();
"""  # noqa: E501 (the SQL as 0002 first ran it, line for line)
POSTGRESQL_REVERSE = """
DROP TRIGGER reciprocity_ledger_append_only ON reciprocity_ledgerentry;
DROP FUNCTION reciprocity_ledger_append_only();
"""
SQLITE_TRIGGERS = ["reciprocity_ledger_no_update", "reciprocity_ledger_no_delete"]
SQLITE = [
    """CREATE TRIGGER reciprocity_ledger_no_update BEFORE UPDATE ON reciprocity_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'the reciprocity ledger is append-only: UPDATE is not allowed'); END""",  # noqa: E501
    """CREATE TRIGGER reciprocity_ledger_no_delete BEFORE DELETE ON reciprocity_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'the reciprocity ledger is append-only: DELETE is not allowed'); END""",  # noqa: E501
]
SQLITE_REVERSE = [f"DROP TRIGGER {name}" for name in SQLITE_TRIGGERS]


def guard_again(apps: Any, schema_editor: Any) -> None:
    """A migration step, after any that rebuilds the ledger table: on SQLite, the triggers
    again (dropped first if they survived, so it can run any number of times); on
    PostgreSQL nothing, since ALTER TABLE keeps a table's triggers. Any other database
    has no guard here, and migrating it would leave the ledger open to rewriting: refused."""
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in SQLITE_TRIGGERS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}", params=None)
        for statement in SQLITE:
            schema_editor.execute(statement, params=None)
    elif vendor != "postgresql":
        raise NotSupportedError(
            f"The reciprocity ledger is append-only, and only PostgreSQL and SQLite have a "
            f"guard for that here; this database is {vendor}, where its entries could be "
            f"changed or deleted. Migrate a PostgreSQL or SQLite database instead."
        )
