"""The ledger is append-only in the database itself: UPDATE and DELETE on its rows are
rejected by a trigger, whatever code or person issues them."""

from django.db import migrations

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
"""
POSTGRESQL_REVERSE = """
DROP TRIGGER reciprocity_ledger_append_only ON reciprocity_ledgerentry;
DROP FUNCTION reciprocity_ledger_append_only();
"""
SQLITE = [
    """CREATE TRIGGER reciprocity_ledger_no_update BEFORE UPDATE ON reciprocity_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'the reciprocity ledger is append-only: UPDATE is not allowed'); END""",
    """CREATE TRIGGER reciprocity_ledger_no_delete BEFORE DELETE ON reciprocity_ledgerentry
       BEGIN SELECT RAISE(ABORT, 'the reciprocity ledger is append-only: DELETE is not allowed'); END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER reciprocity_ledger_no_update",
    "DROP TRIGGER reciprocity_ledger_no_delete",
]


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [POSTGRESQL], "sqlite": SQLITE}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


def drop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": [POSTGRESQL_REVERSE], "sqlite": SQLITE_REVERSE}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("reciprocity", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
