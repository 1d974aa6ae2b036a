"""Settings for the scale benchmark (`manage.py seed_scale`, `manage.py bench`, `make bench`):
the app's own settings against a database of its own, and a URLconf that adds the
framework floor the pages are measured against. Production never loads this module."""

import os
import warnings

os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/microsolidarity_bench"
)

# Loaded as a development setup (a local key and hosts), then timed with DEBUG off below.
os.environ.setdefault("DEBUG", "true")

from microsolidarity.settings import *  # noqa: F403

# Pages are timed as production serves them: no query log, no template debugging (the
# template engine takes its debug option from DEBUG when it is first used).
DEBUG = False
# In-process requests need no collected static files (the throughput run collects its own).
warnings.filterwarnings("ignore", "No directory at", UserWarning)
ROOT_URLCONF = "microsolidarity.scale.urls"
# The bench's commands refuse to run (and --fresh to drop a database) without this.
SCALE_BENCH = True
