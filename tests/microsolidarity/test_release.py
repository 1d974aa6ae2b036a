"""What pages render and share is kept under the name of the code that rendered it
(microsolidarity/release.py, settings.CACHES["rendered"]): after a deploy, a fragment the
code before it cached, with no expiry, is never served; the same code on every replica
finds the same fragments."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.utils import make_template_fragment_key
from django.test import override_settings

from congregations.models import Congregation
from congregations.roster import roster_version
from congregations.tenancy import tenant
from microsolidarity.release import RENDERED, fingerprint
from reciprocity.selectors import meeting_rounds_version
from tests.builders import congregation_url, held_meeting, signed_in

from ..reciprocity.test_meeting_rounds_shared import rounds_seen
from ..reciprocity.test_recorded_rounds_attacked import crew_named, listening

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def code(base: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (base / name).parent.mkdir(parents=True, exist_ok=True)
        (base / name).write_text(text)
    return base


APP = {
    "templates/page.html": "<p>{{ name }}</p>",
    "locale/de/LC_MESSAGES/django.po": 'msgid "Points"\nmsgstr "Punkte"\n',
    "crews/views.py": "SHOWN = 20\n",
}


@pytest.mark.parametrize(
    ("changed", "text"),
    [
        ("templates/page.html", "<p>{{ name|escape }}</p>"),
        ("locale/de/LC_MESSAGES/django.po", 'msgid "Points"\nmsgstr "Pünktchen"\n'),
        ("crews/views.py", "SHOWN = 10\n"),
    ],
)
def test_a_change_to_a_template_a_translation_or_the_code_is_another_release(
    tmp_path: Path, changed: str, text: str
) -> None:
    before = fingerprint(code(tmp_path / "before", APP))

    after = fingerprint(code(tmp_path / "after", {**APP, changed: text}))

    assert after != before


def test_the_same_code_anywhere_is_the_same_release_whatever_it_compiled(tmp_path: Path) -> None:
    one = fingerprint(code(tmp_path / "one", APP))
    other = code(tmp_path / "other", APP)
    # What Python compiles and migrations, which render nothing, make no other release.
    code(other, {"crews/__pycache__/views.cpython-311.pyc": "compiled", "crews/notes.md": "x"})
    code(other, {"crews/migrations/0002_more.py": "operations = []\n"})

    assert fingerprint(other) == one


def another_release() -> Any:
    rendered = {**settings.CACHES[RENDERED], "KEY_PREFIX": "rendered-the-next-deploy"}
    return override_settings(CACHES={**settings.CACHES, RENDERED: rendered})


def test_a_fragment_the_code_before_a_deploy_cached_is_not_served_after_it(
    congregation: Congregation,
) -> None:
    crew, (zoe, ana, mia) = crew_named(congregation, "Zoe", "Ana", "Mia")
    meeting = held_meeting(crew)
    listening(meeting, zoe, ana, mia)
    rounds_seen(meeting, signed_in(zoe))
    with tenant(meeting):
        version = meeting_rounds_version(meeting=meeting)
    key = make_template_fragment_key("meeting_rounds", [meeting.pk, version, "en"])
    # What the code before the deploy left, say before an escaping fix.
    stale = '<section id="recorded-rounds">Rendered by the code before</section>'
    caches[RENDERED].set(key, stale, None)
    assert "Rendered by the code before" in rounds_seen(meeting, signed_in(mia))

    with another_release():
        seen = rounds_seen(meeting, signed_in(mia))

    assert "Rendered by the code before" not in seen
    assert "In the circle: Ana, Mia, Zoe." in seen


def test_shared_pages_are_kept_apart_from_versions_and_sign_in_counters(
    congregation: Congregation, member: Any
) -> None:
    response = signed_in(member).get(congregation_url("crews:people", congregation))
    assert response.status_code == 200
    key = f"roster-pool:{congregation.pk}:{roster_version(congregation.pk)}:en"

    # The dating pool's cards are kept as the page's own fragments are, under the release;
    # the versions they are keyed by stay in the default cache, whatever the release.
    assert caches[RENDERED].get(key) is not None
    assert caches[DEFAULT_CACHE_ALIAS].get(key) is None
    with another_release():
        assert caches[RENDERED].get(key) is None
        assert roster_version(congregation.pk) in key


def test_the_release_is_a_digest_of_the_code_served_unless_the_deploy_names_it() -> None:
    release: str = settings.RELEASE
    assert release == (os.environ.get("RELEASE") or fingerprint(settings.BASE_DIR))
    assert settings.CACHES[RENDERED]["KEY_PREFIX"] == f"rendered-{settings.RELEASE}"
    assert settings.CACHES[RENDERED]["LOCATION"] == settings.CACHES[DEFAULT_CACHE_ALIAS]["LOCATION"]
