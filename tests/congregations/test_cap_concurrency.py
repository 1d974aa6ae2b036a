"""People accepting invitations at the same moment, against real PostgreSQL: each thread
has its own connection and transaction, released together by a barrier."""

from __future__ import annotations

from functools import partial

import pytest
from django.core.exceptions import ValidationError

from congregations.models import Congregation, Membership, Self
from congregations.services import accept_invitation
from congregations.tenancy import tenant
from tests.builders import together

from .test_setting_bounds import at_cap_with_invitations

pytestmark = pytest.mark.django_db(transaction=True)

REQUESTS = 20


def test_twenty_acceptances_at_one_below_the_cap_let_exactly_one_in(
    congregation: Congregation, facilitator: Self
) -> None:
    invited = at_cap_with_invitations(congregation, facilitator, REQUESTS)

    results = together(
        [partial(accept_invitation, token=token, self_=guest) for guest, token in invited],
        congregation=congregation,
    )

    joined = [r for r in results if isinstance(r, Membership)]
    refusals = [r for r in results if isinstance(r, ValidationError)]
    assert len(joined) == 1
    assert len(refusals) == REQUESTS - 1
    assert all("Kotahi is full" in r.messages[0] for r in refusals)
    with tenant(congregation):
        assert Membership.objects.current().filter(congregation=congregation).count() == 2
