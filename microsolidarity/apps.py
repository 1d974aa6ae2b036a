from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MicrosolidarityConfig(AppConfig):
    """The project package as an app: it holds the periodic-task heartbeat and its schedule."""

    name = "microsolidarity"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from . import checks  # noqa: F401 (registers the deploy checks)
        from .middleware import on_signed_in
        from .schedule import sync_periodic_tasks

        post_migrate.connect(sync_periodic_tasks, sender=self)
        user_logged_in.connect(on_signed_in, dispatch_uid="last_seen.signed_in")
