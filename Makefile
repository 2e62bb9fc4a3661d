# kapflow: `make run` serves the demo clinic (with the task worker), `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KAPFLOW_DATA_DIR ?= $(CURDIR)/var

.PHONY: install run test lint format clean

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

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
