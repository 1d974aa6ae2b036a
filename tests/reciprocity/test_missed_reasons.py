"""The missed-meeting job words each deduction as the services would: on PostgreSQL its
one statement says the reason and its parts in SQL (reciprocity.services.consistency
SETTLE_SQL), elsewhere Python does; both must keep exactly what rules.written_reason and
rules.meeting_parts make of the crew's name and the meeting's start on its own clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from congregations.models import Congregation
from congregations.tenancy import tenant
from crews.services import form_crew
from reciprocity.models import LedgerEntry
from reciprocity.rules import Rule, meeting_parts, written_reason
from reciprocity.services import apply_missed_meeting_deductions
from tests.builders import new_members, scheduled_meeting

pytestmark = pytest.mark.embedded

# (crew name, zone, start in UTC): a day on the meeting's clock other than UTC's, either
# way; a start with microseconds, and one on a whole minute; names SQL could mangle.
MEETINGS = [
    ('Kai & Omar\'s "crew"', "Pacific/Kiritimati", datetime(2026, 3, 31, 11, 30, tzinfo=UTC)),
    ("100% – Zürich 🌱", "America/Adak", datetime(2026, 1, 1, 5, 0, 0, 123456, tzinfo=UTC)),
    ("%(now)s %s {meeting}", "Asia/Kolkata", datetime(2026, 10, 25, 19, 0, tzinfo=UTC)),
    ("Back\\slash, comma", "UTC", datetime(2026, 2, 28, 23, 59, 59, 1, tzinfo=UTC)),
]


def test_each_reason_and_its_parts_are_those_the_services_write(
    congregation: Congregation,
) -> None:
    settle_after = datetime(2026, 11, 1, tzinfo=UTC)
    meetings = []
    for name, zone, starts_at in MEETINGS:
        crew = form_crew(
            congregation=congregation,
            name=name,
            members=new_members(congregation, 3),
            timezone=zone,
            now=starts_at - timedelta(days=60),
        )
        meetings.append(scheduled_meeting(crew, starts_at))

    # In another language the reasons are still kept as written, in English.
    with translation.override("de"):
        assert apply_missed_meeting_deductions(now=settle_after) == 3 * len(MEETINGS)

    with tenant(congregation):
        kept = {
            meeting_id: (reason, parts)
            for meeting_id, reason, parts in LedgerEntry.objects.filter(
                rule=Rule.MISSED
            ).values_list("meeting_id", "reason", "reason_parts")
        }
    for meeting, (name, zone, starts_at) in zip(meetings, MEETINGS, strict=True):
        parts = meeting_parts(name, starts_at, meeting.timezone)
        assert parts["zone"] == zone
        assert kept[meeting.pk] == (written_reason(Rule.MISSED, parts), parts)
        # On the meeting's own clock: Kiritimati is a day ahead of UTC, Adak a day behind.
        local = starts_at.astimezone(meeting.timezone)
        assert f"{local.day} {local:%B} {local.year}" in kept[meeting.pk][0]


# Zone names without a region that PostgreSQL also knows as abbreviations of its own,
# fixed all year, where the zone keeps summer time; and a summer start late in the UTC
# evening that is already the next day on the meeting's clock.
ABBREVIATED = [
    ("CET", datetime(2026, 7, 1, 22, 30, tzinfo=UTC)),
    ("MET", datetime(2026, 7, 1, 22, 30, tzinfo=UTC)),
    ("EET", datetime(2026, 7, 1, 21, 30, tzinfo=UTC)),
    ("WET", datetime(2026, 7, 1, 23, 30, tzinfo=UTC)),
]


@pytest.mark.parametrize(("zone", "starts_at"), ABBREVIATED)
def test_a_zone_postgresql_also_knows_as_an_abbreviation_keeps_its_summer_time(
    congregation: Congregation, zone: str, starts_at: datetime
) -> None:
    crew = form_crew(
        congregation=congregation,
        name="Summer crew",
        members=new_members(congregation, 3),
        timezone=zone,
        now=starts_at - timedelta(days=60),
    )
    meeting = scheduled_meeting(crew, starts_at)

    apply_missed_meeting_deductions(now=datetime(2026, 8, 1, tzinfo=UTC))

    with tenant(congregation):
        reasons = set(LedgerEntry.objects.filter(meeting=meeting).values_list("reason", flat=True))
    assert reasons == {"Missed the meeting: Summer crew, 2 July 2026"}
