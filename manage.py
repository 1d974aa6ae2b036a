#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# The scale benchmark's commands work on a database of their own (settings_bench).
BENCH_COMMANDS = {"seed_scale", "bench"}


def main() -> None:
    bench = len(sys.argv) > 1 and sys.argv[1] in BENCH_COMMANDS
    settings = "microsolidarity.settings_bench" if bench else "microsolidarity.settings"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
