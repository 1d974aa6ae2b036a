from django.urls import path

from . import erasure_views
from .views import archive, ask_for_data, privacy

app_name = "privacy"

urlpatterns = [
    path("", privacy, name="privacy"),
    path("my-data/", ask_for_data, name="ask_for_data"),
    path("my-data/<str:token>/", archive, name="archive"),
    path("delete/", erasure_views.delete_account, name="delete_account"),
    path("deleted/", erasure_views.account_deleted, name="account_deleted"),
]
