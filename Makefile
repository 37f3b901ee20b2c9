# Dateline: `make run` serves the site, `make test` runs every test.
# Everything installs into .venv from pyproject.toml; nothing is global.

PYTHON ?= python3
PORT ?= 8000
WORKERS ?= 3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
VAR := var
# The job worker (django-tasks-db's db_worker plus Dateline's sweep for
# scheduled pings and lost jobs): blog/management/commands/worker.py.
WORKER_CMD ?= $(PY) manage.py worker --no-reload
# Reads the dependency lists out of pyproject.toml, so pip installs exactly
# what the project declares without building the project itself.
DEPS = $(PY) -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + sum((p["optional-dependencies"][x] for x in sys.argv[1:]), [])))'

.PHONY: help install install-test run test test-fast lint format bench cluster admin-password clean messages compilemessages

help:
	@echo "make run    install, migrate, load demo content, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   install and run the whole test suite"
	@echo "make lint   ruff and hadolint"
	@echo "make bench  throughput and latency at 1,000 and 100,000 posts (BENCH_QUICK=1 BENCH_SIZES=1000 for a few minutes)"
	@echo "make cluster  three nodes, a worker, S3, Redis and an nginx cache on 127.0.0.1, proven"

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-deps: pyproject.toml | $(PY)
	$(DEPS) > $(VENV)/requirements-run.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements-run.txt
	touch $@

$(VENV)/.test-deps: pyproject.toml $(VENV)/.run-deps
	$(DEPS) test > $(VENV)/requirements-test.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements-test.txt
	touch $@

# Browser-test helpers (axe-core, the Nu HTML Checker) come from npm; without
# npm the tests that need them skip and say why.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: accessibility and HTML-validity tests will skip"; fi

install: $(VENV)/.run-deps
install-test: $(VENV)/.test-deps node_modules/.installed

$(VAR)/secret_key:
	@mkdir -p $(VAR)
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	@chmod 600 $@

# Settings read the key kept in var/secret_key (config/settings.py).
run: install $(VAR)/secret_key
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py load_demo
	@$(PY) manage.py ensure_admin
	@echo "Dateline is serving on http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/). Ctrl-C stops it."
	@# One job worker beside gunicorn; Ctrl-C reaches both (same process
	@# group), and the trap stops the worker if gunicorn stops alone. The app
	@# logs each request as a JSON line (config/gunicorn.py, blog/logs.py).
	@$(WORKER_CMD) -v 0 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn -c python:config.gunicorn config.wsgi \
		--bind 127.0.0.1:$(PORT) --workers $(WORKERS) --log-level warning

admin-password: install $(VAR)/secret_key
	@$(PY) manage.py changepassword admin

# The suite runs with DEBUG off, as production does; the key is throwaway.
test: install-test
	DJANGO_SECRET_KEY=test-only-not-secret $(BIN)/pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install $(VAR)/secret_key
	$(PY) bench/run.py

# Translations (locale/): `make messages` extracts every string marked in the
# code and templates into each language's django.po; translate it, then
# `make compilemessages` (GNU gettext's msgfmt, Debian package gettext)
# writes django.mo. The .mo files are committed, so installing and running
# need no gettext; tests/test_translations.py checks they match the .po.
MESSAGES_IGNORE := --ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench --ignore=var --ignore=build
messages: install
	DJANGO_SECRET_KEY=messages-only $(PY) manage.py makemessages --all --no-location $(MESSAGES_IGNORE)

compilemessages: install
	DJANGO_SECRET_KEY=messages-only $(PY) manage.py compilemessages $(MESSAGES_IGNORE)

# Issue 11, on one machine: tests/cluster.py starts it, tests/test_cluster.py
# proves it and prints figures. It uses the machine's PostgreSQL (its own
# database, CLUSTER_DATABASE) and starts everything else itself.
CLUSTER_POSTGRES ?= postgres://postgres@127.0.0.1:5432
CLUSTER_DATABASE ?= dateline_cluster
cluster: install-test
	DATELINE_CLUSTER=1 DJANGO_SECRET_KEY=test-only-not-secret \
	DATELINE_CLUSTER_POSTGRES=$(CLUSTER_POSTGRES) DATELINE_CLUSTER_DATABASE=$(CLUSTER_DATABASE) \
	WORKER_CMD="$(WORKER_CMD)" $(BIN)/pytest tests/test_cluster.py -s -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VAR)/static
