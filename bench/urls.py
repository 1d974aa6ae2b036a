"""The bench's URLconf (bench.settings): the app's own URLs plus the framework floor,
which production never serves."""

from __future__ import annotations

from django.urls import path

from bench.floor import floor
from microsolidarity.urls import urlpatterns as app_urlpatterns

FLOOR_PATH = "/bench/floor/"

urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor, name="bench_floor"), *app_urlpatterns]
