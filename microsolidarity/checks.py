"""Checks ``manage.py check --deploy`` runs beside Django's own."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(**_: Any) -> list[CheckMessage]:
    """Every link in an email is under SITE_URL. Mail providers honour only an HTTPS
    one-click unsubscribe link (RFC 8058), and the default, a local address, is one no
    member can open."""
    if settings.SITE_URL.startswith("https://"):
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: links in emails must be the site's public "
            "HTTPS address.",
            hint="Set SITE_URL, e.g. https://microsolidarity.example.org.",
            id="microsolidarity.W001",
        )
    ]
