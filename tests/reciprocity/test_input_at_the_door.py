"""Conflict titles and venture names are one line and fit their columns: the form and the
service refuse them with a message, instead of a mangled email header or a DataError."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from congregations.models import Congregation, Self
from congregations.request_keys import new_request_key
from congregations.services.outbox import send_due_emails
from congregations.tenancy import tenant
from crews.models import Crew
from microsolidarity.models import ItemFailure
from reciprocity.models import CONFLICT_TITLE_LENGTH, VENTURE_NAME_LENGTH, LedgerEntry, Rule
from reciprocity.services import open_conflict, register_venture
from reciprocity.tasks import expire_open_conflicts
from tests.builders import congregation_url, refused, signed_in, snapshot
from tests.pages import text

pytestmark = pytest.mark.django_db

ONE_LINE = "Keep this on one line, without line breaks, tabs or other control characters."
HEADER_INJECTION = "Evil\nBcc: x@example.org"
LONG_TITLE = "t" * (CONFLICT_TITLE_LENGTH + 1)


@pytest.mark.parametrize(
    ("title", "message"),
    [(HEADER_INJECTION, ONE_LINE), (LONG_TITLE, f"at most {CONFLICT_TITLE_LENGTH} characters")],
)
def test_the_conflict_form_refuses_a_bad_title_next_to_it(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self, title: str, message: str
) -> None:
    client = signed_in(member)
    before = snapshot()

    response = client.post(
        congregation_url("reciprocity:open_conflict", congregation, crew_pk=crew.pk),
        {"request_key": new_request_key(congregation), "title": title, "parties": [crew_mate.pk]},
    )

    assert response.status_code == 200
    (error,) = response.context["form"].errors["title"]
    assert message in error
    assert snapshot() == before


@pytest.mark.parametrize(
    ("title", "message"),
    [(HEADER_INJECTION, ONE_LINE), (LONG_TITLE, f"at most {CONFLICT_TITLE_LENGTH} characters")],
)
def test_open_conflict_refuses_a_bad_title(
    crew: Crew, member: Self, crew_mate: Self, title: str, message: str
) -> None:
    with refused(message):
        open_conflict(crew=crew, parties=[member, crew_mate], opened_by=member, title=title)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (HEADER_INJECTION, ONE_LINE),
        ("v" * (VENTURE_NAME_LENGTH + 1), f"at most {VENTURE_NAME_LENGTH} characters"),
    ],
)
def test_the_venture_form_refuses_a_bad_name_next_to_it(
    congregation: Congregation, member: Self, facilitator: Self, name: str, message: str
) -> None:
    client = signed_in(member)
    before = snapshot()

    response = client.post(
        congregation_url("reciprocity:register_venture", congregation),
        {
            "request_key": new_request_key(congregation),
            "name": name,
            "legal_form": "coop",
            "co_owners": [facilitator.pk],
        },
    )

    assert response.status_code == 200
    (error,) = response.context["form"].errors["name"]
    assert message in error
    assert snapshot() == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("Seed\tlibrary", ONE_LINE),
        # PostgreSQL refuses a NUL even in the query for a venture of that name.
        ("Seed\x00library", ONE_LINE),
        ("v" * (VENTURE_NAME_LENGTH + 1), f"at most {VENTURE_NAME_LENGTH} characters"),
    ],
)
def test_register_venture_refuses_a_bad_name(
    congregation: Congregation, member: Self, facilitator: Self, name: str, message: str
) -> None:
    with refused(message):
        register_venture(
            congregation=congregation,
            name=name,
            legal_form="coop",
            co_owners=[member, facilitator],
            registered_by=member,
        )


def test_the_longest_titles_go_through_the_hourly_conflict_job_and_its_emails(
    congregation: Congregation, crew: Crew, member: Self, crew_mate: Self
) -> None:
    """Issue 11's reproduction: a 200-character title, then the hourly job that warns a
    week ahead and takes the −20 past the deadline, then the outbox."""
    now = timezone.now()
    nearing, overdue = (
        open_conflict(
            crew=crew,
            parties=[member, crew_mate],
            opened_by=member,
            title=letter * CONFLICT_TITLE_LENGTH,
            now=now - timedelta(days=days),
        )
        for letter, days in (("n", 25), ("o", 31))
    )

    expire_open_conflicts()  # the hourly task, run here and now
    send_due_emails()

    assert not ItemFailure.objects.exists()
    warnings = [m for m in mail.outbox if "n" * 100 in m.subject and "week left" in m.subject]
    assert sorted(message.to[0] for message in warnings) == sorted([member.email, crew_mate.email])
    assert all(len(m.subject) <= 200 and "\n" not in m.subject for m in warnings)
    with tenant(congregation):
        lost = LedgerEntry.objects.filter(conflict=overdue, rule=Rule.EXPIRED)
        assert sorted(lost.values_list("member_id", "points")) == sorted(
            [(member.pk, -20), (crew_mate.pk, -20)]
        )
        assert all(
            r.startswith("Still open past its deadline: ooo")
            for r in lost.values_list("reason", flat=True)
        )
    client = signed_in(member)
    for conflict in (nearing, overdue):
        page = client.get(congregation_url("reciprocity:conflict", congregation, pk=conflict.pk))
        assert page.status_code == 200
        assert conflict.title in text(page)
