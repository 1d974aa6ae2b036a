from django.urls import path

from .views import archive, ask_for_data, privacy

app_name = "privacy"

urlpatterns = [
    path("", privacy, name="privacy"),
    path("my-data/", ask_for_data, name="ask_for_data"),
    path("my-data/<str:token>/", archive, name="archive"),
]
