"""Indexes that only cost (issue 7, `make bench`): every insert maintains them, and every
change to a meeting that touches an indexed column (settling its deductions does) writes a
new entry into each. Millions of attendance rows and hundreds of thousands of meetings
carry them.

- Attendance.meeting: the unique (meeting, member) leads with the meeting.
- Attendance.member: the index attendance_member_meeting (member, meeting) leads with it.
- Meeting.crew: the index meeting_crew_starts (crew, -starts_at) leads with it.
- Meeting.scheduled_by, cancelled_by, logged_by: shown with the meeting, never searched by;
  Selves are anonymised, never deleted, so no PROTECT check needs them either.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('crews', '0002_reminders'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='attendance',
            name='meeting',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='attendances', to='crews.meeting'),
        ),
        migrations.AlterField(
            model_name='attendance',
            name='member',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='attendances', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='meeting',
            name='cancelled_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='meeting',
            name='crew',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='meetings', to='crews.crew'),
        ),
        migrations.AlterField(
            model_name='meeting',
            name='logged_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='meeting',
            name='scheduled_by',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
    ]
