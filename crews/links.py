"""Absolute links to crew pages, for emails and calendars that leave the request behind."""

from __future__ import annotations

from django.conf import settings

from .models import Crew, Meeting


def meeting_url(meeting: Meeting) -> str:
    return f"{settings.SITE_URL}/c/{meeting.congregation.slug}/meetings/{meeting.pk}/"


def crew_url(crew: Crew) -> str:
    return f"{settings.SITE_URL}/c/{crew.congregation.slug}/crews/{crew.pk}/"
