"""Deleting one account from two tabs at once: one deletion happens, the other is told it
already has, and the Self leaves each congregation once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from congregations.models import Congregation, MembershipEvent, Self
from congregations.tenancy import tenant
from privacy.services import erase_self
from tests.builders import all_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_deletions_at_once_erase_once(member: Self, congregation: Congregation) -> None:
    results = all_at_once(2, lambda: erase_self(self_=member), congregation=congregation)

    erased = [r for r in results if isinstance(r, Self)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(erased) == 1 and len(refused) == 1, results
    assert refused[0].messages == ["This account has been deleted already."]
    with tenant(congregation):
        left = MembershipEvent.objects.filter(subject=member, action=MembershipEvent.Action.LEFT)
        assert left.count() == 1
