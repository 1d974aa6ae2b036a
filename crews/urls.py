"""Crew pages, under /c/<slug>/: the congregation's home, its people, its crews and dyads,
and their meetings."""

from __future__ import annotations

from django.urls import path

from . import views

app_name = "crews"

urlpatterns = [
    path("", views.congregation_home, name="congregation"),
    path("people/", views.people, name="people"),
    path("crews/new/", views.propose, name="propose"),
    path("crews/<id:pk>/", views.crew_detail, name="crew"),
    path("crews/<id:pk>/invite/", views.invite, name="invite"),
    path("crews/<id:pk>/leave/", views.leave, name="leave"),
    path("crews/<id:pk>/meetings/", views.history, name="history"),
    path("crews/<id:pk>/meetings/new/", views.schedule, name="schedule"),
    path("crews/invitations/<id:pk>/", views.answer_invitation, name="answer_invitation"),
    path("meetings/<id:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<id:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("meetings/<id:pk>/cancel/", views.cancel, name="cancel"),
    path("meetings/<id:pk>/attendance/<id:member_id>/", views.tap, name="tap"),
    path("meetings/<id:pk>/log/", views.log, name="log"),
    path("meetings/<id:pk>/notes/", views.notes, name="notes"),
]
