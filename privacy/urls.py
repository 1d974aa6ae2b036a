from django.urls import URLPattern, path

from . import erasure_views

app_name = "privacy"

urlpatterns: list[URLPattern] = [
    path("delete/", erasure_views.delete_account, name="delete_account"),
    path("deleted/", erasure_views.account_deleted, name="account_deleted"),
]
