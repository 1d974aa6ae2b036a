from django.urls import path

from . import views

app_name = "congregations"

urlpatterns = [
    path("", views.congregation_home, name="home"),
]
