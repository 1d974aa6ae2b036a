"""Keys that make a form's submission idempotent. A page hands its form a fresh key; the
service that records the form's thing stores it, and a second submission with the same key
gets the thing already recorded instead of a copy. Keys are signed and name their
congregation, so a key taken from one congregation is refused in another."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError

from congregations.models import Congregation

SALT = "reciprocity.request-key"
# A form left open longer than this is refused, and a reload gives it a fresh key.
MAX_AGE = timedelta(days=7)


def new_request_key(congregation: Congregation) -> str:
    return signing.dumps([congregation.pk, secrets.token_hex(12)], salt=SALT)


def check_request_key(key: str, congregation: Congregation) -> str:
    try:
        congregation_id, _ = signing.loads(key, salt=SALT, max_age=MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        raise ValidationError(
            "This form has expired or was changed. Reload the page and try again."
        ) from None
    if congregation_id != congregation.pk:
        raise ValidationError(
            "This form belongs to another congregation. Reload the page and try again."
        )
    return key
