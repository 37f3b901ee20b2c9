# Dateline: `make run` serves the site, `make test` runs every test.
# Everything installs into .venv from pyproject.toml; nothing is global.

PYTHON ?= python3
PORT ?= 8000
WORKERS ?= 3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
VAR := var
# Reads the dependency lists out of pyproject.toml, so pip installs exactly
# what the project declares without building the project itself.
DEPS = $(PY) -c 'import sys, tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + sum((p["optional-dependencies"][x] for x in sys.argv[1:]), [])))'

.PHONY: help install install-test run test test-fast lint format bench admin-password clean

help:
	@echo "make run    install, migrate, load demo content, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   install and run the whole test suite"
	@echo "make lint   ruff and hadolint"
	@echo "make bench  throughput and latency at 1,000 and 100,000 posts (BENCH_QUICK=1 BENCH_SIZES=1000 for a few minutes)"

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
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0
	@$(PY) manage.py load_demo
	@$(PY) manage.py ensure_admin
	@echo "Dateline is serving on http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/). Ctrl-C stops it."
	@exec $(BIN)/gunicorn config.wsgi \
		--bind 127.0.0.1:$(PORT) --workers $(WORKERS) --access-logfile - --log-level warning

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

clean:
	rm -rf $(VENV) node_modules $(VAR)/static
