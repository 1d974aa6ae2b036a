# Two commands: `make run` serves the demo; `make test` runs lint and the whole suite.
# `make bench` measures the app at 40,000 members (see README, Performance); its load run
# goes through a PgBouncer that keeps prepared statements (scripts/pgbouncer.sh).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The suite runs against PostgreSQL and Redis on localhost unless these say otherwise:
# as the app's role, with the owner's for the schema (deploy/roles.sql makes both; the
# superuser's URL is used for that alone).
TEST_DATABASE_URL ?= postgres://microsolidarity_app@127.0.0.1:5432/microsolidarity
TEST_DATABASE_OWNER_URL ?= postgres://microsolidarity_owner@127.0.0.1:5432/microsolidarity
POSTGRES_SUPERUSER_URL ?= postgres://postgres@127.0.0.1:5432/postgres
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
# Then the tests marked `embedded` again on the embedded default that `make run` uses:
# SQLite (WAL, IMMEDIATE transactions: microsolidarity/settings.py), the filesystem broker
# and the in-process cache, all under var/test-embedded/.
EMBEDDED_TEST = DATA_DIR="$(CURDIR)/var/test-embedded" DATABASE_URL="sqlite:///$(CURDIR)/var/test-embedded/microsolidarity.sqlite3" CELERY_BROKER_URL="filesystem://localhost/" CACHE_URL="locmemcache://" $(BIN)/pytest -m embedded
# The scale benchmark's own database, created and loaded on first use by the owner, and
# measured as the app's role (the same roles as the suite's).
BENCH_DATABASE_URL ?= postgres://microsolidarity_app@127.0.0.1:5432/microsolidarity_bench
BENCH_DATABASE_OWNER_URL ?= postgres://microsolidarity_owner@127.0.0.1:5432/microsolidarity_bench

.PHONY: run test needs messages lint roles format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

# The demo runs in debug mode; DEBUG is off unless set, so it is said here. It serves on
# PORT (`make run PORT=8123`), and the links it prints and emails point there.
PORT ?= 8000
SITE_URL ?= http://127.0.0.1:$(PORT)
run: export DEBUG ?= true
run: $(STAMP) messages
	$(BIN)/python manage.py migrate --noinput
	SITE_URL="$(SITE_URL)" $(BIN)/python manage.py seed_demo
	PATH="$(CURDIR)/$(BIN):$$PATH" PORT="$(PORT)" SITE_URL="$(SITE_URL)" $(BIN)/honcho -f Procfile start

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

# The roles the suite connects as; made once, and again only if deploy/roles.sql changes.
roles:
	@psql "$(POSTGRES_SUPERUSER_URL)" -v ON_ERROR_STOP=1 -q -f deploy/roles.sql >/dev/null \
	  || { echo "make: could not make the database roles of deploy/roles.sql as $(POSTGRES_SUPERUSER_URL); set POSTGRES_SUPERUSER_URL to a superuser's URL."; exit 2; }

# Chromium for the browser tests, PgBouncer for the pooling test, the Nu HTML Checker
# (Java and npm's vnu-jar) for the HTML test and GNU gettext for the translations:
# installed when missing, or make test stops at once saying how.
needs:
	@scripts/need.sh chromium pgbouncer vnu gettext

# The Spanish and German translations, compiled for Django (GNU gettext's msgfmt).
messages:
	@scripts/need.sh gettext
	@scripts/compile-messages.sh

test: $(STAMP) needs messages lint roles
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	DATABASE_OWNER_URL="$${DATABASE_OWNER_URL:-$(TEST_DATABASE_OWNER_URL)}" \
	CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)}" \
	$(BIN)/pytest
	$(EMBEDDED_TEST)

# The bench (bench/, not installed with the app) loads its data once (a few minutes, and
# four times that for the data set four times larger) and reuses it afterwards; `python -m
# bench seed --fresh` reloads. Then the load run: members of many congregations at once on
# gunicorn (1, 2, 4 processes), PgBouncer, Redis, Celery.
bench: export BENCH_DATABASE_URL := $(BENCH_DATABASE_URL)
bench: export BENCH_DATABASE_OWNER_URL := $(BENCH_DATABASE_OWNER_URL)
# The job is timed right after a checkpoint, which only a superuser may ask for.
bench: export POSTGRES_SUPERUSER_URL := $(POSTGRES_SUPERUSER_URL)
bench: $(STAMP) roles
	$(BIN)/python -m bench seed
	$(BIN)/python -m bench seed --grown
	$(BIN)/python -m bench run
	pgbouncer="$$(scripts/pgbouncer.sh)" && PGBOUNCER="$$pgbouncer" $(BIN)/python -m bench load

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache .ruff_cache
