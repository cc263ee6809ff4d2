# Antrean: `make demo` starts a demo city on SQLite; `make test` runs every test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo serve test lint format migrate clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP) ## the demo city (Balikpapan) on SQLite at http://127.0.0.1:8000
	$(BIN)/python -m app.demo

serve: $(STAMP) ## the service as configured by ANTREAN_* variables
	$(BIN)/python -m app

test: $(STAMP) ## every suite: SQLite, PostgreSQL, real server processes
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
