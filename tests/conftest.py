"""Fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL is ANTREAN_TEST_POSTGRES_URL (default: database `test` on 127.0.0.1:5432). When it
cannot be reached its tests skip, except under CI=true, where they fail.
"""

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, make_url, text
from sqlalchemy.exc import OperationalError

from app.auth.passwords import use_hasher
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import metadata
from tests.clock import FakeClock
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME, World

POSTGRES_URL = os.environ.get(
    "ANTREAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

use_hasher(PasswordHasher.from_parameters(CHEAPEST))


def postgres_server_or_skip() -> Engine:
    engine = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        engine.dispose()
        message = f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own, so parallel runs never share tables."""
    server = postgres_server_or_skip()
    name = f"antrean_test_{os.getpid()}_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "antrean.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_to_head(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_migrated(postgres_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_url)
    upgrade_to_head(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "antrean.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    engine: Engine = request.getfixturevalue("postgres_migrated")
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield engine.url.render_as_string(hide_password=False)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        run_migrations=False,
        admin_username=ADMIN_USERNAME,
        admin_password=ADMIN_PASSWORD,
        secret_key=None,
        remote_ticket_rate="5/minute",
    )


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FakeClock) -> FastAPI:
    return create_app(settings, engine=engine, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def world(client: TestClient) -> World:
    """A clinic in WITA with registration, two polyclinics, a lab, counters, staff and a kiosk."""
    return World.build(client)


@contextmanager
def fresh_postgres_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    server = postgres_server_or_skip()
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with nothing in it, not even migrations."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with fresh_postgres_database("antrean_empty") as url:
        yield url


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    with fresh_postgres_database("antrean_empty") as url:
        yield url


REDIS_URL = os.environ.get("ANTREAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis; skips without one, except under CI=true, where it fails."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {REDIS_URL}: {exc}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def redis_channel() -> str:
    """A channel of this test's own, so parallel runs on one Redis never cross."""
    return f"antrean-test:{os.getpid()}:{secrets.token_hex(4)}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


from tests.browser import browser, city  # noqa: E402, F401  (fixtures of the browser tests)
