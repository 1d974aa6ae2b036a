"""What earned an entry its points (a meeting, a listening round, a money round, a
conflict, a venture) is one column each, and an entry sets one at most. Each is now indexed
only where it is set: an entry no longer adds an index entry for the four it leaves empty,
and the indexes hold only the rows they find (issue 20: the missed-meeting job writes
thousands of entries at once).

The fields' db_index is changed in the state alone, and only the indexes in the database:
altering the fields would have PostgreSQL drop and re-check five foreign keys over every
entry, and SQLite rebuild the table, append-only trigger and all."""

import django.db.models.deletion
from django.db import migrations, models

# Each source, its model, and the index Django made for it.
SOURCES = {
    "meeting": ("crews.meeting", "reciprocity_ledgerentry_meeting_id_67174956"),
    "listening_round": (
        "reciprocity.listeninground",
        "reciprocity_ledgerentry_listening_round_id_2c34600f",
    ),
    "money_round": ("reciprocity.moneyround", "reciprocity_ledgerentry_money_round_id_6f9b48ef"),
    "conflict": ("reciprocity.conflict", "reciprocity_ledgerentry_conflict_id_19648bd1"),
    "venture": ("reciprocity.venture", "reciprocity_ledgerentry_venture_id_64db3769"),
}


def _field(to: str) -> models.ForeignKey:
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.PROTECT,
        related_name="+",
        to=to,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("crews", "0011_meeting_congregation_index"),
        ("reciprocity", "0008_ledgerentry_reason_parts"),
    ]

    operations = [
        *(
            migrations.SeparateDatabaseAndState(
                state_operations=[
                    migrations.AlterField(model_name="ledgerentry", name=name, field=_field(to))
                ],
                database_operations=[
                    migrations.RunSQL(
                        f'DROP INDEX IF EXISTS "{index}"',
                        f'CREATE INDEX "{index}" ON "reciprocity_ledgerentry" ("{name}_id")',
                    )
                ],
            )
            for name, (to, index) in SOURCES.items()
        ),
        *(
            migrations.AddIndex(
                model_name="ledgerentry",
                index=models.Index(
                    condition=models.Q((f"{name}__isnull", False)),
                    fields=[name],
                    name=f"ledger_{name}",
                ),
            )
            for name in SOURCES
        ),
    ]
