"""Checks on what people type, shared by the models (so ``full_clean`` in a service applies
them) and the forms (so a refusal shows next to the field)."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.encoding import punycode
from django.utils.translation import gettext_lazy as _

# Unicode's own line and paragraph separators break a line without being control characters.
_LINE_SEPARATORS = frozenset("\u2028\u2029")


def single_line(value: str) -> None:
    """Refuse line breaks, tabs and every other control character in a one-line text: a
    name or a title ends up in email headers and one-line lists, where they break things."""
    if any(unicodedata.category(c) == "Cc" or c in _LINE_SEPARATORS for c in value):
        raise ValidationError(
            _("Keep this on one line, without line breaks, tabs or other control characters."),
            code="single_line",
        )


def deliverable_address(value: str) -> None:
    """Refuse an address ``validate_email`` lets through that no email can be sent to: a
    domain the mail's IDNA encoding refuses, such as one holding a right-to-left mark or
    mixing scripts against the bidi rules. Sending would fail every time, in the outbox."""
    try:
        punycode(value.rpartition("@")[2])
    except UnicodeError:
        raise ValidationError(
            _("No email can be sent to this address."), code="undeliverable"
        ) from None
