from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MicrosolidarityConfig(AppConfig):
    """The project package as an app: it holds the periodic-task heartbeat and its schedule."""

    name = "microsolidarity"

    def ready(self) -> None:
        from .schedule import sync_periodic_tasks

        post_migrate.connect(sync_periodic_tasks, sender=self)
