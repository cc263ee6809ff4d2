# Antrean: `make demo` starts a demo city on SQLite; `make test` runs every test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lock browser demo serve test screenshots lint format migrate clean

UV_VERSION := 0.13.8

# Everything installs from the locks (exact versions with hashes), never from ranges:
# requirements-dev.lock for a checkout (service, build backend, test and lint tools),
# requirements.lock (the same pins, service only) for the image.
$(STAMP): requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

# Re-resolve both locks after editing pyproject.toml; `make lock UPGRADE=1` moves every pin to
# the newest release (then run the whole suite, and commit the locks on their own).
UV := $(VENV)-uv/bin/uv
COMPILE := $(UV) pip compile --generate-hashes --universal --python-version 3.11 --quiet
lock:
	test -x $(UV) || { $(PYTHON) -m venv $(VENV)-uv && $(VENV)-uv/bin/pip install --quiet uv==$(UV_VERSION); }
	$(COMPILE) $(if $(UPGRADE),--upgrade) pyproject.toml requirements/build.in --extra dev \
		-o requirements-dev.lock
	$(COMPILE) pyproject.toml requirements/build.in -c requirements-dev.lock -o requirements.lock

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

# The README's pictures: the browser tests, saving their screenshots into docs/screenshots/.
screenshots: $(STAMP) browser
	ANTREAN_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest $(wildcard tests/test_pages_*.py)

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
	rm -rf $(VENV) $(VENV)-uv *.egg-info .pytest_cache .mypy_cache .ruff_cache antrean-demo.db*
