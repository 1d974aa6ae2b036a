"""Download my data: asked for from the profile, built by a task, fetched once by its
owner through the emailed link within a day."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import InterfaceError, OperationalError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from congregations import tasks as congregation_tasks
from congregations.models import Self
from congregations.selectors import memberships_of
from congregations.services import Outgoing, queue_emails
from congregations.tenancy import tenant
from congregations.tokens import hash_token, new_token
from microsolidarity.enqueue import enqueue_after_commit

from .. import tasks
from ..models import DataArchive
from .archive import export_self_data

logger = logging.getLogger(__name__)

# Translators: a congregation is the whole community of members (the proposal's
# "Congregation").
NO_CONGREGATION = _(
    "Your data is emailed to you through one of your congregations, and you belong to none "
    "now. Write to the people who run this site and they will send it to you."
)
# How many archives one run of the task prepares; the rest wait a minute for the next.
BATCH = 20


@transaction.atomic
def request_archive(*, self_: Self, now: datetime | None = None) -> DataArchive:
    """Ask for an archive of everything the app holds about ``self_``; while one is being
    prepared, asking again returns that one and queues nothing more."""
    now = now or timezone.now()
    if not memberships_of(self_=self_):
        raise ValidationError(NO_CONGREGATION)
    archive, created = DataArchive.objects.get_or_create(
        owner=self_, ready_at__isnull=True, defaults={"requested_at": now}
    )
    if created:
        # A head start: the periodic run prepares it anyway if the broker is down.
        enqueue_after_commit(tasks.prepare_archives)
    return archive


def prepare_due_archives(*, now: datetime | None = None) -> int:
    """Prepare the archives asked for; returns how many were emailed. Each is prepared in
    its own transaction, so one that fails is logged and left for the next run while the
    others go out (one that never succeeds is dropped by the retention job after a day)."""
    now = now or timezone.now()
    waiting = DataArchive.objects.filter(ready_at__isnull=True).order_by("pk")
    prepared = 0
    for archive_id in list(waiting.values_list("pk", flat=True)[:BATCH]):
        try:
            prepared += prepare_archive(archive_id=archive_id, now=now)
        except (OperationalError, InterfaceError):
            raise  # nobody's archive's fault: the task runs again
        except Exception:
            logger.exception("prepare_archives: archive %s failed", archive_id)
    return prepared


@transaction.atomic
def prepare_archive(*, archive_id: int, now: datetime | None = None) -> int:
    """Build the archive, keep it with the hash of a new link's token, and email the link
    (the raw token is only in the email); 1 if it did, 0 if another run has it or had it."""
    now = now or timezone.now()
    archive = (
        DataArchive.objects.select_for_update(skip_locked=True)
        .select_related("owner")
        .filter(pk=archive_id, ready_at__isnull=True)
        .first()
    )
    if archive is None:
        return 0
    owner = archive.owner
    memberships = memberships_of(self_=owner)
    if owner.anonymised_at or not memberships:
        # They left for good, or left every congregation, since asking: nobody to email.
        archive.delete()
        return 0
    token, archive.token_hash = new_token()
    # Its words (the README, the ledger's headings and reasons) in the owner's language.
    with translation.override(owner.email_language):
        archive.content = export_self_data(self_=owner, now=now)
    archive.ready_at = now
    archive.expires_at = now + settings.PRIVACY_ARCHIVE_LIFETIME
    archive.save()
    # The outbox sends a Self's email in one of their congregations (it checks they still
    # belong there): any current membership's will do, the first by name.
    congregation_id = memberships[0].congregation_id
    with tenant(congregation_id):
        queue_emails(
            [
                Outgoing(
                    congregation_id=congregation_id,
                    key=f"data-archive:{archive.pk}",
                    subject=_("Your data from Microsolidarity"),
                    template="privacy/email/archive_ready.txt",
                    recipient=owner,
                    context={
                        "url": settings.SITE_URL + reverse("privacy:archive", args=[token]),
                        "hours": int(settings.PRIVACY_ARCHIVE_LIFETIME.total_seconds() // 3600),
                    },
                )
            ],
            now=now,
        )
    enqueue_after_commit(congregation_tasks.send_emails)
    return 1


@transaction.atomic
def download_archive(*, token: str, self_: Self, now: datetime | None = None) -> bytes | None:
    """The archive's zip, once, to its owner, before it expires; None otherwise (a second
    download, someone else's link, an old one). The zip is dropped as it is handed over."""
    now = now or timezone.now()
    archive = (
        DataArchive.objects.select_for_update()
        .filter(
            token_hash=hash_token(token),
            owner=self_,
            downloaded_at__isnull=True,
            expires_at__gt=now,
        )
        .first()
    )
    if archive is None:
        return None
    content = bytes(archive.content)
    archive.downloaded_at, archive.content = now, b""
    archive.save(update_fields=["downloaded_at", "content"])
    return content
