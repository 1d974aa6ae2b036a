"""`python -m bench seed` loads the benchmark's data, `python -m bench run` measures it
(`make bench` runs both). Any other manage.py command works here too, on the bench's own
settings and database: `python -m bench migrate`, `python -m bench shell`."""

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    # Never the app's own settings: `seed --fresh` drops the database these name.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    execute_from_command_line(["python -m bench", *sys.argv[1:]])


if __name__ == "__main__":
    main()
