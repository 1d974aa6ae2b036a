"""Keys that make a form's submission idempotent. A page hands its form a fresh key; the
service that records the form's thing stores it, and a second submission with the same key
(a double click, a reload, a retry on a flaky connection) gets the thing already recorded
instead of a copy. Keys are signed and name their owner: the congregation the thing
belongs to, or for what belongs to no congregation yet, the Self starting it; a key taken
from one owner is refused for another.

This is the bottom of the dependency order, so every app's services and forms use it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TypeVar

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.translation import gettext_lazy as _

from .models import Congregation, RequestKeyed, Self

# A form left open longer than this is refused, and a reload gives it a fresh key.
MAX_AGE = timedelta(days=7)

EXPIRED = _("This form has expired or was changed. Reload the page and try again.")
SPENT_KEY = _("This form has been used already for something else. Reload the page and try again.")

Owner = Congregation | Self
M = TypeVar("M", bound=RequestKeyed)


def _salt(owner: Owner) -> str:
    # isinstance, not type(): a view's request.user is a lazy stand-in for the Self.
    if isinstance(owner, Congregation):
        # Unchanged since keys were the game's alone: forms open across that change work.
        return "reciprocity.request-key"
    return "congregations.self-request-key"


def new_request_key(owner: Owner) -> str:
    return signing.dumps([owner.pk, secrets.token_hex(12)], salt=_salt(owner))


def check_request_key(key: str, owner: Owner) -> str:
    try:
        owner_id, _nonce = signing.loads(key, salt=_salt(owner), max_age=MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError(EXPIRED) from None
    if owner_id != owner.pk:
        raise ValidationError(
            _("This form belongs to another congregation. Reload the page and try again.")
            if isinstance(owner, Congregation)
            else _("This form belongs to someone else. Reload the page and try again.")
        )
    return key


def replayed(
    model: type[M],
    request_key: str | None,
    owner: Owner,
    *,
    per: Mapping[str, object] | None = None,
    **same: object,
) -> M | None:
    """The row an earlier submission of the same form made, if any. A tenant-owned row is
    looked up in ``owner``'s congregation; ``per`` narrows the lookup where one submission
    makes several rows (one per address of a batch). A key that is forged, belongs to
    another owner, or was spent on a row that differs from this call in ``same`` (field
    name: value, a model instance for a foreign key) is refused. The caller holds a lock
    that makes identical submissions take turns, so the second finds what the first made."""
    if not request_key:
        return None
    check_request_key(request_key, owner)
    lookup: dict[str, Any] = {"request_key": request_key, **(per or {})}
    if isinstance(owner, Congregation):
        lookup["congregation"] = owner
    earlier = model._default_manager.filter(**lookup).first()
    if earlier is not None and any(
        _value(earlier, name, value) != (value.pk if isinstance(value, Model) else value)
        for name, value in same.items()
    ):
        raise ValidationError(SPENT_KEY)
    return earlier


def _value(row: Model, name: str, like: object) -> object:
    return getattr(row, f"{name}_id" if isinstance(like, Model) else name)


def stored(request_key: str | None) -> str | None:
    """The column's value: NULL for a row made without a form, as NULLs never collide."""
    return request_key or None


class KeyedForm(forms.Form):
    """A form whose submission is recorded once: it carries a signed key naming its owner
    (``key_owner``), which the service stores with what it records."""

    request_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, key_owner: Owner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["request_key"].initial = new_request_key(key_owner)
