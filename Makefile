# Two commands for a new user: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= assist_center.settings.base

.PHONY: run test lint format bench install services debs messages migrate seed clean

# Order-only: a bare machine needs python3-venv (and gettext for `messages`) before the first venv.
$(STAMP): pyproject.toml | debs
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) .env

# A development checkout runs with DEBUG on, so plain `manage.py` commands work without secrets.
# Git-ignored; a deployment writes its own .env from docs/env.example (DEBUG=false, real secrets).
.env:
	printf '# Development settings written by make; see docs/configuration.md.\nDEBUG=true\n' > .env

debs:
	@scripts/ensure_debian_packages.sh

services:
	@scripts/ensure_services.sh

messages: $(STAMP)
	@cd $(CURDIR) && DEBUG=true $(BIN)/python manage.py compilemessages -l zh_Hans -v 0

# Development defaults: DEBUG on, SMS codes written to var/sms.jsonl where a new user can read them.
RUN_ENV := DEBUG=$${DEBUG:-true} SMS_BACKEND=$${SMS_BACKEND:-assist_center.sms.backends.FileBackend} \
	SMS_FILE_PATH=$${SMS_FILE_PATH:-$(CURDIR)/var/sms.jsonl}

migrate: install services messages
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput -v 0

seed: migrate
	$(RUN_ENV) $(BIN)/python manage.py seed_demo --if-empty

run: debs seed
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput -v 0
	@$(RUN_ENV) $(BIN)/python manage.py demo_banner
	$(RUN_ENV) $(BIN)/honcho start -f Procfile

test: install debs services messages
	DJANGO_SETTINGS_MODULE=assist_center.settings.test $(BIN)/pytest -n 2 --dist loadgroup -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/mypy .
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run -v 1

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: migrate
	DEBUG=true $(BIN)/python -m bench

clean:
	rm -rf $(VENV) var/staticfiles

# Not in CI (it takes several minutes): set-up from nothing on a fresh Debian 12 root, and the
# Dockerfile's steps and the compose services' healthchecks without a container engine. As root.
.PHONY: prove-setup
prove-setup:
	scripts/prove_bare_setup.sh
