"""``migrate`` as the schema's owner, then the database's wall put on what it made."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.commands import migrate

from congregations.rls import as_owner, secure


class Command(migrate.Command):
    help = "Migrates as DATABASE_OWNER_URL's role, then secures every tenant table."

    def handle(self, *args: Any, **options: Any) -> None:
        with as_owner(options["database"]) as connection:
            super().handle(*args, **options)
            if not (options["plan"] or options["check_unapplied"]):
                secure(connection, settings.DATABASE_RUNTIME_ROLE)
