"""``dumpdata`` as the schema's owner: outside a congregation's walls row-level security
shows the runtime role no tenant rows, so a dump made with its credentials would be a
backup without a single congregation in it, and say nothing."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import dumpdata

from congregations.rls import as_owner


class Command(dumpdata.Command):
    def handle(self, *app_labels: str, **options: Any) -> None:
        with as_owner(options["database"]):
            super().handle(*app_labels, **options)
