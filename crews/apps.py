from django.apps import AppConfig


class CrewsConfig(AppConfig):
    name = "crews"

    def ready(self) -> None:
        from congregations.signals import membership_ended

        from .services import on_membership_ended

        membership_ended.connect(on_membership_ended, dispatch_uid="crews.membership_ended")
