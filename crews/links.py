"""Absolute links to crew pages, for emails and calendars that leave the request behind."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from .models import Crew, Meeting


def meeting_url(meeting: Meeting) -> str:
    kwargs = {"congregation_slug": meeting.congregation.slug, "pk": meeting.pk}
    return settings.SITE_URL + reverse("crews:meeting", kwargs=kwargs)


def crew_path(crew: Crew) -> str:
    kwargs = {"congregation_slug": crew.congregation.slug, "pk": crew.pk}
    return reverse("crews:crew", kwargs=kwargs)


def crew_url(crew: Crew) -> str:
    return settings.SITE_URL + crew_path(crew)
