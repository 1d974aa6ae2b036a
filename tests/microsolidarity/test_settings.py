"""Production mode: refuses to start half-configured, and passes the deploy check."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-with-plenty-of-entropy-9f8e7d6c",
    "ALLOWED_HOSTS": "microsolidarity.example.org",
    "SITE_URL": "https://microsolidarity.example.org",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # The browser tests' conftest allows sync ORM calls under Playwright's loop; a
    # deployment never would.
    unwanted = {"DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "SITE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unwanted}
    clean["DJANGO_SETTINGS_MODULE"] = "microsolidarity.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_no_warnings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts() -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_debug_is_off_unless_set() -> None:
    result = manage("shell", "-c", "from django.conf import settings; print(settings.DEBUG)")
    # Off means production, which will not start without its secrets.
    assert result.returncode != 0
    assert "With DEBUG=false, SECRET_KEY and ALLOWED_HOSTS must be set." in result.stderr
    shown = manage(
        "shell", "-c", "from django.conf import settings; print(settings.DEBUG)", **PRODUCTION
    )
    assert shown.stdout.strip().endswith("False")


def test_development_needs_no_other_configuration() -> None:
    result = manage("check", DEBUG="true")
    assert result.returncode == 0, result.stderr
