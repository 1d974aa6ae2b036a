"""A Self's data archive, kept only between being built and being downloaded (a day at
most)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.timezone import now

from congregations.models import Self


class DataArchive(models.Model):
    """Everything the app holds about a Self, as a zip, asked for from the profile.

    Not tenant-owned: it spans every congregation of its owner. The zip is kept in the
    database (a BinaryField) rather than in file storage: there is no shared file storage
    between web and worker processes, the archive is small (text, a few hundred KB for
    years of use), and it goes with the row when the row goes. Only the hash of the
    emailed link's token is kept."""

    owner = models.ForeignKey(Self, on_delete=models.PROTECT, related_name="data_archives")
    requested_at = models.DateTimeField(default=now)
    # Set by the task once the zip is built and the email with its link is queued.
    ready_at = models.DateTimeField(null=True, blank=True)
    content = models.BinaryField(blank=True, default=b"")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The link works once: set (and the content emptied) by the first download.
    downloaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Asking again while one is being prepared prepares nothing more.
            models.UniqueConstraint(
                fields=["owner"], condition=Q(ready_at__isnull=True), name="one_archive_in_making"
            ),
        ]

    def __str__(self) -> str:
        return f"data archive of {self.owner}"
