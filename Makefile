# Antrean: `make demo` starts a demo city on SQLite; `make test` runs every test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo serve test lint format migrate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	} || echo "WARNING: no chromium: browser tests will skip (and fail under CI=true)"

demo: $(STAMP) ## the demo city (Balikpapan) on SQLite at http://127.0.0.1:8000
	$(BIN)/python -m app.demo

serve: $(STAMP) ## the service as configured by ANTREAN_* variables
	$(BIN)/python -m app

test: $(STAMP) browser ## every suite: SQLite, PostgreSQL, server processes, browser
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/alembic upgrade head

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .mypy_cache .ruff_cache antrean-demo.db*
