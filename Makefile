# salesmgmt developer commands. The two that matter: `make run` and `make test` (README.md).
# Every target installs what it needs first; the install is skipped while .venv is newer
# than pyproject.toml (the stamp file records the last successful install).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
PYTEST_ARGS ?=

.PHONY: help install run test lint security format migrations-check fuzz bench clean

help:
	@echo "make run               install, migrate, load demo data, serve on 127.0.0.1:8000"
	@echo "make test              install and run the whole test suite (pytest)"
	@echo "make lint              ruff check and ruff format --check"
	@echo "make security          bandit: medium and high severity findings in the apps"
	@echo "make format            ruff format and ruff check --fix"
	@echo "make migrations-check  fail when a model change has no migration"
	@echo "make fuzz              schemathesis against the API schema, thousands of calls per role"
	@echo "make bench             forecast recompute benchmark (use a PostgreSQL DATABASE_URL with seeded data)"
	@echo "make install           create .venv and install the project with its test tools"

$(STAMP): pyproject.toml
	@if [ ! -x $(BIN)/python ]; then \
		if [ -z "$(PYTHON)" ]; then echo "Python 3.11 or newer is required." >&2; exit 1; fi; \
		$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
			|| { echo "$(PYTHON) is too old: salesmgmt needs Python 3.11 or newer." >&2; exit 1; }; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV); \
	fi
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -e '.[test]'
	@touch $@

install: $(STAMP)

run: $(STAMP)
	scripts/run.sh

# pytest exits 5 when it collected nothing: a broken collection, never a pass.
test: $(STAMP)
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)." >&2; fi; \
	exit $$status

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

security: $(STAMP)
	$(BIN)/bandit -q -r salesmgmt accounts territories forecasting coaching compensation -x '*/migrations/*' -ll

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(STAMP)
	DJANGO_SETTINGS_MODULE=salesmgmt.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# The CI run replays a few hundred cases per role; this one replays thousands.
fuzz: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=20 $(BIN)/pytest tests/salesmgmt/api/test_schemathesis.py -q -p no:cacheprovider

# Not a timed test: prints figures. Seed first, e.g. seed_demo --reps 1000 --opportunities 200000.
bench: $(STAMP)
	$(BIN)/python manage.py bench_forecasting

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles *.egg-info
