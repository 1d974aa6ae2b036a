from django.apps import AppConfig


class ReciprocityConfig(AppConfig):
    name = "reciprocity"
