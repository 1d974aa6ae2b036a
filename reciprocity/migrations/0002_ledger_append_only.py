"""The ledger is append-only in the database itself: UPDATE and DELETE on its rows are
rejected by a trigger, whatever code or person issues them. The SQL is in
reciprocity/ledger_guard.py, which 0006 shares."""

from django.db import migrations

from reciprocity.ledger_guard import POSTGRESQL, POSTGRESQL_REVERSE, SQLITE, SQLITE_REVERSE


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
