from django.db import models


class Heartbeat(models.Model):
    """When a periodic task last finished, so /healthz can tell a stale schedule."""

    task = models.CharField(max_length=200, unique=True)
    last_run_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.task} at {self.last_run_at:%Y-%m-%d %H:%M:%S}"


class ItemFailure(models.Model):
    """An item of a periodic job that raised: its error, how often, and when to try again.
    The item's own transaction was rolled back; the rest of its batch went on. Cleared when
    the item succeeds; ``gave_up_at`` set after the last attempt, for an operator to see."""

    job = models.CharField(max_length=100)
    item_id = models.BigIntegerField()
    congregation_id = models.BigIntegerField(null=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField()
    first_failed_at = models.DateTimeField()
    retry_after = models.DateTimeField()
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "item_id"], name="one_failure_per_job_item")
        ]

    def __str__(self) -> str:
        return f"{self.job} #{self.item_id}: {self.last_error[:80]}"
