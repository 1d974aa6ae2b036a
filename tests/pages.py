"""Reading pages as a browser shows them."""

from __future__ import annotations

import html
from typing import Any


def text(response: Any) -> str:
    """A page's HTML with its entities unescaped, so a name such as “O'Connor” or
    “Politician's assistant” compares as a person reads it, however the page escapes it."""
    return html.unescape(response.content.decode())
