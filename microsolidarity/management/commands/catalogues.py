"""``manage.py catalogues``: bring locale/es and locale/de up to date with every string
marked for translation, as a translator needs them (makemessages with this project's
options). tests/test_translations.py runs the same and fails when it would add a string
the committed catalogues lack."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

# What makemessages reads is the app; the suite, the bench and what is built or installed
# are not (folders starting with "." are skipped by makemessages itself: .venv).
IGNORED = ["var/*", "tests/*", "bench/*", "staticfiles/*", "build/*", "*.egg-info/*"]


def translated_languages() -> list[str]:
    """Every language the app speaks but the one its strings are written in."""
    return [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]


def update_catalogues(**options: Any) -> None:
    call_command(
        "makemessages",
        locale=translated_languages(),
        ignore_patterns=IGNORED,
        # File names without line numbers: a line added above a string moves nothing.
        add_location="file",
        no_obsolete=True,
        verbosity=0,
        **options,
    )


class Command(BaseCommand):
    help = "Update locale/*/LC_MESSAGES/django.po with every string marked for translation."

    def handle(self, *args: Any, **options: Any) -> None:
        update_catalogues()
