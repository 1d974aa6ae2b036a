from django.db import models


class Heartbeat(models.Model):
    """When a periodic task last finished, so /healthz can tell a stale schedule."""

    task = models.CharField(max_length=200, unique=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.task} at {self.last_run_at:%Y-%m-%d %H:%M:%S}"
