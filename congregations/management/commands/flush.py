"""``flush`` as the schema's owner: emptying tables (the test suite's transactional tests
do after each) is the owner's to do, never the runtime role's."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from congregations.rls import as_owner


class Command(flush.Command):
    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(*args, **options)
