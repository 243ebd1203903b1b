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
BENCH_ARGS ?=

.PHONY: help install run test lint security audit format migrations-check fuzz bench load load-ci faults faults-ci clean

help:
	@echo "make run               install, migrate, load demo data, serve on 127.0.0.1:8000"
	@echo "make test              install and run the whole test suite (pytest -n auto; PYTEST_ARGS=-n0: serial)"
	@echo "make lint              ruff check, ruff format --check, lint-imports (the layers), mypy (types)"
	@echo "make security          bandit: medium and high severity findings in the apps"
	@echo "make audit             dependencies: pip check, pip-audit (online), local advisory file"
	@echo "make format            ruff format and ruff check --fix"
	@echo "make migrations-check  fail when a model change has no migration"
	@echo "make fuzz              schemathesis per role; long verify_figures state machines; full security sweeps"
	@echo "make bench             pages, API, recompute and CSV import against targets (PostgreSQL DATABASE_URL, seeded)"
	@echo "make load              locust, 100 users, 5 min, private production-like stack with a replica"
	@echo "make load-ci           the short load test CI runs (20 users, 30 s, small seed)"
	@echo "make faults            worker kill -9, Redis/PostgreSQL restarts, concurrent edits"
	@echo "make faults-ci         the short fault scenarios CI runs"
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

# In parallel (pytest-xdist, one worker per CPU), each worker with its own test database, cache
# key prefix and Redis database (salesmgmt/settings/test.py); PYTEST_ARGS="-n0" runs serially.
# pytest exits 5 when it collected nothing: a broken collection, never a pass.
test: $(STAMP)
	@$(BIN)/pytest -n auto $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests (exit 5)." >&2; fi; \
	exit $$status

# mypy checks what [tool.mypy] in pyproject.toml lists (the core, services, selectors,
# analytics); its cache (.mypy_cache) makes a second run take seconds.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

security: $(STAMP)
	$(BIN)/bandit -q -r salesmgmt accounts territories forecasting coaching compensation \
		csv_import demo_data benchmarks reconciliation planning -x '*/migrations/*' -ll

# Online pip-audit needs PyPI's JSON API; where it is unreachable the local advisory file
# (scripts/security-advisories.json) still runs. AUDIT_REQUIRE_ONLINE=1 fails instead.
audit: $(STAMP)
	$(BIN)/python scripts/audit_dependencies.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrations-check: $(STAMP)
	DJANGO_SETTINGS_MODULE=salesmgmt.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

# The CI run replays a few hundred cases per role; this one replays thousands, and the security
# sweeps (tests/salesmgmt/security/) send every case instead of their fixed-seed sample.
fuzz: $(STAMP)
	SCHEMATHESIS_MAX_EXAMPLES=20 $(BIN)/pytest tests/salesmgmt/api/test_schemathesis.py -q -p no:cacheprovider
	VERIFY_EXAMPLES=200 $(BIN)/pytest tests/reconciliation/test_fuzz.py -q -p no:cacheprovider
	SWEEP_FULL=1 $(BIN)/pytest tests/salesmgmt/security/ -q -p no:cacheprovider

# Not a timed test: prints figures. Seed first, e.g. seed_demo --reps 1000 --opportunities 200000.
# BENCH_ARGS: e.g. --quick (a few requests, pages only) or --no-fail; docs/benchmarks.md.
bench: $(STAMP)
	DEBUG=0 $(BIN)/python manage.py bench $(BENCH_ARGS)

# Loopback only: a private PostgreSQL (25432), Redis (6390), gunicorn (8100) and Celery under
# /tmp/salesmgmt-ops-*, torn down on exit (scripts/ops/). Exit non-zero when a target is missed.
load: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m scripts.ops.load

# CI's short run checks correctness under load (0 errors, every confirmed write stored, figures
# reconciled) on a machine the test suite has just left busy; its latency bound catches gross
# regressions only. The latency targets (300/500 ms) are `make load`'s, on a quiet machine.
load-ci: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m scripts.ops.load --users 20 --spawn-rate 4 --duration 30 --reps 30 --opportunities 1500 \
		--read-p95-target-ms 1000 --write-p95-target-ms 1000

faults: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m scripts.ops.faults

faults-ci: $(STAMP)
	PYTHONPATH=. $(BIN)/python -m scripts.ops.faults --short

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache staticfiles *.egg-info
