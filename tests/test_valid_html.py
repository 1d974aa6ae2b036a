"""Every page is valid HTML as the Nu HTML Checker reads it: the isolation matrix's pages of a
congregation, each as a member who may see it sees it, the pages outside it, the sign-in and
invitation pages, and forms sent back with errors. The checker (npm's vnu-jar, run by Java;
`scripts/need.sh vnu` installs both) starts slowly, so it reads every page in one run."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congregations.models import Ask
from congregations.services import accept_invitation
from congregations.unsubscribe import unsubscribe_url
from tests.builders import HOUR, scheduled_meeting, signed_in
from tests.factories import SelfFactory
from tests.test_isolation import REGISTRY, World, url_of
from tests.test_isolation import world as world  # the isolation matrix's fixture, reused

FRAGMENT = b'<!doctype html><html lang="en"><title>A fragment</title><body>%s</body></html>'
VNU_JAR = Path(__file__).resolve().parents[1] / "var/vnu/node_modules/vnu-jar/build/dist/vnu.jar"

# Whom each congregation page is shown to: the first of these whose GET answers 200.
READERS = ("crew_mate", "facilitator", "member")


# The forms of these pages, each sent with this field blank.
REFUSED = {
    "crews:schedule": "place",
    "crews:reschedule": "place",
    "crews:cancel": "version",
    "crews:propose": "name",
    "reciprocity:record_listening_round": "participants",
    "reciprocity:record_money_round": "focus",
    "reciprocity:register_venture": "name",
    "reciprocity:open_conflict": "title",
    "reciprocity:welcome": "display_name",
    "congregations:invitations": "emails",
    "congregations:settings": "name",
    "profile": "display_name",
    "new_congregation": "name",
}


def reader_of(name: str) -> str | None:
    page = REGISTRY[name]
    answers = {
        "crew_mate": page.member if page.crew_mate is None else page.crew_mate,
        "facilitator": page.facilitator,
        "member": page.member,
    }
    return next((persona for persona in READERS if answers[persona] == 200), None)


class Pages:
    """The pages to check, by a name that says what each one is."""

    def __init__(self) -> None:
        self.html: dict[str, bytes] = {}

    def get(self, name: str, client: Client, url: str, status: int = 200, inside: str = "") -> None:
        self.add(name, client.get(url), status, inside)

    def post(
        self, name: str, client: Client, url: str, data: dict[str, str], status: int = 200
    ) -> None:
        self.add(name, client.post(url, data), status)

    def add(self, name: str, response: Any, status: int, inside: str = "") -> None:
        """``inside``: the element a fragment is swapped into, where the body cannot hold it."""
        assert response.status_code == status, f"{name}: {response.status_code}"
        if not response["Content-Type"].startswith("text/html"):
            return  # a CSV export or a calendar
        html = response.content
        if not html.lstrip().lower().startswith(b"<!doctype html>"):
            # A fragment htmx swaps in is checked in a document of its own.
            if inside:
                html = f"<{inside}>".encode() + html + f"</{inside}>".encode()
            html = FRAGMENT % html
        self.html[name] = html


class Visitor(Protocol):
    def get(self, name: str, client: Client, url: str, status: int = 200) -> None: ...


def visit_every_page(pages: Visitor, world: World, clients: dict[str, Client]) -> None:
    """Every page of the isolation matrix, each as a member who may see it sees it; a
    meeting under way and one logged (the matrix's is next week's); a page not found and
    one forbidden; and the signed-in Self's own pages."""
    crew_mate = clients["crew_mate"]
    for name in sorted(REGISTRY):
        if persona := reader_of(name):
            pages.get(name, clients[persona], url_of(name, world))
    started = scheduled_meeting(world.crew, timezone.now() - HOUR)
    for state, meeting in (("started", started), ("logged", world.held)):
        pages.get(f"{state} meeting", crew_mate, reverse_in(world, "crews:meeting", pk=meeting.pk))
    pages.get("not_found", clients["member"], url_of("crews:meeting", world), status=404)
    pages.get("forbidden", clients["member"], url_of("congregations:settings", world), 403)
    for name in ("home", "new_congregation", "profile", "notifications", "calendar:settings"):
        pages.get(name, crew_mate, reverse(name))
    for name in ("waiting", "unread"):
        pages.get(name, crew_mate, reverse(name))


def reverse_in(world: World, name: str, **kwargs: object) -> str:
    return reverse(name, kwargs={"congregation_slug": world.congregation.slug, **kwargs})


def nu_errors(pages: dict[str, bytes], folder: Path) -> list[str]:
    """The checker's errors, one line each: page, line, message, the markup it points at."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        pytest.fail("The Nu HTML Checker is not installed: run scripts/need.sh vnu")
    names = {}
    for number, (name, html) in enumerate(pages.items()):
        path = folder / f"{number}.html"
        path.write_bytes(html)
        names[path.name] = name
    run = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--exit-zero-always", "--stdout"]
        + [str(folder / name) for name in names],
        capture_output=True,
        check=True,
        text=True,
    )
    messages = json.loads(run.stdout)["messages"]
    return [
        f"{names[message['url'].rpartition('/')[2]]}:{message.get('lastLine')}: "
        f"{message['message']} {message.get('extract', '').strip()!r}"
        for message in messages
        if message["type"] == "error" or message.get("subType") == "fatal"
    ]


def test_every_page_passes_the_nu_html_checker(
    world: World, token: str, tmp_path: Path, client: Client
) -> None:
    pages = Pages()
    clients = {persona: signed_in(getattr(world, persona)) for persona in READERS}
    crew_mate, facilitator = clients["crew_mate"], clients["facilitator"]

    visit_every_page(pages, world, clients)
    pages.get("switcher", crew_mate, reverse("switcher"), inside="ul")

    # Signing in, and the account's own pages.
    pages.get("landing", client, reverse("home"))
    for name in ("account_login", "account_request_login_code", "account_reset_password"):
        pages.get(name, client, reverse(name))
    pages.post("sign_in_refused", client, reverse("account_login"), {"login": "x@example.net"})
    pages.add(
        "account_confirm_login_code",
        client.post(
            reverse("account_request_login_code"), {"email": world.member.email}, follow=True
        ),
        200,
    )
    for name in ("account_email", "account_change_password", "mfa_index", "usersessions_list"):
        pages.get(name, crew_mate, reverse(name))

    # An invitation: the link that works (for someone new, and for someone with an
    # account), the sign-up form refused, and the link used up.
    invitation = reverse("invitation", args=[token])
    pages.get("invitation", client, invitation)
    pages.post("invitation refused", client, invitation, {"display_name": ""})
    ben = SelfFactory.create(email="ben@example.net")
    pages.get("invitation with an account", signed_in(ben), invitation)
    accept_invitation(token=token, self_=ben)
    pages.get("invitation used", client, invitation, status=404)

    # An email's one-click unsubscribe link: what will stop, stopped, and a forged link.
    unsubscribe = urlsplit(unsubscribe_url(world.member, Ask.CONFLICT)).path
    pages.get("unsubscribe", client, unsubscribe)
    pages.post("unsubscribed", Client(), unsubscribe, {})
    forged = unsubscribe.replace("/unsubscribe/", "/unsubscribe/x")
    pages.get("unsubscribe forged", client, forged, status=404)

    # Forms sent back with their errors, on the pages they came from: a blank field each
    # (some pages answer an empty POST with a fresh form).
    for name, blank in REFUSED.items():
        sender = facilitator if name.startswith("congregations:") else crew_mate
        url = url_of(name, world) if name in REGISTRY else reverse(name)
        pages.post(f"{name} refused", sender, url, {blank: ""})

    errors = nu_errors(pages.html, tmp_path)
    assert not errors, f"{len(errors)} errors in {len(pages.html)} pages:\n" + "\n".join(errors)
