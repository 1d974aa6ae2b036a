"""What each ledger entry's reason names, so it reads in every reader's language. Adding a
column writes no row (PostgreSQL fills old rows from the default without an UPDATE), so it
runs under the append-only guard; SQLite may rebuild the table to add it, which drops the
guard's triggers, so they are made again (reciprocity/ledger_guard.py)."""

from django.db import migrations, models

from reciprocity.ledger_guard import guard_again


class Migration(migrations.Migration):
    dependencies = [
        ("reciprocity", "0007_waiting_for_you"),
    ]

    operations = [
        migrations.AddField(
            model_name="ledgerentry",
            name="reason_parts",
            field=models.JSONField(blank=True, db_default={}, default=dict),
        ),
        migrations.RunPython(guard_again, migrations.RunPython.noop),
    ]
