"""The personal calendar feed lives outside /c/<slug>/: it spans every congregation."""

from __future__ import annotations

from django.urls import path

from .views import calendar_feed, calendar_settings

app_name = "calendar"

urlpatterns = [
    path("", calendar_settings, name="settings"),
    path("<str:token>.ics", calendar_feed, name="feed"),
]
