"""Every kind of email the app sends, as a mail program reads it: each parses from its bytes
with Python's strict policy; each that its recipient can turn off carries the one-click
unsubscribe headers of RFC 8058, and a POST to that link from a mail program (no session,
no CSRF token, no cookie) turns that kind off; the others carry none. A forged token, or
one changed to name another kind, is refused and changes nothing."""

from __future__ import annotations

import email
import email.policy
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage as ParsedMessage
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail, signing
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congregations.models import Ask, Congregation, EmailOptOut, Role, Self
from congregations.services import (
    create_congregation,
    invite,
    remind_invitations,
    send_daily_emails,
    send_due_emails,
    update_profile,
    update_settings,
)
from congregations.services.daily import MORNING
from congregations.tenancy import tenant
from congregations.timezones import moment_in
from congregations.unsubscribe import DAILY, REMINDERS, SIGNER
from crews.models import Crew
from crews.services import cancel_meeting, propose_crew, reschedule_meeting, schedule_meeting
from crews.services.reminders import nudge_quiet_crews, nudge_unlogged_meetings, send_due_reminders
from privacy.services.downloads import prepare_due_archives, request_archive
from reciprocity.models import Conflict, LedgerEntry
from reciprocity.services import (
    dispute_deduction,
    open_conflict,
    register_venture,
    settle_missed_meetings,
)
from reciprocity.services.notices import warn_conflicts_nearing_deadline
from tests.builders import DAY, HOUR, held_meeting, scheduled_meeting, snapshot

from .factories import CongregationFactory, MembershipFactory, SelfFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

ONE_CLICK = "List-Unsubscribe=One-Click"


@dataclass
class Scene:
    congregation: Congregation
    facilitator: Self
    member: Self
    crew_mate: Self
    third: Self
    crew: Crew
    now: datetime


@dataclass(frozen=True)
class Sent:
    """Who the email went to, how its subject starts, and the kind its recipient can turn
    off (empty: one they cannot)."""

    to: str
    subject: str
    kind: str = ""


def invitation(scene: Scene) -> Sent:
    invite(congregation=scene.congregation, email="ben@example.net", invited_by=scene.facilitator)
    return Sent("ben@example.net", f"{scene.facilitator} invites you")


def invitation_reminder(scene: Scene) -> Sent:
    invite(
        congregation=scene.congregation,
        email="ben@example.net",
        invited_by=scene.facilitator,
        now=scene.now - 12 * DAY,
    )
    remind_invitations(now=scene.now)
    return Sent("ben@example.net", "A reminder:")


def sign_in_code(scene: Scene) -> Sent:
    Client().post(reverse("account_request_login_code"), {"email": scene.member.email})
    return Sent(scene.member.email, "Your sign-in code")


def password_reset(scene: Scene) -> Sent:
    Client().post(reverse("account_reset_password"), {"email": scene.member.email})
    return Sent(scene.member.email, "")


def new_address(scene: Scene) -> Sent:
    client = Client()
    client.force_login(scene.member)
    client.post(reverse("account_email"), {"action_add": "", "email": "ana@elsewhere.example"})
    return Sent("ana@elsewhere.example", "")


def crew_invitation(scene: Scene) -> Sent:
    propose_crew(
        congregation=scene.congregation,
        name='Potluck, "Friday" crew; Zoë',
        proposed_by=scene.facilitator,
        invitees=[scene.member, scene.crew_mate],
    )
    return Sent(scene.member.email, f"{scene.facilitator} invites you", Ask.CREW_INVITATION)


def meeting_reminder(scene: Scene) -> Sent:
    schedule_meeting(crew=scene.crew, starts_at=scene.now + 2 * HOUR, scheduled_by=scene.crew_mate)
    send_due_reminders()
    return Sent(scene.member.email, f"{scene.crew.name} meets on", REMINDERS)


def cancellation(scene: Scene) -> Sent:
    meeting = schedule_meeting(
        crew=scene.crew, starts_at=scene.now + 3 * DAY, scheduled_by=scene.crew_mate
    )
    cancel_meeting(meeting=meeting, cancelled_by=scene.crew_mate)
    return Sent(scene.member.email, "Cancelled:")


def meeting_changed(scene: Scene) -> Sent:
    meeting = schedule_meeting(
        crew=scene.crew, starts_at=scene.now + 2 * HOUR, scheduled_by=scene.crew_mate
    )
    send_due_reminders()
    reschedule_meeting(meeting=meeting, changed_by=scene.crew_mate, starts_at=scene.now + 5 * HOUR)
    return Sent(scene.member.email, "Moved:")


def data_archive(scene: Scene) -> Sent:
    request_archive(self_=scene.member)
    prepare_due_archives()
    return Sent(scene.member.email, "Your data from Microsolidarity")


def log_nudge(scene: Scene) -> Sent:
    scheduled_meeting(scene.crew, scene.now - 30 * HOUR)
    nudge_unlogged_meetings(now=scene.now)
    return Sent(scene.member.email, f"Did {scene.crew.name} meet?", Ask.MEETING_TO_LOG)


def rhythm_nudge(scene: Scene) -> Sent:
    nudge_quiet_crews(now=scene.now)
    return Sent(scene.member.email, f"When does {scene.crew.name} meet next?", REMINDERS)


def co_ownership(scene: Scene) -> Sent:
    register_venture(
        congregation=scene.congregation,
        name="Seed library, “co-op”",
        legal_form="coop",
        co_owners=[scene.member, scene.crew_mate],
        registered_by=scene.crew_mate,
    )
    return Sent(scene.member.email, "Confirm your share", Ask.CO_OWNERSHIP)


def conflict_opened(scene: Scene) -> Sent:
    open_conflict(
        crew=scene.crew, parties=[scene.crew_mate, scene.member], opened_by=scene.crew_mate
    )
    return Sent(scene.member.email, f"{scene.crew_mate} opened a conflict", Ask.CONFLICT)


def conflict_warning(scene: Scene) -> Sent:
    open_conflict(
        crew=scene.crew,
        parties=[scene.member, scene.crew_mate],
        opened_by=scene.member,
        now=scene.now - 24 * DAY,
    )
    warn_conflicts_nearing_deadline(now=scene.now)
    return Sent(scene.member.email, "A week left to resolve", Ask.CONFLICT)


def missed_meeting(scene: Scene) -> Sent:
    held_meeting(scene.crew, [scene.crew_mate, scene.third], scene.now - 3 * DAY)
    settle_missed_meetings(now=scene.now)
    return Sent(scene.member.email, "-5 points: a missed", Ask.DEDUCTION)


def dispute(scene: Scene) -> Sent:
    held_meeting(scene.crew, [scene.crew_mate, scene.third], scene.now - 3 * DAY)
    settle_missed_meetings(now=scene.now)
    with tenant(scene.congregation):
        entry = LedgerEntry.objects.get(member=scene.member, points=-5)
    dispute_deduction(entry=entry, disputed_by=scene.member, now=scene.now)
    return Sent(scene.crew_mate.email, f"Was {scene.member} at", Ask.DISPUTE)


def daily(scene: Scene) -> Sent:
    update_profile(self_=scene.member, email_digest=True)
    open_conflict(
        crew=scene.crew, parties=[scene.crew_mate, scene.member], opened_by=scene.crew_mate
    )
    # The morning has come on the member's clock, whatever the hour the test runs at (an
    # hour before midnight in UTC it is already past midnight in Amsterdam).
    today = scene.now.astimezone(scene.member.timezone).date()
    morning = max(scene.now, datetime.combine(today, MORNING, tzinfo=scene.member.timezone))
    send_daily_emails(now=morning)
    send_due_emails(now=morning)
    return Sent(scene.member.email, "What waits for you", DAILY)


EVERY_EMAIL: dict[str, Callable[[Scene], Sent]] = {
    f.__name__: f
    for f in (
        invitation,
        invitation_reminder,
        sign_in_code,
        password_reset,
        new_address,
        crew_invitation,
        meeting_reminder,
        cancellation,
        meeting_changed,
        data_archive,
        log_nudge,
        rhythm_nudge,
        co_ownership,
        conflict_opened,
        conflict_warning,
        missed_meeting,
        dispute,
        daily,
    )
}
CAN_BE_TURNED_OFF = [
    "crew_invitation",
    "meeting_reminder",
    "log_nudge",
    "rhythm_nudge",
    "co_ownership",
    "conflict_opened",
    "conflict_warning",
    "missed_meeting",
    "dispute",
    "daily",
]


@pytest.fixture
def scene(
    congregation: Congregation,
    facilitator: Self,
    member: Self,
    crew_mate: Self,
    third: Self,
    crew: Crew,
) -> Scene:
    mail.outbox.clear()
    return Scene(congregation, facilitator, member, crew_mate, third, crew, timezone.now())


def sent(scene: Scene, name: str) -> tuple[Sent, EmailMessage]:
    """Make the email happen through its service or job, send the outbox, and find it."""
    expected = EVERY_EMAIL[name](scene)
    send_due_emails()
    found = [
        m for m in mail.outbox if m.to == [expected.to] and m.subject.startswith(expected.subject)
    ]
    assert len(found) == 1, [(m.to, m.subject) for m in mail.outbox]
    return expected, found[0]


def parsed(message: EmailMessage) -> ParsedMessage:
    """As a strict mail program reads it: any defect raises."""
    read = email.message_from_bytes(message.message().as_bytes(), policy=email.policy.strict)
    assert isinstance(read, ParsedMessage)
    for part in read.walk():
        assert part.defects == []
    return read


def unsubscribe_path(read: ParsedMessage) -> str:
    value = str(read["List-Unsubscribe"]).strip()  # folded: the link is long
    assert value.startswith("<https://") or value.startswith("<http://"), value
    assert value.endswith(">") and "," not in value  # one HTTP(S) link, and no mailto
    return urlsplit(value[1:-1]).path


def one_click(path: str) -> int:
    """What a mail program sends (RFC 8058 §3.2): a POST with no cookie, session or token."""
    client = Client(enforce_csrf_checks=True)
    response = client.post(path, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    return response.status_code


def turned_off(self_: Self, kind: str) -> bool:
    self_.refresh_from_db()
    if kind == REMINDERS:
        return not self_.reminders_enabled
    kinds = set(Ask.values) if kind == DAILY else {kind}
    off = set(EmailOptOut.objects.filter(owner=self_).values_list("ask", flat=True))
    return kinds <= off


@pytest.mark.parametrize("name", sorted(EVERY_EMAIL))
def test_every_email_parses_strictly_and_says_whether_it_can_be_turned_off(
    scene: Scene, name: str
) -> None:
    expected, message = sent(scene, name)

    read = parsed(message)

    assert str(read["Subject"]).strip() == message.subject  # unfolded
    assert str(read["To"]).strip() == expected.to
    body = read.get_body(preferencelist=("plain",))
    assert body is not None and body.get_content().strip()
    if expected.kind:
        assert read["List-Unsubscribe-Post"] == ONE_CLICK
        assert unsubscribe_path(read).startswith("/unsubscribe/")
    else:
        assert read["List-Unsubscribe"] is None
        assert read["List-Unsubscribe-Post"] is None


@pytest.mark.parametrize("name", CAN_BE_TURNED_OFF)
def test_one_click_from_the_mail_program_turns_that_kind_off(scene: Scene, name: str) -> None:
    expected, message = sent(scene, name)
    recipient = Self.objects.get(email=expected.to)
    assert not turned_off(recipient, expected.kind)

    assert one_click(unsubscribe_path(parsed(message))) == 200

    assert turned_off(recipient, expected.kind)


def test_the_next_reminder_is_not_sent_after_one_click(scene: Scene) -> None:
    _, message = sent(scene, "meeting_reminder")
    assert one_click(unsubscribe_path(parsed(message))) == 200
    mail.outbox.clear()

    schedule_meeting(crew=scene.crew, starts_at=scene.now + 3 * HOUR, scheduled_by=scene.third)
    send_due_reminders()
    send_due_emails()

    assert sorted(to for m in mail.outbox for to in m.to) == sorted(
        [scene.crew_mate.email, scene.third.email]
    )


def test_the_next_conflict_is_not_emailed_after_one_click_but_still_waits(scene: Scene) -> None:
    _, message = sent(scene, "conflict_opened")
    assert one_click(unsubscribe_path(parsed(message))) == 200
    mail.outbox.clear()

    open_conflict(crew=scene.crew, parties=[scene.third, scene.member], opened_by=scene.third)
    send_due_emails()

    assert mail.outbox == []


def test_a_get_asks_to_confirm_and_changes_nothing(
    scene: Scene, django_assert_max_num_queries: Any
) -> None:
    _, message = sent(scene, "conflict_opened")
    path = unsubscribe_path(parsed(message))
    before = snapshot()

    with django_assert_max_num_queries(3):
        response = Client().get(path)

    assert response.status_code == 200
    assert b"Stop these emails" in response.content
    assert b"conflicts to resolve" in response.content
    assert b'method="post"' in response.content
    assert snapshot() == before


def token_of(path: str) -> str:
    return path.strip("/").split("/")[-1]


def forged(path: str, change: Callable[[list[Any]], list[Any]]) -> str:
    """The link in ``path`` with its token's payload changed and its signature kept."""
    token = token_of(path)
    signature = token.rsplit(":", 1)[1]
    payload = SIGNER.sign_object(change(SIGNER.unsign_object(token)), compress=True)
    return path.replace(token, payload.rsplit(":", 1)[0] + ":" + signature)


def resigned(path: str) -> str:
    """The same payload, signed with the site's key for another purpose (no salt)."""
    token = signing.Signer().sign_object(SIGNER.unsign_object(token_of(path)), compress=True)
    return reverse("unsubscribe", kwargs={"token": token})


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda path: path.replace("/unsubscribe/", "/unsubscribe/x"), id="garbled"),
        pytest.param(
            lambda path: forged(path, lambda data: [data[0], Ask.CO_OWNERSHIP.value]),
            id="reused-for-another-kind",
        ),
        pytest.param(
            lambda path: forged(path, lambda data: [int(data[0]) + 1, data[1]]), id="other-self"
        ),
        pytest.param(resigned, id="another-salt"),
    ],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_token_is_refused_and_changes_nothing(
    scene: Scene, tamper: Callable[[str], str], method: str
) -> None:
    _, message = sent(scene, "conflict_opened")
    path = tamper(unsubscribe_path(parsed(message)))
    before = snapshot()

    response = getattr(Client(enforce_csrf_checks=True), method)(path)

    assert response.status_code == 404
    assert b"This unsubscribe link does not work" in response.content
    assert snapshot() == before


# --- deadlines true for the reader -------------------------------------------------------

# A link that lapses here: 13 December 2026, 18:46 UTC; 14 December in Kolkata already.
EXPIRES = datetime(2026, 12, 13, 18, 46, tzinfo=UTC)


def test_an_invitation_s_expiry_reads_the_same_whoever_sent_it(
    congregation: Congregation, facilitator: Self, member: Self
) -> None:
    update_settings(congregation=congregation, changed_by=facilitator, timezone="America/New_York")
    update_profile(self_=facilitator, timezone="Asia/Kolkata")
    update_profile(self_=member, timezone="Europe/Amsterdam")
    sent_at = EXPIRES - congregation.invitation_lifetime
    mail.outbox.clear()

    for inviter, address in ((facilitator, "ben@example.net"), (member, "cy@example.net")):
        invite(congregation=congregation, email=address, invited_by=inviter, now=sent_at)
    send_due_emails(now=sent_at)

    bodies = {m.to[0]: parsed(m).get_body().get_content() for m in mail.outbox}  # type: ignore[union-attr]
    for body in bodies.values():
        assert "until Sunday 13 December 2026, 13:46 EST" in body
        assert "14 December" not in body and "19:46" not in body


def test_a_congregation_takes_its_facilitator_s_timezone_and_a_facilitator_changes_it(
    db: None,
) -> None:
    founder = SelfFactory.create(timezone="Asia/Kolkata")
    congregation = create_congregation(name="Zoë's circle", facilitator=founder)
    assert str(congregation.timezone) == "Asia/Kolkata"

    client = Client()
    client.force_login(founder)
    url = reverse("congregations:settings", kwargs={"congregation_slug": congregation.slug})
    page = client.get(url)
    form = {
        key: value
        for key, value in page.context["form"].initial.items()
        if value is not None and not isinstance(value, bool)
    }
    response = client.post(url, {**form, "timezone": "Europe/Amsterdam"})

    assert response.status_code == 302
    congregation.refresh_from_db()
    assert str(congregation.timezone) == "Europe/Amsterdam"


@pytest.mark.parametrize(
    ("zone", "reads"),
    [
        ("Europe/Amsterdam", "Sunday 13 December 2026, 19:46 CET"),
        ("Asia/Kolkata", "Monday 14 December 2026, 00:16 IST"),
        ("UTC", "Sunday 13 December 2026, 18:46 UTC"),
        # No lettered abbreviation ("-03"): the place names the clock.
        ("America/Sao_Paulo", "Sunday 13 December 2026, 15:46 (America/Sao_Paulo)"),
    ],
)
def test_a_moment_is_written_on_the_reader_s_clock_with_its_name(zone: str, reads: str) -> None:
    assert moment_in(EXPIRES, zone) == reads


def test_the_conflict_warning_links_to_the_conflict(scene: Scene) -> None:
    _, message = sent(scene, "conflict_warning")
    with tenant(scene.congregation):
        conflict = Conflict.objects.get()
    path = reverse(
        "reciprocity:conflict",
        kwargs={"congregation_slug": scene.congregation.slug, "pk": conflict.pk},
    )

    body = str(message.body)

    assert path in body
    link = next(word for word in body.split() if path in word)
    client = Client()
    client.force_login(scene.member)
    assert client.get(urlsplit(link).path).status_code == 200


def test_a_cancellation_links_to_where_the_next_meeting_is_scheduled(scene: Scene) -> None:
    _, message = sent(scene, "cancellation")
    path = reverse(
        "crews:crew", kwargs={"congregation_slug": scene.congregation.slug, "pk": scene.crew.pk}
    )
    assert path in [urlsplit(word).path for word in str(message.body).split()]

    client = Client()
    client.force_login(scene.member)
    page = client.get(path)

    schedule = reverse(
        "crews:schedule", kwargs={"congregation_slug": scene.congregation.slug, "pk": scene.crew.pk}
    )
    assert f'action="{schedule}"'.encode() in page.content


def test_conflict_warnings_and_rhythm_nudges_stop_with_their_kind(scene: Scene) -> None:
    _, opened = sent(scene, "conflict_opened")
    _, nudged = sent(scene, "rhythm_nudge")
    for message in (opened, nudged):
        assert one_click(unsubscribe_path(parsed(message))) == 200
    mail.outbox.clear()

    warn_conflicts_nearing_deadline(now=scene.now + 24 * DAY)
    nudge_quiet_crews(now=scene.now + 31 * DAY)
    send_due_emails(now=scene.now + 31 * DAY)

    assert all(m.to != [scene.member.email] for m in mail.outbox)
    assert {m.to[0] for m in mail.outbox} >= {scene.crew_mate.email}


MIGRATION = "0012_congregation_timezone_email_kind"


def test_the_migration_gives_each_congregation_its_first_facilitator_s_timezone(
    db: None,
) -> None:
    founder = SelfFactory.create(timezone="Asia/Kolkata")
    started = create_congregation(name="Started", facilitator=founder)
    later = SelfFactory.create(timezone="Europe/Amsterdam")
    MembershipFactory.create(
        congregation=started, member=later, role=Role.FACILITATOR, joined_at=timezone.now()
    )
    empty = CongregationFactory.create(name="Nobody yet")
    # As they were before the migration: every congregation on the column's default.
    Congregation.objects.update(timezone="UTC")
    historical = MigrationExecutor(connection).loader.project_state(("congregations", MIGRATION))
    migration = importlib.import_module(f"congregations.migrations.{MIGRATION}")

    # Run as the runtime role, held back by row-level security as the owner is.
    with transaction.atomic():
        migration.first_facilitators_zone(historical.apps, SimpleNamespace(connection=connection))

    assert {c.name: str(c.timezone) for c in Congregation.objects.all()} == {
        started.name: "Asia/Kolkata",
        empty.name: "UTC",
    }


def test_every_email_template_writes_times_through_the_one_helper() -> None:
    templates = sorted((settings.BASE_DIR / "templates").glob("*/email/*.txt"))
    assert templates
    for template in templates:
        text = template.read_text()
        # A date or time formatted by hand would be on some clock, unnamed.
        assert "|date" not in text and "|time" not in text and "{% timezone" not in text, template
