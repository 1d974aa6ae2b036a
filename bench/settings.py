"""Settings for the scale benchmark (`python -m bench`, `make bench`): the app's own settings
against a database of its own, the bench as an app (for its two commands), and a URLconf
that adds the framework floor the pages are measured against. The app never loads this
module."""

import os
import warnings

os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/microsolidarity_bench"
)

# Loaded as a development setup (a local key and hosts), then timed with DEBUG off below.
os.environ.setdefault("DEBUG", "true")

from microsolidarity.settings import *  # noqa: F403
from microsolidarity.settings import INSTALLED_APPS

# Pages are timed as production serves them: no query log, no template debugging (the
# template engine takes its debug option from DEBUG when it is first used).
DEBUG = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
# In-process requests need no collected static files (the throughput run collects its own).
warnings.filterwarnings("ignore", "No directory at", UserWarning)
ROOT_URLCONF = "bench.urls"
