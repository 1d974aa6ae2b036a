from django.apps import AppConfig


class CongregationsConfig(AppConfig):
    name = "congregations"
