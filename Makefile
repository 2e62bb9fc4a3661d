# kapflow: `make run` serves the demo clinic (with the task worker), `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KAPFLOW_DATA_DIR ?= $(CURDIR)/var

.PHONY: install run test lint format clean reliability fuzz lost-updates crash backup-check bench

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "kapflow needs Python 3.11 or newer"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
		echo "Could not create a virtual environment. On Debian: sudo apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: export KAPFLOW_PUBLIC_CLINIC ?= demo
run: $(STAMP)
	$(BIN)/kapflow manage migrate --noinput
	$(BIN)/kapflow demo
	@echo "Outgoing email (invitations, password resets, reminders) is written to $(KAPFLOW_DATA_DIR)/mail/"
# The task worker (email reminders) runs in the background and is stopped with the server.
	$(BIN)/kapflow worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/kapflow serve --host 127.0.0.1 --port 8000

# The suite runs on every core (pytest-xdist; each worker has its own test database).
# `make test PYTEST_WORKERS=0` runs it in one process.
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy kapflow tests
	$(BIN)/bandit -q -c pyproject.toml -r kapflow --severity-level high

# The figures of docs/RELIABILITY.md, in full (the suite runs smaller versions of each in CI).
# Each runs on SQLite, then on the PostgreSQL server of RELIABILITY_PG (empty: SQLite only).
# Throw-away databases are made on that server and dropped; about 40 minutes in all.
RELIABILITY_PG ?= postgres://postgres@127.0.0.1:5432
reliability: fuzz lost-updates crash backup-check

fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py
	$(if $(RELIABILITY_PG),$(BIN)/python bench/fuzz.py --database-url $(RELIABILITY_PG)/kapflow_fuzz)

lost-updates: $(STAMP)
	KAPFLOW_RELIABILITY_FULL=1 $(BIN)/pytest -p no:xdist -q -s tests/reliability/test_lost_updates.py
	$(if $(RELIABILITY_PG),KAPFLOW_RELIABILITY_FULL=1 DATABASE_URL=$(RELIABILITY_PG)/kapflow_lost $(BIN)/pytest -p no:xdist -q -s tests/reliability/test_lost_updates.py)

crash: $(STAMP)
	$(BIN)/python bench/crash_safety.py --cycles 100
	$(if $(RELIABILITY_PG),$(BIN)/python bench/crash_safety.py --cycles 100 --database-url $(RELIABILITY_PG)/kapflow_crash)

backup-check: $(STAMP)
	bench/backup_roundtrip.sh $(RELIABILITY_PG)

# Performance (bench/README.md): kapflow under gunicorn with a synthetic network of
# 25 clinics and 50,000 patients, driven by wrk; on SQLite, then on the PostgreSQL server of
# BENCH_PG (empty: SQLite only), in a throw-away database that is dropped. Not part of `make test`.
# It fails on errors (a non-2xx answer, the server failing), not on missed targets (see --strict).
# Smaller: make bench BENCH_ARGS='--clinics 2 --patients 500 --duration 3'
BENCH_PG ?= postgres://postgres@127.0.0.1:5432
BENCH_ARGS ?=
bench: $(STAMP)
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; \
		else echo "make bench needs wrk, the HTTP load generator: sudo apt-get install wrk"; exit 1; fi; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)
	$(if $(BENCH_PG),$(BIN)/python bench/run.py --database-url $(BENCH_PG)/kapflow_bench $(BENCH_ARGS))

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
