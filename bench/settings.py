"""Settings for the scale benchmark (`python -m bench`, `make bench`): the app's own settings
against a database of its own, the bench as an app (for its two commands), and a URLconf
that adds the framework floor the pages are measured against. The app never loads this
module.

The bench connects as production does: measured as the runtime role (BENCH_DATABASE_URL,
held back by row-level security), loaded and migrated as the schema's owner
(BENCH_DATABASE_OWNER_URL), the roles of deploy/roles.sql."""

import os
import warnings

from django.core.exceptions import ImproperlyConfigured

os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://microsolidarity_app@127.0.0.1:5432/microsolidarity_bench"
)
os.environ["DATABASE_OWNER_URL"] = os.environ.get(
    "BENCH_DATABASE_OWNER_URL",
    "postgres://microsolidarity_owner@127.0.0.1:5432/microsolidarity_bench",
)

# Loaded as a development setup (a local key and hosts), then timed with DEBUG off below.
os.environ.setdefault("DEBUG", "true")
# The pages reach PostgreSQL directly, where a connection keeps its prepared statements,
# as docker-compose.yml's PgBouncer does: they are timed with them, as served there
# (DATABASE_PREPARED_STATEMENTS=false times them without).
os.environ.setdefault("DATABASE_PREPARED_STATEMENTS", "true")

from microsolidarity.settings import *  # noqa: F403
from microsolidarity.settings import DATABASE_OWNER, DATABASES, INSTALLED_APPS

# Seeding one database and measuring another would report on rows nobody loaded.
if DATABASE_OWNER and DATABASE_OWNER["NAME"] != DATABASES["default"]["NAME"]:
    raise ImproperlyConfigured(
        "BENCH_DATABASE_URL and BENCH_DATABASE_OWNER_URL must name the same database."
    )

# Pages are timed as production serves them: no query log, no template debugging (the
# template engine takes its debug option from DEBUG when it is first used).
DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
# In-process requests need no collected static files (the throughput run collects its own).
warnings.filterwarnings("ignore", "No directory at", UserWarning)
ROOT_URLCONF = "bench.urls"
