"""When a Self leaves a crew or the congregation, nothing of the game waits on them any
more: the rule is ``reciprocity.rules.WHEN_SOMEONE_LEAVES``. Crews' services call this in
the transaction that ends the membership, after its crew invitations are withdrawn."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from congregations.history import Detail, withdrew
from congregations.models import Congregation, Self
from congregations.services.notifications import mark_read
from congregations.tenancy import tenant_service
from crews.models import Attendance, Crew, CrewMembership

from ..models import Dispute
from .conflicts import leave_conflicts
from .ventures import leave_ventures


@tenant_service
@transaction.atomic
def release_departed(
    *,
    congregation: Congregation,
    member: Self,
    crew: Crew | None = None,
    now: datetime | None = None,
) -> list[Detail]:
    """Settle what of the game waited on ``member``, who has just left ``crew`` (None: the
    congregation, and with it every crew). Returns what was withdrawn or settled, as
    details of the congregation's History; nothing when nothing waited on them."""
    now = now or timezone.now()
    done = leave_conflicts(congregation=congregation, member=member, crew=crew, now=now)
    if crew is None:
        # Ventures belong to the congregation, not to a crew.
        done += leave_ventures(congregation=congregation, member=member, now=now)
    withdrawn = _withdraw_disputes(congregation, member, crew, now)
    if withdrawn:
        done.append(withdrew("disputes", withdrawn))
    return done


def _withdraw_disputes(
    congregation: Congregation, member: Self, crew: Crew | None, now: datetime
) -> int:
    """A pending dispute the member made, or one that now waits only for crew-mates who
    have all left the crew, is withdrawn: nobody is left to settle it."""
    pending = Dispute.objects.filter(
        congregation=congregation, confirmed_at__isnull=True, withdrawn_at__isnull=True
    )
    if crew is not None:
        pending = pending.filter(entry__crew=crew)
    # Who could still confirm a dispute: a crew-mate marked present who is still in the crew.
    in_crew = CrewMembership.objects.current().filter(
        crew_id=OuterRef(OuterRef("entry__crew_id")), member_id=OuterRef("member_id")
    )
    confirmers = (
        Attendance.objects.filter(meeting_id=OuterRef("entry__meeting_id"), present=True)
        .exclude(member_id=OuterRef("disputed_by_id"))
        .filter(Exists(in_crew))
    )
    attended = Attendance.objects.filter(member=member, present=True).values("meeting_id")
    stranded = Q(entry__meeting_id__in=attended) & ~Exists(confirmers)
    ids = list(pending.filter(Q(disputed_by=member) | stranded).values_list("pk", flat=True))
    Dispute.objects.filter(pk__in=ids).update(withdrawn_at=now)
    for pk in ids:
        mark_read(congregation_id=congregation.pk, about=f"dispute:{pk}", now=now)
    return len(ids)
