"""A meeting's congregation loses its own index: the unique (congregation, request_key)
leads with it, so the single-column index only cost, at every write, and the missed-meeting
job marks thousands of meetings settled at once (issue 20).

The field's db_index is changed in the state alone and the index dropped by name: altering
the field would have PostgreSQL drop and re-check its foreign key over every meeting."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "crews_meeting_congregation_id_38e30d59"


class Migration(migrations.Migration):
    dependencies = [
        ("congregations", "0015_membershipevent_details"),
        ("crews", "0010_crew_rhythm_nudged_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="meeting",
                    name="congregation",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="congregations.congregation",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    f'CREATE INDEX "{INDEX}" ON "crews_meeting" ("congregation_id")',
                ),
            ],
        ),
    ]
