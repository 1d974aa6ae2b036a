"""Settings of the servers the load run starts: the app's production settings (DEBUG off
comes from the environment) with the bench's URLconf, which adds the framework floor."""

from microsolidarity.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
