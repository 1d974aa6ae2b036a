"""The append-only triggers again, after 0003 altered ledger columns: SQLite rebuilds a
table to alter a column, and the rebuild dropped the triggers 0002 made, so on SQLite a
fully migrated ledger had none. PostgreSQL keeps a table's triggers through ALTER TABLE,
so there is nothing to do there. On any other database this refuses to run: the ledger
would have no guard (see reciprocity/ledger_guard.py).

Going back leaves the triggers in place: a ledger is never less guarded than before."""

from django.db import migrations

from reciprocity.ledger_guard import guard_again


class Migration(migrations.Migration):
    dependencies = [("reciprocity", "0005_single_line_names")]

    operations = [migrations.RunPython(guard_again, migrations.RunPython.noop)]
