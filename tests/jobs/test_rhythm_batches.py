"""The monthly rhythm nudges a batch of crews at once (crews.services.reminders.
nudge_quiet_crews): each crew's own emails across congregations, and a crew that fails
after the batch marked the others nudged stops no other, on SQLite too."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
from django.utils import timezone

from congregations.models import Email
from congregations.tenancy import across_congregations
from crews.models import Crew
from crews.services import leave_crew
from crews.services import reminders as crew_notices
from microsolidarity.models import ItemFailure
from tests.builders import people
from tests.jobs.test_poisoned_items import crews_in_two_congregations

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def rhythm_emails() -> list[Email]:
    with across_congregations():
        return list(Email.objects.filter(key__startswith="rhythm:").select_related("recipient"))


def test_a_batch_across_two_congregations_writes_each_crews_own_emails() -> None:
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    with across_congregations():
        leaver = people(crews[0])[0]
        quiet = people(crews[2])[1]
    leave_crew(crew=crews[0], member=leaver, now=now - timedelta(days=1))
    quiet.reminders_enabled = False
    quiet.save(update_fields=["reminders_enabled"])

    assert crew_notices.nudge_quiet_crews(now=now) == 4 * 3 - 2
    emails = rhythm_emails()
    month = f"{now.astimezone(UTC):%Y-%m}"
    with across_congregations():
        expected = set()
        for crew in Crew.objects.select_related("congregation"):
            for person in people(crew):
                if person.pk in (leaver.pk, quiet.pk):
                    continue
                expected.add((crew.congregation_id, f"rhythm:{crew.pk}:{month}:{person.pk}"))
                mail = next(e for e in emails if e.key == f"rhythm:{crew.pk}:{month}:{person.pk}")
                assert mail.recipient_id == person.pk
                assert f"/c/{crew.congregation.slug}/crews/{crew.pk}/" in mail.body
                assert crew.name in mail.subject
    assert {(e.congregation_id, e.key) for e in emails} == expected
    assert len(emails) == len(expected)
    with across_congregations():
        assert not Crew.objects.filter(rhythm_nudged_at__isnull=True).exists()
    # Again this month: nothing.
    assert crew_notices.nudge_quiet_crews(now=now + timedelta(hours=3)) == 0
    assert len(rhythm_emails()) == len(expected)


def test_a_crew_failing_after_the_batch_marked_crews_nudged_stops_no_other(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch fails part way (after its UPDATE marked every crew nudged, while writing
    the emails): the batch must be undone, so that crew by crew the others are nudged and
    only the bad one fails. On SQLite, across_congregations() opens no transaction."""
    now = timezone.now()
    crews = crews_in_two_congregations(now)
    bad = crews[1]
    real = crew_notices.crew_url

    def crew_url(crew: Any) -> str:
        if crew.pk == bad.pk:
            raise RuntimeError(f"poisoned crew {crew.pk}")
        return real(crew)

    monkeypatch.setattr(crew_notices, "crew_url", crew_url)

    assert crew_notices.nudge_quiet_crews(now=now) == 3 * 3
    with across_congregations():
        assert list(Crew.objects.filter(rhythm_nudged_at__isnull=True)) == [bad]
        assert ItemFailure.objects.get(job="nudge_quiet_crews").item_id == bad.pk
    assert len(rhythm_emails()) == 3 * 3
