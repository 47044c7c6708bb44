# Dunmore: `make demo` starts the app with demo data, `make test` runs the test suite.
# Both work on a fresh Debian/Ubuntu machine with Python 3.11 and make; see README.md.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ADDR ?= 127.0.0.1:8000
# The demo and the development server run with DEBUG on; production uses settings_production.
DEBUG ?= true
RUN_ENV := DEBUG=$(DEBUG)
ARGS ?=

.PHONY: help install system-deps test-deps demo test lint fmt migrate seed collectstatic \
	run worker clean reset-demo prod-smoke

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(PY):
	@command -v $(PYTHON) >/dev/null || { \
		echo "Dunmore needs Python 3.11 ('$(PYTHON)' was not found)." >&2; exit 1; }
	@# Debian's Python needs the python3.11-venv package before it can create a virtualenv.
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		scripts/system-deps.sh venv && $(PYTHON) -m venv $(VENV); }

# Reinstalled only when pyproject.toml changes.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP) ## create the virtualenv and install Dunmore with its dev tools

system-deps: ## install (as root) or check the libraries WeasyPrint needs
	@scripts/system-deps.sh weasyprint

test-deps: install ## install everything the tests need (adds chromium, axe-core, pg_dump)
	@scripts/system-deps.sh weasyprint chromium pgclient axe

# One line per step: the logins, printed last by serve.sh, stay on screen.
demo: install system-deps ## migrate, load demo data, start the web server and the worker
	@echo "Migrating the database…"
	@$(RUN_ENV) $(PY) manage.py migrate --noinput --verbosity 0
	@$(RUN_ENV) $(PY) manage.py seed_demo --no-logins --skip-checks
	@$(RUN_ENV) $(PY) manage.py seed_demo_history --skip-checks
	@$(RUN_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0 --skip-checks
	@$(RUN_ENV) PY=$(PY) ADDR=$(ADDR) scripts/serve.sh

test: test-deps ## run the whole test suite (DATABASE_URL=postgres://... for PostgreSQL)
	@echo "Testing on $${DATABASE_URL:+PostgreSQL ($${DATABASE_URL##*/})}$${DATABASE_URL:-SQLite (in memory)}"
	$(VENV)/bin/pytest --create-db $(ARGS)

# Needs PostgreSQL and Redis on the loopback (PG_SERVER, REDIS_SERVER to point elsewhere).
prod-smoke: install system-deps ## the production stack (gunicorn, worker on Redis, PostgreSQL) as a test
	@PY=$(PY) scripts/prod_smoke.sh

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: install ## fix what ruff can fix and format the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

migrate: install ## apply database migrations
	$(RUN_ENV) $(PY) manage.py migrate --noinput

seed: migrate ## load the demo data (does nothing if it is already there)
	$(RUN_ENV) $(PY) manage.py seed_demo

collectstatic: install
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0

run: migrate collectstatic ## the web server alone, reloading on code changes
	$(RUN_ENV) $(PY) manage.py runserver $(ADDR)

worker: migrate ## the background worker alone (django-q2 cluster)
	$(RUN_ENV) $(PY) manage.py qcluster

clean: ## remove the virtualenv, collected static files and caches (keeps the database)
	rm -rf $(VENV) staticfiles test-artifacts build *.egg-info .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

reset-demo: ## delete the local SQLite database and the demo's mail and logs
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm
	rm -rf var/demo
