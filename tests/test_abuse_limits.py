"""Abuse limits: failed logins, request body size, WebSocket connections and messages."""

import asyncio
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from starlette.types import Message
from starlette.websockets import WebSocketDisconnect

import app.routers.auth as auth_routes
from app.config import Settings
from app.http.limits import BodySizeLimit
from app.main import create_app
from tests.clock import FakeClock
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME, World


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The limits do not depend on the database: SQLite only (conftest's runs both)."""
    path = tmp_path / "antrean.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


TOKEN = "/api/v1/auth/token"
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


@contextmanager
def from_address(client: TestClient, host: str) -> Iterator[None]:
    """Requests of this block come from `host` (what uvicorn puts in the ASGI scope)."""
    transport: Any = client._transport
    before = transport.client
    transport.client = (host, 40000)
    try:
        yield
    finally:
        transport.client = before


def login(client: TestClient, password: str, username: str = ADMIN_USERNAME) -> Any:
    return client.post(TOKEN, data={"username": username, "password": password})


def assert_limited(response: Any, most_seconds: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response.headers["Retry-After"]) <= most_seconds


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the password verifications (the slow Argon2 hash) of the login route."""
    seen: list[str] = []
    verify = auth_routes.verify_password  # type: ignore[attr-defined]

    def counting(password: str, hashed: str | None) -> bool:
        seen.append(password)
        time.sleep(0.01)  # as slow as a real hash, so that guesses sent at once overlap
        return verify(password, hashed)

    monkeypatch.setattr(auth_routes, "verify_password", counting)
    return seen


def test_failed_logins_from_one_address_are_limited_not_the_owner(
    client: TestClient, hashes: list[str]
) -> None:
    with from_address(client, ATTACKER):
        statuses = [login(client, f"guess-{n}").status_code for n in range(50)]
        assert statuses == [401] * 10 + [429] * 40
        assert len(hashes) == 10  # refused attempts are refused before the hash
        refused = login(client, "guess-50")
        assert_limited(refused, 15 * 60)
        # Even the right password is refused from there, unchecked, while the window is full.
        assert_limited(login(client, ADMIN_PASSWORD), 15 * 60)
        assert len(hashes) == 10
    with from_address(client, OWNER):
        signed_in = login(client, ADMIN_PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.json()["access_token"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["name"] == ADMIN_USERNAME


def test_guesses_sent_at_once_get_no_more_than_the_limit(
    client: TestClient, hashes: list[str]
) -> None:
    with from_address(client, ATTACKER), ThreadPoolExecutor(max_workers=16) as pool:
        statuses = sorted(pool.map(lambda n: login(client, f"guess-{n}").status_code, range(40)))
    assert statuses == [401] * 10 + [429] * 30
    assert len(hashes) == 10


def test_only_failures_count_and_a_success_clears_the_address(client: TestClient) -> None:
    with from_address(client, OWNER):
        for _ in range(20):  # successes never count
            assert login(client, ADMIN_PASSWORD).status_code == 200
        for n in range(9):
            assert login(client, f"typo-{n}").status_code == 401
        assert login(client, ADMIN_PASSWORD).status_code == 200  # clears this pair's count
        for n in range(9):
            assert login(client, f"typo-again-{n}").status_code == 401
        assert login(client, ADMIN_PASSWORD).status_code == 200


def test_failures_per_address_over_many_usernames(client: TestClient) -> None:
    with from_address(client, ATTACKER):
        names = [ADMIN_USERNAME, "nobody", "someone", "no such/name"]  # the last names no account
        for n in range(30):
            assert login(client, "guess", username=names[n % 4]).status_code == 401
        assert_limited(login(client, "guess", username="another"), 15 * 60)
    with from_address(client, OWNER):  # the address's limit is the address's only
        assert login(client, ADMIN_PASSWORD).status_code == 200


def test_failures_per_account_over_many_addresses(client: TestClient) -> None:
    for host in range(10):  # 10 addresses, each at its own limit of 10 for the account
        with from_address(client, f"192.0.2.{host}"):
            for _ in range(10):
                assert login(client, "guess").status_code == 401
    with from_address(client, "192.0.2.200"):
        assert_limited(login(client, "guess"), 3600)
        assert login(client, "guess", username="someone-else").status_code == 401


def test_an_ipv6_prefix_counts_as_one_address(client: TestClient) -> None:
    for host in range(10):  # a new address of the same /64 for each guess
        with from_address(client, f"2001:db8:1:2::{host + 1:x}"):
            assert login(client, "guess").status_code == 401
    with from_address(client, "2001:db8:1:2:ffff::1"):
        assert_limited(login(client, "guess"), 15 * 60)
    with from_address(client, "2001:db8:1:3::1"):  # the next /64 is someone else
        assert login(client, ADMIN_PASSWORD).status_code == 200


def test_failed_logins_counted_across_processes(
    settings: Settings, engine: Engine, clock: FakeClock, redis_url: str, redis_channel: str
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url, "redis_channel": redis_channel})
    first, second = (create_app(shared, engine=engine, clock=clock) for _ in range(2))
    with TestClient(first) as one, TestClient(second) as other:
        for client in (one, other):
            with from_address(client, ATTACKER):
                for _ in range(5):
                    assert login(client, "guess").status_code == 401
        with from_address(one, ATTACKER):
            assert_limited(login(one, "guess"), 15 * 60)
        with from_address(other, OWNER):
            assert login(other, ADMIN_PASSWORD).status_code == 200


# Request bodies


def test_declared_body_over_the_limit_is_refused_and_nothing_taken(world: World) -> None:
    before = world.queue()
    too_large = world.client.post(
        f"/api/v1/clinics/{world.clinic_id}/tickets",
        headers={**world.kiosk, "Content-Type": "application/json"},
        content=b'{"service_id": 1, "pad": "' + b"x" * (64 * 1024) + b'"}',
    )
    assert too_large.status_code == 413, too_large.text
    assert too_large.json()["code"] == "body_too_large"
    assert "x-content-type-options" in too_large.headers
    assert world.queue() == before
    assert world.take()["code"] == "A-001"  # the refused request took no number


def test_streamed_body_over_the_limit_is_refused(world: World) -> None:
    before = world.queue()

    def chunks() -> Iterator[bytes]:
        yield b'{"service_id": 1, "pad": "'
        for _ in range(80):
            yield b"x" * 1024
        yield b'"}'

    response = world.client.post(
        f"/api/v1/clinics/{world.clinic_id}/tickets",
        headers={**world.kiosk, "Content-Type": "application/json"},
        content=chunks(),
    )
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "body_too_large"
    assert world.queue() == before


def test_streamed_body_within_the_limit_passes(world: World) -> None:
    service_id = world.services["A"]["id"]

    def chunks() -> Iterator[bytes]:
        yield b'{"service_id": '
        yield str(service_id).encode() + b"}"

    response = world.client.post(
        f"/api/v1/clinics/{world.clinic_id}/tickets",
        headers={**world.kiosk, "Content-Type": "application/json"},
        content=chunks(),
    )
    assert response.status_code == 201, response.text


def test_login_form_over_the_limit_is_refused(client: TestClient) -> None:
    response = login(client, "p" * (70 * 1024))
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def run_asgi(
    middleware: BodySizeLimit, headers: list[tuple[bytes, bytes]], chunks: list[bytes]
) -> tuple[list[Message], int]:
    """Calls the middleware directly; returns what it sent and how many chunks were read."""
    sent: list[Message] = []
    pending = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    pending.append({"type": "http.request", "body": b"", "more_body": False})
    read = 0

    async def receive() -> Message:
        nonlocal read
        read += 1
        return pending.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    asyncio.run(middleware(scope, receive, send))
    return sent, read


def test_body_limit_refuses_before_reading_and_counts_chunks() -> None:
    read_by_app: list[bytes] = []

    async def app(_scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            read_by_app.append(message["body"])
            if not message["more_body"]:
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    middleware = BodySizeLimit(app, max_bytes=1024)
    sent, read = run_asgi(middleware, [(b"content-length", b"5000")], [b"x" * 5000])
    assert sent[0]["status"] == 413
    assert read == 0
    assert read_by_app == []

    sent, read = run_asgi(middleware, [(b"transfer-encoding", b"chunked")], [b"x" * 600] * 3)
    assert sent[0]["status"] == 413
    assert read == 2  # the chunk that crossed the limit was the last one read
    assert len(read_by_app) == 1

    read_by_app.clear()
    sent, _ = run_asgi(middleware, [(b"transfer-encoding", b"chunked")], [b"x" * 500] * 2)
    assert sent[0]["status"] == 200
    assert len(read_by_app) == 3


# WebSockets


@pytest.fixture
def socket_app(settings: Settings, engine: Engine, clock: FakeClock) -> FastAPI:
    limited = settings.model_copy(
        update={"ws_connections_per_address": 2, "ws_message_rate": "3/10seconds"}
    )
    return create_app(limited, engine=engine, clock=clock)


def test_socket_connections_per_address(socket_app: FastAPI) -> None:
    with TestClient(socket_app) as client:
        world = World.build(client)
        path = f"/ws/clinics/{world.clinic_id}"
        with client.websocket_connect(path) as first, client.websocket_connect(path) as second:
            assert first.receive_json()["type"] == "snapshot"
            assert second.receive_json()["type"] == "snapshot"
            with client.websocket_connect(path) as third:
                with pytest.raises(WebSocketDisconnect) as refused:
                    third.receive_json()
                assert refused.value.code == 1013
            with from_address(client, OWNER):  # another address is not affected
                with client.websocket_connect(path) as elsewhere:
                    assert elsewhere.receive_json()["type"] == "snapshot"
        with client.websocket_connect(path) as again:  # places are given back on close
            assert again.receive_json()["type"] == "snapshot"


def drain(socket: Any) -> None:
    while True:
        socket.receive_json()


def test_socket_sending_too_much_is_closed(socket_app: FastAPI) -> None:
    with TestClient(socket_app) as client:
        world = World.build(client)
        path = f"/ws/clinics/{world.clinic_id}"
        with client.websocket_connect(path) as socket:
            assert socket.receive_json()["type"] == "snapshot"
            for n in range(4):
                socket.send_text(f"hello {n}")
            with pytest.raises(WebSocketDisconnect) as closed:
                drain(socket)
            assert closed.value.code == 1008
        for _ in range(2):  # the closed socket gave its place back
            with client.websocket_connect(path) as again:
                assert again.receive_json()["type"] == "snapshot"
                again.send_text("a few messages are fine")
                world.take()
                assert again.receive_json()["type"] != "snapshot"
