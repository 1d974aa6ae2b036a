"""The project's own bookkeeping of its periodic jobs, the only state outside the apps:
each task's heartbeat, and the one claim–process–mark loop with the failures it records."""
