from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """A Self's own data: download it, leave for good, and keep nothing longer than needed.

    The top of the dependency order: it may import congregations, crews and reciprocity,
    and nothing imports it.
    """

    name = "privacy"
