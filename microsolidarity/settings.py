"""Settings, read from the environment.

``DEBUG`` is off unless set: with no environment this is production, which refuses to
start without SECRET_KEY and ALLOWED_HOSTS and passes ``manage.py check --deploy``.
``DEBUG=true`` (what ``make run`` and the tests set) is a development setup that needs no
system service: SQLite and Celery's filesystem broker under ``var/``.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from microsolidarity.release import RENDERED, fingerprint

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Off unless said: a forgotten variable must not serve tracebacks and a known key.
DEBUG = env.bool("DEBUG", default=False)

# Local state for the embedded setup: the SQLite file and the filesystem broker's folders.
DATA_DIR = Path(env.str("DATA_DIR", default=str(BASE_DIR / "var")))

if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="development-only-key-never-use-in-production")
    ALLOWED_HOSTS = env.list(
        "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
    )
else:
    try:
        SECRET_KEY = env.str("SECRET_KEY")
        ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    except ImproperlyConfigured as error:
        raise ImproperlyConfigured(
            f"{error}. With DEBUG=false, SECRET_KEY and ALLOWED_HOSTS must be set."
        ) from error
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("With DEBUG=false, ALLOWED_HOSTS must name at least one host.")

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "microsolidarity.admin.OperatorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_celery_beat",
    "django_htmx",
    "template_partials",
    "microsolidarity",
    "congregations",
    "crews",
    "reciprocity",
    "privacy",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of a visitor: their cookie (the switcher's), then Accept-Language; a
    # Self who chose one in the profile gets it (SelfLanguageMiddleware, below).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "microsolidarity.middleware.LastSeenMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "microsolidarity.middleware.NotificationsChangedMiddleware",
    "microsolidarity.middleware.SelfTimezoneMiddleware",
    "microsolidarity.middleware.SelfLanguageMiddleware",
    "congregations.middleware.CongregationMiddleware",
]

ROOT_URLCONF = "microsolidarity.urls"
WSGI_APPLICATION = "microsolidarity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The queries built once and bound to each request's values (microsolidarity.compiled:
# what waits for a Self, a Self's crews, my page) are prepared on their connection, so
# that PostgreSQL parses, rewrites under row-level security and plans each once per
# connection instead of on every page: the home's largest took 4 ms unprepared, under 1
# prepared. Only where a client keeps its server connection's statements: PostgreSQL
# reached directly, or PgBouncer 1.22 or later with max_prepared_statements above 0
# (docker-compose.yml). Off by default: an older PgBouncer in transaction pooling would
# hand a client a server connection without the statement.
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=False)

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'microsolidarity.sqlite3'}")
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The missed-meeting job counts what it wrote with RETURNING, new in SQLite 3.35; an
    # older library would fail that job every run, so it stops here instead.
    if sqlite3.sqlite_version_info < (3, 35):
        raise ImproperlyConfigured(
            f"This Python's sqlite3 module uses SQLite {sqlite3.sqlite_version}; the embedded "
            "setup needs 3.35 or newer. Use a Python built with a newer SQLite, or set "
            "DATABASE_URL to a PostgreSQL database."
        )
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    # The web server, a worker and beat share one file: WAL lets readers work while one
    # writes, IMMEDIATE takes the write lock up front and the busy timeout waits for it,
    # instead of answering "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Always ready for PgBouncer in transaction pooling mode, where consecutive
    # transactions of one client may run on different server connections, so nothing may
    # outlive a transaction on the server (tests/microsolidarity/test_pgbouncer.py proves
    # it). Always, not behind a switch: it costs nothing measurable, and the suite then
    # tests the one configuration production runs, pooled or not.
    # - psycopg 3 must prepare no statement (a prepared statement lives on one server
    #   connection) unless DATABASE_PREPARED_STATEMENTS says the connection keeps them.
    #   Django's client-side binding never prepares; only the compiled queries' own
    #   cursors do, and only where this allows them.
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        0 if DATABASE_PREPARED_STATEMENTS else None
    )
    # - `.iterator()` must not open a named server-side cursor: outside a transaction it is
    #   declared WITH HOLD, lives on after its transaction and is fetched on later. Its one
    #   use, the CSV exports, reads a crew's ledger (hundreds of rows, a few thousand at
    #   most); fetched at once that measured as fast or faster than in 2,000-row chunks
    #   from a cursor, which PostgreSQL materialises whole at commit anyway.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# On PostgreSQL the app and its workers connect as DATABASE_URL's role, which owns nothing
# and is held back by row-level security; `migrate` alone connects as the schema's owner
# (README, "Database roles"). Without DATABASE_OWNER_URL, migrate uses DATABASE_URL.
DATABASE_OWNER = env.db("DATABASE_OWNER_URL") if env("DATABASE_OWNER_URL", default="") else None
DATABASE_RUNTIME_ROLE = DATABASES["default"].get("USER", "")
# The role the door between congregations switches to for one transaction
# (congregations.tenancy.across_congregations); DATABASE_URL's role must be a member.
DATABASE_CROSSING_ROLE = env("DATABASE_CROSSING_ROLE", default="microsolidarity_crossing")

# The cache holds the versions of what pages show (congregations/versions.py), sessions
# and the sign-in counters, and, below, what pages render and share. One process can keep
# its own; several web processes must share one: CACHE_URL=rediscache://host:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}
# What pages render once and share (a crew's page, a meeting's rounds and notes form, a
# congregation's roster) is kept in the same cache under the name of the code that rendered
# it (microsolidarity/release.py): after a deploy the new code renders afresh. RELEASE names
# it (a commit, a tag); by default it is a digest of the code, templates and translations.
RELEASE = env("RELEASE", default="") or fingerprint(BASE_DIR)
CACHES[RENDERED] = {**CACHES["default"], "KEY_PREFIX": f"rendered-{RELEASE}"}
# Sessions are read from the cache (Redis when hosted) and written through to PostgreSQL:
# a page asks the database nothing to know who is signed in, and a restart of Redis
# signs nobody out. Ending one (signing out, everywhere) goes through the engine, which
# drops both copies.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "congregations.Self"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"
AUTHENTICATION_BACKENDS = [
    # Every sign-in form is allauth's (throttled, MFA-aware); Django's backend stays for
    # sessions made before it and for the test client.
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Every page, email and file in English, Spanish and German (locale/, compiled by `make`).
# Each language is named in itself, as the switcher offers it.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["microsolidarity.formats"]
# The switcher's choice, for a visitor who is not signed in: kept a year.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Accounts: django-allauth. Everyone signs in with their email address, by password, by a
# code emailed to them, or by a passkey; TOTP and passkeys are second factors too.
ACCOUNT_ADAPTER = "congregations.accounts.AccountAdapter"
MFA_ADAPTER = "congregations.accounts.SecondFactorAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_USER_DISPLAY = "congregations.accounts.display_name"
# A code or a reset link goes to the account whose own address was typed, never to one
# that only asked to change to it (congregations/accounts.py).
ACCOUNT_FORMS = {
    "request_login_code": "congregations.accounts.OwnAddressLoginCodeForm",
    "reset_password": "congregations.accounts.OwnAddressResetPasswordForm",
}
# Nobody signs up on their own: an account is made by accepting an invitation, whose
# single-use link proved the address already. "optional" only means a Self made another
# way (an operator, the demo) is not stopped at sign-in; a changed address is still
# verified before it replaces the old one (ACCOUNT_CHANGE_EMAIL).
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# People on phones: a session lasts as long as Django's (two weeks) without asking.
ACCOUNT_SESSION_REMEMBER = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# "Email me a code": six digits, ten minutes (mail to a phone can be slow), three tries.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 10 * 60
ACCOUNT_LOGIN_BY_CODE_MAX_ATTEMPTS = 3
ACCOUNT_LOGIN_BY_CODE_FORMAT = {"numeric": True, "length": 6, "dashed": False}
# How many wrong passwords for one address, and in how long, before even the right one
# is refused: five in fifteen minutes stops guessing (a few hundred guesses a day at
# most) and leaves anyone who mistypes room; the code by email still works meanwhile.
LOGIN_FAILURES_ALLOWED = env.int("LOGIN_FAILURES_ALLOWED", default=5)
LOGIN_FAILURES_WINDOW_MINUTES = env.int("LOGIN_FAILURES_WINDOW_MINUTES", default=15)
# allauth's limits, per address ("key"), per signed-in Self ("user") and per network
# ("ip", looser: a whole community centre may share one). They are counted in the cache,
# so with several web processes CACHE_URL must be the shared one.
ACCOUNT_RATE_LIMITS = {
    "login_failed": (
        f"30/{LOGIN_FAILURES_WINDOW_MINUTES}m/ip,"
        f"{LOGIN_FAILURES_ALLOWED}/{LOGIN_FAILURES_WINDOW_MINUTES}m/key"
    ),
    "login": "30/m/ip",
    # Each code is an email: three an address every fifteen minutes is plenty for a slow
    # inbox, and too few to flood one.
    "request_login_code": "20/m/ip,3/15m/key",
    "reset_password": "20/m/ip,3/15m/key",
    "reset_password_from_key": "20/m/ip",
    # Changing a password asks for the old one: as slow to guess as signing in.
    "change_password": f"{LOGIN_FAILURES_ALLOWED}/{LOGIN_FAILURES_WINDOW_MINUTES}m/user",
    "manage_email": "5/15m/user",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
    "signup": "20/m/ip",
}
# Hosted, the app sits behind one proxy that terminates TLS (README): the per-network limits
# must count the visitor's address from its X-Forwarded-For, not the proxy's, or everyone
# would share one limit.
ALLAUTH_TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0 if DEBUG else 1)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_TOTP_ISSUER = "Microsolidarity"
# A code typed in its last second, or sent over a slow phone network, reaches us in the
# next 30 seconds: one step either side is accepted (RFC 6238, section 5.2).
MFA_TOTP_TOLERANCE = 1
MFA_RATE_LIMITS = {"webauthn_login": "10/m/ip"}
# Browsers allow WebAuthn on http://localhost only; production is HTTPS.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# The profile lists each signed-in session with its device and when it was last seen.
USERSESSIONS_TRACK_ACTIVITY = False  # microsolidarity.middleware.LastSeenMiddleware does it
LAST_SEEN_EVERY = timedelta(minutes=5)

# A strict Content-Security-Policy: scripts and styles only from our own static files (no
# inline code, no eval: htmx's eval is off in base.html), images ours or data: (the TOTP
# QR code), no frames, forms only to us.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
    }
}
# What the app never uses is off; WebAuthn (passkeys) and copying recovery codes stay ours.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    **{
        feature: []
        for feature in (
            "accelerometer",
            "ambient-light-sensor",
            "autoplay",
            "bluetooth",
            "browsing-topics",
            "camera",
            "display-capture",
            "encrypted-media",
            "geolocation",
            "gyroscope",
            "hid",
            "idle-detection",
            "interest-cohort",
            "magnetometer",
            "microphone",
            "midi",
            "payment",
            "picture-in-picture",
            "screen-wake-lock",
            "serial",
            "usb",
            "xr-spatial-tracking",
        )
    },
    "publickey-credentials-create": ["self"],
    "publickey-credentials-get": ["self"],
    "clipboard-write": ["self"],
    "fullscreen": ["self"],
}

# Links in emails are absolute: they leave the request behind.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Microsolidarity <hello@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# EMAIL_URL such as smtp+tls://user:password@smtp.example.org:587; by default emails are
# printed to the console.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))

# Celery: the broker is Redis when hosted, the filesystem when embedded.
BROKER_DIR = DATA_DIR / "broker"
# "localhost" only names the machine whose folders are the queue; kombu wants a host.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        # Where kombu keeps its broadcast exchanges; by default the working directory.
        "control_folder": str(BROKER_DIR / "control"),
    }
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
else:
    # Workers and beat wait this long for Redis; a web page waits far less (enqueue.py).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_ENABLE_UTC = True
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"


def _days(name: str, default: int) -> timedelta:
    """A number of days from the environment; none or fewer would forget at once."""
    days = env.int(name, default=default)
    if days < 1:
        raise ImproperlyConfigured(f"{name} must be a number of days, 1 or more, not {days}.")
    return timedelta(days=days)


# Keep nothing longer than needed (privacy.services.retention; README, Configuration): an
# invitation that lapsed or was revoked forgets its address, and a sent email its
# address and contents, this long after, which leaves a month to answer "did my invitation
# go out?"; a Self's data archive lives a day, long enough to open the email.
PRIVACY_FORGET_INVITATIONS_AFTER = _days("PRIVACY_FORGET_INVITATIONS_AFTER_DAYS", 30)
PRIVACY_FORGET_EMAILS_AFTER = _days("PRIVACY_FORGET_EMAILS_AFTER_DAYS", 30)
PRIVACY_ARCHIVE_LIFETIME = timedelta(days=1)
# /healthz calls a periodic task stale when it has not run for this long.
HEARTBEAT_MAX_AGE = timedelta(seconds=env.int("HEARTBEAT_MAX_AGE_SECONDS", default=300))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The container healthcheck asks over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
