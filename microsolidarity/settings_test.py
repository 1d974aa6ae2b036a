"""Settings for the test suite: PostgreSQL and Redis on localhost unless the environment
says otherwise, a fast password hasher and an in-memory outbox."""

import os

# The suite runs in debug mode (a test key, local hosts); tests of production settings
# start their own processes with DEBUG=false.
os.environ.setdefault("DEBUG", "true")
# The roles of deploy/roles.sql: the suite runs as the app's, the owner makes the schema.
os.environ.setdefault(
    "DATABASE_URL", "postgres://microsolidarity_app@127.0.0.1:5432/microsolidarity"
)
os.environ.setdefault(
    "DATABASE_OWNER_URL", "postgres://microsolidarity_owner@127.0.0.1:5432/microsolidarity"
)
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")

from microsolidarity.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Worker threads in tests close their connections after each task, so the test database
# can be dropped at the end.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # The embedded pass (`pytest -m embedded`, see the Makefile) tests a file, as `make run`
    # uses: Django's default test database on SQLite is in memory, where WAL is not a mode.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
