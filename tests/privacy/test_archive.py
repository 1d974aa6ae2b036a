"""export_self_data: everything the app holds about a Self, from every congregation they
are in, and nothing of anyone else's beyond the names they share a crew, conflict or
venture with; never a secret."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from typing import Any

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.usersessions.models import UserSession
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from congregations.models import Congregation, Invitation, Self
from congregations.services import change_role, invite
from congregations.tenancy import tenant
from crews.models import CalendarFeed, Crew
from crews.services import form_crew, log_meeting, renew_calendar_feed
from privacy.services import export_self_data
from reciprocity.models import LedgerEntry
from reciprocity.services import apply_missed_meeting_deductions
from tests.builders import (
    DAY,
    HOUR,
    conflict,
    held_meeting,
    membership_of,
    money_round,
    people,
    scheduled_meeting,
    venture,
)
from tests.factories import CongregationFactory, MembershipFactory


def unzipped(archive: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zip_file:
        return {name: zip_file.read(name).decode() for name in zip_file.namelist()}


def everything(archive: bytes) -> str:
    """Every file of the archive as text, and its raw bytes too, to search."""
    return "\n".join(unzipped(archive).values()) + archive.decode("latin-1")


def a_crew(congregation: Congregation, *members: Self, name: str) -> Crew:
    return form_crew(
        congregation=congregation,
        name=name,
        members=list(members),
        now=timezone.now() - 90 * DAY,
    )


@pytest.fixture
def elsewhere(member: Self) -> Congregation:
    """A second congregation the member belongs to, with a crew of theirs."""
    other = CongregationFactory.create(name="Second home")
    MembershipFactory.create(congregation=other, member=member)
    return other


def test_the_archive_holds_the_self_s_rows_from_both_congregations_and_nothing_of_a_stranger_s(
    congregation: Congregation,
    elsewhere: Congregation,
    member: Self,
    crew: Crew,
    crew_mate: Self,
    neighbour: Self,
    now: datetime,
) -> None:
    # In the first congregation: a meeting, a money round, a conflict and a venture.
    meeting = held_meeting(crew)
    money_round(meeting, member, crew_mate)
    conflict(crew, member, crew_mate)
    venture(congregation, member, crew_mate)
    invite(congregation=congregation, email="cousin@example.net", invited_by=member, note="Hi!")
    # In the second: a crew of theirs with its own meeting.
    mates = [MembershipFactory.create(congregation=elsewhere).member for _ in range(2)]
    second = a_crew(elsewhere, member, *mates, name="Saturday circle")
    held_meeting(second)
    # A stranger in the first congregation, in a crew of strangers, with points and an
    # invitation of their own.
    strangers = [MembershipFactory.create(congregation=congregation).member for _ in range(3)]
    stranger = strangers[0]
    with tenant(congregation):
        Self.objects.filter(pk=stranger.pk).update(display_name="Zebulon Strangeways")
    stranger.refresh_from_db()
    their_crew = a_crew(congregation, *strangers, name="Strangers' crew")
    held_meeting(their_crew)
    invite(congregation=congregation, email="stranger-friend@example.net", invited_by=stranger)
    with tenant(congregation):
        their_reason = LedgerEntry.objects.filter(member=stranger).values_list("reason", flat=True)[
            0
        ]

    files = unzipped(export_self_data(self_=member, now=now))

    assert set(files) == {"README.txt", "profile.json", "congregations.json", "ledger.csv"}
    profile = json.loads(files["profile.json"])
    assert profile["email"] == member.email
    assert profile["display_name"] == member.display_name
    sections = {s["congregation"]: s for s in json.loads(files["congregations.json"])}
    assert set(sections) == {"Kotahi", "Second home"}
    kotahi, second_home = sections["Kotahi"], sections["Second home"]
    assert [c["name"] for c in kotahi["crews"]] == ["Tuesday crew"]
    assert sorted(kotahi["crews"][0]["shared_with"]) == sorted(
        p.display_name for p in people(crew) if p != member
    )
    assert [c["name"] for c in second_home["crews"]] == ["Saturday circle"]
    assert len(kotahi["meetings"]) == len(second_home["meetings"]) == 1
    assert kotahi["money_rounds_as_focus"][0]["offers"] == [
        {"from": crew_mate.display_name, "kind": ""}
    ]
    assert kotahi["conflicts"][0]["title"] == "The borrowed van"
    assert kotahi["ventures"][0]["co_owners"] == sorted(
        [member.display_name, crew_mate.display_name]
    )
    assert [(i["email"], i["note"]) for i in kotahi["invitations_sent"]] == [
        ("cousin@example.net", "Hi!")
    ]
    ledger = list(csv.DictReader(io.StringIO(files["ledger.csv"])))
    with tenant(congregation):
        first_count = LedgerEntry.objects.filter(member=member).count()
    with tenant(elsewhere):
        second_count = LedgerEntry.objects.filter(member=member).count()
    assert first_count and second_count
    assert len(ledger) == first_count + second_count
    assert {row["congregation"] for row in ledger} == {"Kotahi", "Second home"}

    text = everything(export_self_data(self_=member, now=now))
    for absent in [
        stranger.display_name,
        stranger.email,
        their_reason,
        "Strangers' crew",
        "stranger-friend@example.net",
        neighbour.display_name,
        neighbour.email,
    ]:
        assert absent not in text, absent
    # The search can fail: what is theirs is there, in the same text.
    assert member.display_name in text and crew_mate.display_name in text


def test_a_crew_s_reflections_and_notes_stay_with_the_crew(
    member: Self, crew: Crew, now: datetime
) -> None:
    meeting = scheduled_meeting(crew, now - 2 * HOUR, place="The back room at Ana's")
    log_meeting(
        meeting=meeting,
        present=people(crew),
        logged_by=member,
        reflections="We talked about the garden",
        envisioning="Next time: the harvest",
        now=now - HOUR,
    )

    text = everything(export_self_data(self_=member, now=now))

    assert "We talked about the garden" not in text
    assert "Next time: the harvest" not in text
    assert "The back room at Ana's" not in text
    assert "Tuesday crew" in text


def test_the_archive_holds_no_password_hash_token_or_secret(
    congregation: Congregation, member: Self, crew: Crew, now: datetime
) -> None:
    secret = generate_totp_secret()
    totp = TOTP.activate(member, secret).instance
    codes = RecoveryCodes.activate(member)
    calendar_token = renew_calendar_feed(owner=member)
    invitation, invitation_token = invite(
        congregation=congregation, email="friend@example.net", invited_by=member
    )
    session = UserSession.objects.create(
        user=member,
        ip="203.0.113.9",
        session_key="a-session-key-0123456789",
        user_agent="Firefox/1",
    )
    with tenant(congregation):
        invitation_hash = Invitation.objects.get(pk=invitation.pk).token_hash

    text = everything(export_self_data(self_=member, now=now))

    secrets: dict[str, Any] = {
        "password hash": member.password,
        "TOTP secret": secret,
        "TOTP secret as stored": totp.data["secret"],
        "recovery codes seed": codes.instance.data["seed"],
        "calendar token": calendar_token,
        "calendar token hash": CalendarFeed.objects.get(owner=member).token_hash,
        "invitation token": invitation_token,
        "invitation token hash": invitation_hash,
        "session key": session.session_key,
    }
    for what, value in secrets.items():
        assert value and value not in text, what
    for code in codes.get_unused_codes():
        assert code not in text
    # What is there: the names and dates of the sign-in methods, and that a feed exists.
    profile = json.loads(unzipped(export_self_data(self_=member, now=now))["profile.json"])
    kinds = {factor["kind"] for factor in profile["sign_in"]["second_factors"]}
    assert kinds == {"authenticator app", "recovery codes"}
    assert profile["calendar_feed"]["exists"] is True
    assert profile["sign_in"]["sessions"][0]["device"].startswith("Firefox")


def test_a_facilitator_who_removed_them_and_a_deduction_s_recorder_are_not_named(
    congregation: Congregation, facilitator: Self, member: Self, crew: Crew, now: datetime
) -> None:
    """Who is not a crew-mate, a conflict party or a co-owner is not named, even where a
    row of theirs names them."""
    change_role(
        membership=membership_of(member, congregation), role="facilitator", changed_by=facilitator
    )
    held_meeting(crew, [p for p in people(crew) if p != member], now - 3 * DAY)
    apply_missed_meeting_deductions(congregation=congregation, now=now)

    files = unzipped(export_self_data(self_=member, now=now))

    assert facilitator.display_name not in "".join(files.values())
    (kotahi,) = json.loads(files["congregations.json"])
    history = [(e["action"], e["by_you"]) for e in kotahi["membership_history"]]
    assert history[-1] == ("made facilitator", False)
    rules = [row["rule"] for row in csv.DictReader(io.StringIO(files["ledger.csv"]))]
    assert "missed a meeting" in rules


def test_the_readme_says_the_times_are_utc_and_names_the_self_s_own_timezone(
    member: Self, now: datetime
) -> None:
    """A person reading "2026-07-12T17:00:00Z" beside a meeting they went to at seven in the
    evening is told why, in their own zone."""
    Self.objects.filter(pk=member.pk).update(timezone="Pacific/Auckland")
    member.refresh_from_db()
    moment = datetime(2026, 7, 12, 17, 0, tzinfo=UTC)

    readme = unzipped(export_self_data(self_=member, now=moment))["README.txt"]

    assert "made 2026-07-13 05:00 (Pacific/Auckland)" in readme
    assert "Every time in these files is in UTC" in readme


def test_the_archive_reads_as_many_queries_for_months_of_meetings_as_for_one(
    congregation: Congregation, member: Self, crew: Crew, crew_mate: Self, now: datetime
) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            export_self_data(self_=member, now=now)
        return len(captured)

    meeting = held_meeting(crew, now=now - 170 * DAY)
    money_round(meeting, member, crew_mate)
    conflict(crew, member, crew_mate)
    venture(congregation, member, crew_mate)
    few = queries()
    for month in range(1, 5):
        meeting = held_meeting(crew, now=now - (170 - 30 * month) * DAY)
        money_round(meeting, member, crew_mate)

    assert queries() == few <= 32
