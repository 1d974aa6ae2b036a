"""Ledger indexes for 40,000 members and millions of entries (issue 7, `make bench`).

- ledger_crew_scores (crew, occurred_at, member, level, points, congregation) replaces
  (crew, occurred_at). The crew scores page sums a crew's points per member, per level and
  per month, and exports its entries in time order; with every column those sums read in
  the key (congregation_id too: every scoped query filters on it), they are index-only
  scans that never touch the table. Key columns rather than INCLUDE, so SQLite builds the
  same index.
- ledger_member_scores (member, congregation, crew, level, points) replaces
  (member, congregation): member_score and a member's own page, per crew and per level,
  from the index alone.
- The single-column indexes Django adds for the congregation, member and crew foreign keys
  go: each is the leading column of an index that stays (the unique
  (congregation, idempotency_key), and the two above), so they only cost space and time
  on every insert, which the missed-meeting job makes thousands of at once.
- So does the index on recorded_by: who recorded an entry is shown with it, never searched
  by, and Selves are anonymised, never deleted, so no PROTECT check needs it either.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('congregations', '0002_email_outbox'),
        ('crews', '0003_scale_indexes'),
        ('reciprocity', '0002_ledger_append_only'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='ledgerentry',
            name='ledger_crew_occurred',
        ),
        migrations.RemoveIndex(
            model_name='ledgerentry',
            name='ledger_member_congregation',
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='congregation',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='congregations.congregation'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='crew',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to='crews.crew'),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='ledger_entries', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='ledgerentry',
            name='recorded_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['crew', 'occurred_at', 'member', 'level', 'points', 'congregation'], name='ledger_crew_scores'),
        ),
        migrations.AddIndex(
            model_name='ledgerentry',
            index=models.Index(fields=['member', 'congregation', 'crew', 'level', 'points'], name='ledger_member_scores'),
        ),
    ]
