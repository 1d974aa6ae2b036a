"""The Spanish and German catalogues are whole: no message of a shipped language is
untranslated or fuzzy, every translation keeps its English's placeholders, and no
string marked for translation is missing from them — so a new string cannot ship in
English alone."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings

from microsolidarity.management.commands.catalogues import translated_languages, update_catalogues

ROOT = Path(settings.BASE_DIR)
# What the catalogues are made from: the app, not what is installed, built or tested.
NOT_THE_APP = shutil.ignore_patterns(
    ".*",
    "var",
    "tests",
    "bench",
    "staticfiles",
    "build",
    "*.egg-info",
    "__pycache__",
    "node_modules",
)

Key = tuple[str | None, str, str]


def catalogue(root: Path, language: str) -> polib.POFile:
    return polib.pofile(str(root / "locale" / language / "LC_MESSAGES" / "django.po"))


def keys(entries: Iterable[polib.POEntry]) -> set[Key]:
    return {(e.msgctxt, e.msgid, e.msgid_plural) for e in entries if not e.obsolete}


def copy_of_the_app(tmp_path: Path) -> Path:
    copy = tmp_path / "app"
    shutil.copytree(ROOT, copy, ignore=NOT_THE_APP)
    return copy


def catalogues_made_from(copy: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``manage.py catalogues`` run in ``copy``: makemessages writes beside what it reads,
    so the committed catalogues are never touched."""
    monkeypatch.chdir(copy)
    settings.LOCALE_PATHS = [copy / "locale"]
    update_catalogues()
    return copy


def shown(found: set[Key]) -> str:
    return "\n".join(
        sorted(f"  {msgid!r}" + (f" ({context})" if context else "") for context, msgid, _ in found)
    )


@pytest.mark.parametrize("language", translated_languages())
def test_every_message_is_translated_by_hand_and_checked(language: str) -> None:
    po = catalogue(ROOT, language)

    untranslated = keys(po.untranslated_entries())
    fuzzy = keys(po.fuzzy_entries())
    plural_gaps = keys(
        e for e in po.translated_entries() if e.msgid_plural and not all(e.msgstr_plural.values())
    )

    assert po.metadata["Language"] == language
    assert not untranslated, f"untranslated in {language}:\n{shown(untranslated)}"
    assert not fuzzy, f"fuzzy (to check and unflag) in {language}:\n{shown(fuzzy)}"
    assert not plural_gaps, f"plural forms missing in {language}:\n{shown(plural_gaps)}"


@pytest.mark.parametrize("language", translated_languages())
def test_each_translation_keeps_its_placeholders(language: str, tmp_path: Path) -> None:
    """msgfmt --check: a translation whose %(name)s differ from its English's would raise,
    or show a blank, on the page."""
    po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
    checked = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(po)],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_no_string_marked_for_translation_is_missing_from_the_catalogues(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `manage.py catalogues` would make from the code, made from a copy of it, has
    exactly the committed catalogues' messages: none added (a new string not yet
    translated), none dropped (a translation kept for a string that is gone)."""
    copy = catalogues_made_from(copy_of_the_app(tmp_path), settings, monkeypatch)

    for language in translated_languages():
        committed, made = keys(catalogue(ROOT, language)), keys(catalogue(copy, language))
        assert not made - committed, (
            f"marked for translation but not in locale/{language} "
            f"(run `manage.py catalogues` and translate them):\n{shown(made - committed)}"
        )
        assert not committed - made, (
            f"in locale/{language} but no longer in the code "
            f"(run `manage.py catalogues`):\n{shown(committed - made)}"
        )


def test_the_drift_check_sees_a_new_string(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: a template with one more marked string, in a copy of the
    app, makes a catalogue with one more message."""
    copy = copy_of_the_app(tmp_path)
    (copy / "templates" / "new.html").write_text(
        '{% load i18n %}<p>{% translate "A sentence nobody has translated yet" %}</p>'
    )
    catalogues_made_from(copy, settings, monkeypatch)

    for language in translated_languages():
        added = keys(catalogue(copy, language)) - keys(catalogue(ROOT, language))
        assert added == {(None, "A sentence nobody has translated yet", "")}
