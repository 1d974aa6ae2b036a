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
    path("crews/<int:pk>/", views.crew_detail, name="crew"),
    path("crews/<int:pk>/invite/", views.invite, name="invite"),
    path("crews/<int:pk>/leave/", views.leave, name="leave"),
    path("crews/<int:pk>/meetings/", views.history, name="history"),
    path("crews/<int:pk>/meetings/new/", views.schedule, name="schedule"),
    path("crews/invitations/<int:pk>/", views.answer_invitation, name="answer_invitation"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/reschedule/", views.reschedule, name="reschedule"),
    path("meetings/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("meetings/<int:pk>/attendance/<int:member_id>/", views.tap, name="tap"),
    path("meetings/<int:pk>/log/", views.log, name="log"),
    path("meetings/<int:pk>/notes/", views.notes, name="notes"),
]
