"""Pages of one congregation, under /c/<slug>/ (see microsolidarity/urls.py)."""

from django.urls import path

from . import views

app_name = "congregations"

urlpatterns = [
    path("members/", views.members, name="members"),
    path("members/<id:pk>/role/", views.change_role, name="change_role"),
    path("members/<id:pk>/remove/", views.remove_member, name="remove_member"),
    path("leave/", views.leave, name="leave"),
    path("invitations/", views.invitations, name="invitations"),
    path("invitations/<id:pk>/resend/", views.resend_invitation, name="resend_invitation"),
    path("invitations/<id:pk>/revoke/", views.revoke_invitation, name="revoke_invitation"),
    path("settings/", views.congregation_settings, name="settings"),
    path("history/", views.history, name="history"),
]
