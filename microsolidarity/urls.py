from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path, register_converter

from congregations.invitation_views import invitation
from congregations.language_views import switch_language
from congregations.notification_views import notifications, unread
from congregations.unsubscribe_views import unsubscribe
from congregations.views import home, new_congregation, profile, switcher
from reciprocity.views.waiting import waiting

from .converters import RowId
from .health import healthz

# Before the apps' URLs below, which take their ids with it.
register_converter(RowId, "id")

congregation_urls = [
    path("", include("congregations.urls")),
    path("", include("crews.urls")),
    path("", include("reciprocity.urls")),
]

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("invitations/<str:token>/", invitation, name="invitation"),
    path("unsubscribe/<str:token>/", unsubscribe, name="unsubscribe"),
    path("congregations/new/", new_congregation, name="new_congregation"),
    path("congregations/switch/", switcher, name="switcher"),
    path("profile/", profile, name="profile"),
    path("language/", switch_language, name="switch_language"),
    path("waiting/", waiting, name="waiting"),
    path("notifications/", notifications, name="notifications"),
    path("notifications/unread/", unread, name="unread"),
    path("calendar/", include("crews.calendar_urls")),
    path("privacy/", include("privacy.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("c/<slug:congregation_slug>/", include(congregation_urls)),
]


def handler429(request: HttpRequest) -> HttpResponse:
    """allauth's answer to too many tries (password resets, codes): calm, and when."""
    context = {"minutes": settings.LOGIN_FAILURES_WINDOW_MINUTES}
    return render(request, "429.html", context, status=429)
