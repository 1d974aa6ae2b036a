from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from microsolidarity import demo


class Command(BaseCommand):
    help = "Load the demo congregation (once; running it again changes nothing)."

    def handle(self, *args: Any, **options: Any) -> None:
        loaded = demo.load()
        verb = "Loaded" if loaded.created else "Already loaded:"
        self.stdout.write(f"{verb} the demo congregation “{loaded.congregation.name}”.")
        self.stdout.write(f"Sign in at {settings.SITE_URL}/ with password {demo.PASSWORD}:")
        self.stdout.write(f"  facilitator  {loaded.facilitator.email}")
        for member in loaded.members[:3]:
            self.stdout.write(f"  member       {member.email}")
        self.stdout.write(f"  … and {len(loaded.members) - 3} more members @example.org")
