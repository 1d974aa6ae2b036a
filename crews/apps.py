from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_save


class CrewsConfig(AppConfig):
    name = "crews"

    def ready(self) -> None:
        from congregations.roster import roster_changed
        from congregations.signals import membership_ended

        from .models import Crew, CrewInvitation, CrewMembership, Meeting
        from .services import on_membership_ended
        from .versions import on_meeting_saved

        membership_ended.connect(on_membership_ended, dispatch_uid="crews.membership_ended")

        def crew_roster_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
            roster_changed([instance.congregation_id])

        for model in (Crew, CrewMembership, CrewInvitation):
            post_save.connect(crew_roster_changed, sender=model, dispatch_uid=f"roster.{model}")
        post_save.connect(on_meeting_saved, sender=Meeting, dispatch_uid="crews.meeting_saved")
