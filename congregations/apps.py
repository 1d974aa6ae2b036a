from django.apps import AppConfig
from django.db.models.signals import post_save


class CongregationsConfig(AppConfig):
    name = "congregations"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from .language_views import on_signed_in
        from .models import Membership, Self
        from .roster import on_membership_saved, on_self_saved

        post_save.connect(on_membership_saved, sender=Membership, dispatch_uid="roster.membership")
        post_save.connect(on_self_saved, sender=Self, dispatch_uid="roster.self")
        user_logged_in.connect(on_signed_in, dispatch_uid="language.signed_in")
