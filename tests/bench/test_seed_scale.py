"""The bench's seeded world at a tiny scale: the same seed gives the same rows, and the rows
are what the services would have written, so the missed-meeting job finds exactly one
month's work in them and the bench's SQL floor agrees with it. The rows are loaded as
`bench seed` loads them, as the schema's owner; each congregation's are read back behind
its own walls."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.hashers import check_password, get_hasher
from django.db.models import F

from bench import deductions
from bench.management.commands.seed import password_hash
from bench.rows import TABLES
from bench.world import PASSWORD, Shape, World
from congregations.models import Congregation
from congregations.tenancy import across_congregations, tenant
from crews.models import Attendance, Crew, Meeting, MeetingStatus
from crews.selectors import members_at
from reciprocity.models import (
    Conflict,
    ConflictStatus,
    CoOwner,
    LedgerEntry,
    ListeningRound,
    MoneyRound,
    Venture,
)
from reciprocity.rules import POINTS, Rule, consistency_points
from reciprocity.services import apply_missed_meeting_deductions
from reciprocity.services.consistency import MEETINGS_A_RUN

from .owner import load_world

TINY = Shape(congregations=2, members=20, months=14)
UNTIL = date(2026, 3, 1)
NOW = datetime(2026, 3, 1, tzinfo=UTC)


def world(seed: int = 7) -> World:
    return World(shape=TINY, seed=seed, until=UNTIL, password="not-a-real-hash")


def rows(generated: World) -> list[dict[type, list[tuple]]]:
    return [dict(congregation) for congregation in generated.congregations()]


def test_the_seeded_password_is_not_hashed_again_at_sign_in() -> None:
    hashed = password_hash(1)
    assert check_password(PASSWORD, hashed)
    assert not get_hasher().must_update(hashed)


def test_the_same_seed_gives_the_same_rows_and_another_seed_others() -> None:
    assert rows(world()) == rows(world())
    assert rows(world()) != rows(world(seed=8))


@pytest.fixture
def loaded(transactional_db: None) -> dict[str, int]:
    # The bulk path: constraints dropped for the load and re-added, which checks every row.
    return load_world(TINY, 7, UNTIL, bulk=True)


def congregations() -> list[Congregation]:
    return list(Congregation.objects.order_by("pk"))


def keyed(rule: Rule) -> dict[str, int]:
    return dict(LedgerEntry.objects.filter(rule=rule).values_list("idempotency_key", "points"))


def test_every_table_is_filled_and_every_row_carries_its_congregation(
    loaded: dict[str, int],
) -> None:
    assert set(loaded) == {table.name for table in TABLES}
    assert all(loaded.values())
    assert Congregation.objects.count() == 2
    for model, parent in [
        (Attendance, "meeting"),
        (Meeting, "crew"),
        (LedgerEntry, "crew"),
        (LedgerEntry, "meeting"),
        (ListeningRound, "meeting"),
        (MoneyRound, "meeting"),
        (Conflict, "crew"),
        (CoOwner, "venture"),
    ]:
        # A row whose parent is in another congregation: only a look across them sees it.
        with across_congregations():
            strays = (
                model._default_manager.filter(**{f"{parent}__isnull": False})
                .exclude(congregation_id=F(f"{parent}__congregation_id"))
                .exists()
            )
        assert not strays, f"{model.__name__} in another congregation than its {parent}"


def test_consistency_points_count_each_members_logged_meetings(loaded: dict[str, int]) -> None:
    points = set()
    for congregation in congregations():
        expected = {}
        seen: dict[tuple[int, int], int] = defaultdict(int)
        with tenant(congregation):
            for meeting_id, crew_id, member_id in (
                Attendance.objects.filter(present=True, meeting__status=MeetingStatus.LOGGED)
                .order_by("meeting__starts_at")
                .values_list("meeting_id", "meeting__crew_id", "member_id")
            ):
                seen[crew_id, member_id] += 1
                nth = seen[crew_id, member_id]
                expected[f"attended:{meeting_id}:{member_id}"] = consistency_points(nth)
            written = keyed(Rule.ATTENDED)
        assert written == expected
        points |= set(expected.values())
    assert points == {1, 3, 5}


def rounds_scored(congregation: Congregation) -> dict[Rule, tuple[dict, dict]]:
    """For each rule of the rounds: the entries the rules call for in ``congregation``, and
    those written."""
    with tenant(congregation):
        listened = {
            f"listened:{r.pk}:{p.participant_id}": POINTS[Rule.LISTENED]
            for r in ListeningRound.objects.filter(everyone_listened=True)
            for p in r.participants.all()
        }
        asked, offered, respect = {}, {}, {}
        for money in MoneyRound.objects.prefetch_related("offers"):
            offerers = {o.offerer_id for o in money.offers.all()}
            if money.asked:
                asked[f"asked:{money.pk}:{money.focus_id}"] = POINTS[Rule.ASKED]
            for person in offerers:
                offered[f"offered:{money.pk}:{person}"] = POINTS[Rule.OFFERED]
            if money.mutual_respect and offerers:
                for person in {money.focus_id, *offerers}:
                    respect[f"mutual_respect:{money.pk}:{person}"] = POINTS[Rule.MUTUAL_RESPECT]
        expected = {
            Rule.LISTENED: listened,
            Rule.ASKED: asked,
            Rule.OFFERED: offered,
            Rule.MUTUAL_RESPECT: respect,
        }
        return {rule: (entries, keyed(rule)) for rule, entries in expected.items()}


def test_rounds_score_as_the_rules_say(loaded: dict[str, int]) -> None:
    found: set[Rule] = set()
    for congregation in congregations():
        for rule, (expected, written) in rounds_scored(congregation).items():
            assert written == expected, rule
            if expected:
                found.add(rule)
    assert {Rule.ASKED, Rule.OFFERED, Rule.MUTUAL_RESPECT} <= found


def test_conflicts_and_ventures_score_once_closed_or_confirmed(loaded: dict[str, int]) -> None:
    closed = {ConflictStatus.RESOLVED: Rule.RESOLVED, ConflictStatus.UNRESOLVED: Rule.UNRESOLVED}
    closed[ConflictStatus.EXPIRED] = Rule.EXPIRED
    unconfirmed = False
    for congregation in congregations():
        expected = {}
        with tenant(congregation):
            for conflict in Conflict.objects.prefetch_related("parties"):
                rule = closed.get(ConflictStatus(conflict.status))
                if rule is None:
                    continue
                for party in conflict.parties.all():
                    outcome = "resolved" if rule == Rule.RESOLVED else "lost"
                    expected[f"conflict-{outcome}:{conflict.pk}:{party.party_id}"] = POINTS[rule]
            written = keyed(Rule.RESOLVED) | keyed(Rule.UNRESOLVED) | keyed(Rule.EXPIRED)
            co_owned = {
                f"co-owned:{share.venture_id}:{share.co_owner_id}": POINTS[Rule.CO_OWNED]
                for share in CoOwner.objects.filter(venture__confirmed_at__isnull=False)
            }
            written_co_owned = keyed(Rule.CO_OWNED)
            unconfirmed |= Venture.objects.filter(confirmed_at__isnull=True).exists()
        assert written == expected
        assert written_co_owned == co_owned
    assert unconfirmed


def missed(meetings: list[Meeting]) -> set[str]:
    """Who the rules say missed each meeting: in the crew at its start, not marked present
    at it (nobody is, at a meeting nobody logged). Called behind the meetings' walls."""
    keys = set()
    for meeting in meetings:
        if meeting.status == MeetingStatus.CANCELLED:
            continue
        here = set(meeting.attendances.filter(present=True).values_list("member_id", flat=True))
        if meeting.status != MeetingStatus.LOGGED:
            here = set()
        for person in members_at(crew=meeting.crew, moment=meeting.starts_at):
            if person.pk not in here:
                keys.add(f"missed:{meeting.pk}:{person.pk}")
    return keys


def missed_written() -> dict[str, int]:
    """Every congregation's missed-meeting entries, each read behind its own walls."""
    written: dict[str, int] = {}
    for congregation in congregations():
        with tenant(congregation):
            written |= keyed(Rule.MISSED)
    return written


def crews_of(congregation: Congregation) -> list[int]:
    with tenant(congregation):
        return list(Crew.objects.values_list("pk", flat=True))


def test_settled_meetings_have_their_deductions_and_the_last_month_is_left_to_the_job(
    loaded: dict[str, int],
) -> None:
    settled_starts, unsettled_starts = [], []
    settled_keys, due = set(), set()
    for congregation in congregations():
        with tenant(congregation):
            settled = list(Meeting.objects.filter(deductions_applied_at__isnull=False))
            unsettled = list(Meeting.objects.filter(deductions_applied_at__isnull=True))
            crews = Crew.objects.count()
            missed_early = LedgerEntry.objects.filter(meeting__in=unsettled, rule=Rule.MISSED)
            assert not missed_early.exists()
            settled_keys |= missed(settled)
            due |= missed(unsettled)
        assert len(unsettled) == crews  # one meeting each, the most recent month's
        assert all(m.starts_at < NOW - timedelta(hours=48) for m in unsettled)
        settled_starts += [m.starts_at for m in settled]
        unsettled_starts += [m.starts_at for m in unsettled]
    assert min(unsettled_starts) > max(settled_starts)
    assert set(missed_written()) == settled_keys

    assert due
    assert deductions.floor(NOW)[0][1] == len(due)
    # The bench's count of the meetings the job settles: every unsettled one, the job's.
    assert deductions.due_meetings(NOW) == sum(len(crews_of(c)) for c in congregations())
    # Timed as production runs it (after a checkpoint), and rolled back: nothing settled.
    run = deductions.production_run(NOW)
    assert run.meetings == min(MEETINGS_A_RUN, deductions.due_meetings(NOW))
    assert run.seconds > 0 and run.wal_bytes > 0
    assert set(missed_written()) == settled_keys
    assert apply_missed_meeting_deductions(now=NOW) == len(due)
    written = missed_written()
    assert set(written) == settled_keys | due
    assert all(points == POINTS[Rule.MISSED] for points in written.values())
    assert apply_missed_meeting_deductions(now=NOW) == 0
    assert deductions.floor(NOW)[0][1] == 0
    assert deductions.due_meetings(NOW) == 0
