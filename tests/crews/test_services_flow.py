"""The rules of crews, dyads and meetings, through the services. Every refusal says what
is wrong and writes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from congregations.models import Congregation, Self
from congregations.tenancy import tenant
from crews import services
from crews.models import Attendance, Crew, CrewInvitation, CrewMembership, Kind, Meeting
from crews.selectors import current_members, members_at
from reciprocity.models import LedgerEntry
from tests.builders import new_members, scheduled_meeting, writes_nothing


class TestForming:
    def test_a_proposal_forms_once_three_have_joined(
        self, congregation: Congregation, member: Self, now: datetime
    ) -> None:
        first, second, third = new_members(congregation, 3)
        crew = services.propose_crew(
            congregation=congregation,
            name="Gardeners",
            proposed_by=member,
            invitees=[first, second, third],
            now=now,
        )
        assert crew.formed_at is None
        with tenant(crew):
            invitations = {i.invitee: i for i in CrewInvitation.objects.filter(crew=crew)}
        assert set(invitations) == {first, second, third}

        services.answer_crew_invitation(
            invitation=invitations[first], answered_by=first, accept=True, now=now
        )
        with tenant(crew):
            crew.refresh_from_db()
        assert crew.formed_at is None

        services.answer_crew_invitation(
            invitation=invitations[second], answered_by=second, accept=False, now=now
        )
        services.answer_crew_invitation(
            invitation=invitations[third], answered_by=third, accept=True, now=now
        )
        with tenant(crew):
            crew.refresh_from_db()
            assert set(current_members(crew=crew)) == {member, first, third}
        assert crew.formed_at == now

    def test_a_dyad_forms_at_two(self, congregation: Congregation, member: Self) -> None:
        (partner,) = new_members(congregation, 1)
        dyad = services.propose_crew(
            congregation=congregation,
            name="Pair",
            kind=Kind.DYAD,
            proposed_by=member,
            invitees=[partner],
        )
        with tenant(dyad):
            invitation = CrewInvitation.objects.get(crew=dyad)
        services.answer_crew_invitation(invitation=invitation, answered_by=partner, accept=True)
        with tenant(dyad):
            dyad.refresh_from_db()
        assert dyad.formed_at is not None
        assert dyad.is_dyad

    def test_a_crew_of_nine_is_refused(self, congregation: Congregation) -> None:
        nine = new_members(congregation, 9)
        with writes_nothing(), pytest.raises(ValidationError, match="3 to 8 people; this has 9"):
            services.form_crew(congregation=congregation, name="Big", members=nine)

    def test_a_dyad_of_three_is_refused(self, congregation: Congregation) -> None:
        people = new_members(congregation, 3)
        with writes_nothing(), pytest.raises(ValidationError, match="exactly 2 people"):
            services.form_crew(congregation=congregation, name="Trio", members=people, kind="dyad")

    def test_proposing_a_dyad_with_two_invitees_is_refused(
        self, congregation: Congregation, member: Self
    ) -> None:
        people = new_members(congregation, 2)
        with writes_nothing(), pytest.raises(ValidationError, match="invite at most 1"):
            services.propose_crew(
                congregation=congregation,
                name="Pair",
                kind=Kind.DYAD,
                proposed_by=member,
                invitees=people,
            )

    def test_the_ninth_is_not_asked_while_the_eighth_seat_is_offered(
        self, congregation: Congregation, member: Self, now: datetime
    ) -> None:
        crew = services.form_crew(
            congregation=congregation, name="Full", members=[member, *new_members(congregation, 6)]
        )
        eighth, ninth = new_members(congregation, 2)
        services.invite_to_crew(crew=crew, invitee=eighth, invited_by=member)

        with writes_nothing(), pytest.raises(ValidationError, match="Full has no free seat"):
            services.invite_to_crew(crew=crew, invitee=ninth, invited_by=member)
        with tenant(crew):
            assert CrewInvitation.objects.filter(crew=crew).count() == 1

    def test_inviting_into_a_full_crew_is_refused(
        self, congregation: Congregation, member: Self
    ) -> None:
        crew = services.form_crew(
            congregation=congregation, name="Full", members=[member, *new_members(congregation, 7)]
        )
        (ninth,) = new_members(congregation, 1)
        with writes_nothing(), pytest.raises(ValidationError, match="at most 8"):
            services.invite_to_crew(crew=crew, invitee=ninth, invited_by=member)

    @pytest.mark.parametrize("how", ["form", "propose", "invite"])
    def test_a_member_of_another_congregation_is_refused(
        self, how: str, congregation: Congregation, member: Self, crew: Crew, outsider: Self
    ) -> None:
        (other,) = new_members(congregation, 1)
        with writes_nothing(), pytest.raises(ValidationError, match="Not a member of Kotahi"):
            if how == "form":
                services.form_crew(
                    congregation=congregation,
                    name="Mixed",
                    members=[member, other, outsider],
                )
            elif how == "propose":
                services.propose_crew(
                    congregation=congregation,
                    name="Mixed",
                    proposed_by=member,
                    invitees=[outsider],
                )
            else:
                services.invite_to_crew(crew=crew, invitee=outsider, invited_by=member)

    def test_a_name_taken_in_the_congregation_is_refused_in_words(
        self, congregation: Congregation, member: Self, crew: Crew
    ) -> None:
        (other,) = new_members(congregation, 1)
        with writes_nothing(), pytest.raises(ValidationError) as refused:
            services.propose_crew(
                congregation=congregation,
                name="tuesday CREW",
                proposed_by=member,
                invitees=[other],
            )
        assert refused.value.message_dict == {
            "name": ["There is already a crew called “tuesday CREW”."]
        }

    def test_only_the_invitee_answers(
        self, congregation: Congregation, member: Self, crew_mate: Self
    ) -> None:
        crew = services.propose_crew(
            congregation=congregation, name="Asked", proposed_by=member, invitees=[crew_mate]
        )
        with tenant(crew):
            invitation = CrewInvitation.objects.get(crew=crew)
        with writes_nothing(), pytest.raises(ValidationError, match="Only the person invited"):
            services.answer_crew_invitation(invitation=invitation, answered_by=member, accept=True)

    def test_leaving_keeps_who_was_there(self, crew: Crew, member: Self, now: datetime) -> None:
        before = now - timedelta(days=1)
        services.leave_crew(crew=crew, member=member, now=now)
        with tenant(crew):
            assert member not in current_members(crew=crew)
            assert member in members_at(crew=crew, moment=before)


class TestScheduling:
    def test_a_meeting_in_the_past_is_refused(
        self, crew: Crew, member: Self, now: datetime
    ) -> None:
        with writes_nothing(), pytest.raises(ValidationError, match="Choose a time in the future"):
            services.schedule_meeting(
                crew=crew, starts_at=now - timedelta(minutes=1), scheduled_by=member, now=now
            )

    def test_only_crew_members_schedule(self, crew: Crew, neighbour: Self, now: datetime) -> None:
        with writes_nothing(), pytest.raises(ValidationError, match="Only members of this crew"):
            services.schedule_meeting(
                crew=crew, starts_at=now + timedelta(days=1), scheduled_by=neighbour, now=now
            )

    def test_a_stale_reschedule_is_refused(
        self, upcoming_meeting: Meeting, member: Self, crew_mate: Self, now: datetime
    ) -> None:
        seen = upcoming_meeting.version
        services.reschedule_meeting(
            meeting=upcoming_meeting,
            changed_by=crew_mate,
            starts_at=now + timedelta(days=8),
            version=seen,
            now=now,
        )
        with writes_nothing(), pytest.raises(ValidationError, match="Someone else changed"):
            services.reschedule_meeting(
                meeting=upcoming_meeting,
                changed_by=member,
                starts_at=now + timedelta(days=9),
                version=seen,
                now=now,
            )
        with tenant(upcoming_meeting):
            upcoming_meeting.refresh_from_db()
        assert upcoming_meeting.starts_at == now + timedelta(days=8)

    def test_a_stale_cancel_is_refused(
        self, upcoming_meeting: Meeting, member: Self, crew_mate: Self, now: datetime
    ) -> None:
        seen = upcoming_meeting.version
        services.reschedule_meeting(
            meeting=upcoming_meeting,
            changed_by=crew_mate,
            starts_at=upcoming_meeting.starts_at,
            place="the park",
            version=seen,
            now=now,
        )
        with writes_nothing(), pytest.raises(ValidationError, match="Someone else changed"):
            services.cancel_meeting(
                meeting=upcoming_meeting, cancelled_by=member, version=seen, now=now
            )

    def test_a_started_meeting_cannot_be_cancelled(
        self, started_meeting: Meeting, member: Self, now: datetime
    ) -> None:
        with writes_nothing(), pytest.raises(ValidationError, match="has started"):
            services.cancel_meeting(meeting=started_meeting, cancelled_by=member, now=now)


class TestLogging:
    def test_a_meeting_that_has_not_started_cannot_be_logged(
        self, upcoming_meeting: Meeting, member: Self, now: datetime
    ) -> None:
        with writes_nothing(), pytest.raises(ValidationError, match="has not started yet"):
            services.log_meeting(
                meeting=upcoming_meeting, present=[member], logged_by=member, now=now
            )

    def test_past_the_grace_period_it_cannot_be_logged(
        self, crew: Crew, member: Self, now: datetime
    ) -> None:
        meeting = scheduled_meeting(crew, now - timedelta(hours=49))
        with writes_nothing(), pytest.raises(ValidationError, match="within 48 hours"):
            services.log_meeting(meeting=meeting, present=[member], logged_by=member, now=now)

    def test_someone_not_in_the_crew_at_its_start_is_refused(
        self,
        congregation: Congregation,
        crew: Crew,
        started_meeting: Meeting,
        member: Self,
        now: datetime,
    ) -> None:
        (late,) = new_members(congregation, 1)
        # Joined after the meeting started: not a member at the time of the meeting.
        with tenant(congregation):
            CrewMembership.objects.create(
                congregation=congregation, crew=crew, member=late, joined_at=now
            )
        with writes_nothing(), pytest.raises(ValidationError, match="Not in Tuesday crew"):
            services.log_meeting(
                meeting=started_meeting, present=[member, late], logged_by=member, now=now
            )
        with writes_nothing(), pytest.raises(ValidationError, match="was not in Tuesday crew"):
            services.mark_attendance(
                meeting=started_meeting, member=late, present=True, marked_by=member, now=now
            )

    def test_a_stale_notes_edit_is_refused(
        self, started_meeting: Meeting, member: Self, crew_mate: Self, now: datetime
    ) -> None:
        logged = services.log_meeting(
            meeting=started_meeting, present=[member], logged_by=member, now=now
        )
        services.update_meeting_notes(
            meeting=logged,
            edited_by=crew_mate,
            reflections="We laughed.",
            envisioning="",
            version=logged.version,
        )
        with writes_nothing(), pytest.raises(ValidationError, match="Someone else changed"):
            services.update_meeting_notes(
                meeting=logged,
                edited_by=member,
                reflections="Mine.",
                envisioning="",
                version=logged.version,
            )

    def test_taps_are_a_draft_that_logging_fixes(
        self, crew: Crew, started_meeting: Meeting, member: Self, crew_mate: Self, now: datetime
    ) -> None:
        services.mark_attendance(
            meeting=started_meeting, member=crew_mate, present=True, marked_by=member, now=now
        )
        services.mark_attendance(
            meeting=started_meeting, member=crew_mate, present=False, marked_by=member, now=now
        )
        services.log_meeting(meeting=started_meeting, present=[member], logged_by=member, now=now)
        with tenant(crew):
            marked = dict(
                Attendance.objects.filter(meeting=started_meeting).values_list("member", "present")
            )
            everyone = list(current_members(crew=crew))
        assert marked == {m.pk: m == member for m in everyone}
        with writes_nothing(), pytest.raises(ValidationError, match="logged already"):
            services.mark_attendance(
                meeting=started_meeting, member=crew_mate, present=True, marked_by=member, now=now
            )

    def test_consistency_points_are_1_3_5_5(
        self, crew: Crew, member: Self, crew_mate: Self, now: datetime
    ) -> None:
        for weeks_ago in (4, 3, 2, 1):
            meeting = scheduled_meeting(crew, now - timedelta(weeks=weeks_ago))
            services.log_meeting(
                meeting=meeting,
                present=[member],
                logged_by=crew_mate,
                now=meeting.starts_at + timedelta(hours=2),
            )
        with tenant(crew):
            points = LedgerEntry.objects.filter(member=member, crew=crew).order_by("occurred_at")
            assert list(points.values_list("points", flat=True)) == [1, 3, 5, 5]
            assert not LedgerEntry.objects.filter(member=crew_mate).exists()
