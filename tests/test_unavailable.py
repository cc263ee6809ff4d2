"""Which errors mean "the database (or Redis) is away" (503 unavailable, Retry-After) and which
stay what they were; in-process, without a server (the restart itself:
tests/test_crash_rounds.py)."""

from collections.abc import Callable

import psycopg
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.errors import install_error_handlers
from app.unavailable import install

RAISING: dict[str, Callable[[], BaseException]] = {
    "refused": lambda: OperationalError("SELECT 1", {}, psycopg.OperationalError("refused")),
    "pool": lambda: PoolTimeout("QueuePool limit reached"),
    "driver": lambda: psycopg.OperationalError("the connection is lost"),
    "redis": lambda: redis.ConnectionError("Connection refused"),
    "unique": lambda: IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("dup")),
    "syntax": lambda: ProgrammingError("SELEC", {}, psycopg.errors.SyntaxError("syntax")),
}


@pytest.fixture
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    install(app)
    for name, error in RAISING.items():

        def route(error: Callable[[], BaseException] = error) -> None:
            raise error()

        app.get(f"/{name}")(route)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("name", ["refused", "pool", "driver", "redis"])
def test_the_database_or_redis_away_is_503_unavailable_with_retry_after(
    client: TestClient, name: str
) -> None:
    response = client.get(f"/{name}")
    assert response.status_code == 503
    assert response.json() == {
        "detail": "The service is briefly unavailable, try again shortly",
        "code": "unavailable",
    }
    assert int(response.headers["Retry-After"]) >= 1


def test_other_database_errors_stay_what_they_were(client: TestClient) -> None:
    assert client.get("/unique").status_code == 409
    assert client.get("/syntax").status_code == 500
