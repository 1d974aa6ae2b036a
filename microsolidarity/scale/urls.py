"""The bench's URLconf (settings_bench): the app's own URLs plus the framework floor,
which production never serves."""

from __future__ import annotations

from django.urls import path

from microsolidarity.urls import urlpatterns as app_urlpatterns

from .floor import floor

FLOOR_PATH = "/bench/floor/"

urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor, name="bench_floor"), *app_urlpatterns]
