"""Two server processes on one PostgreSQL database and one Redis: a display connected to one
process sees what staff do through the other, in order, through a Redis drop and a restart."""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from tests.server import ServerProcess
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.slow

Json = dict[str, Any]


@pytest.fixture
def servers(
    empty_postgres_url: str, redis_url: str, redis_channel: str
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {
        "ANTREAN_DATABASE_URL": empty_postgres_url,
        "ANTREAN_REDIS_URL": redis_url,
        "ANTREAN_REDIS_CHANNEL": redis_channel,
        "ANTREAN_ADMIN_USERNAME": ADMIN_USERNAME,
        "ANTREAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANTREAN_REALTIME_POLL_SECONDS": "1",
        "ANTREAN_REMOTE_TICKET_RATE": "3/minute",
    }
    first, second = ServerProcess(env), ServerProcess(env)
    first.start()
    second.start()
    yield first, second
    first.stop()
    second.stop()


class Clinic:
    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=f"{base}/api/v1", timeout=10)
        token = self.http.post(
            "/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.id = self.http.post("/clinics", json={"code": "DAMAI", "name": "Damai"}).json()["id"]
        self.service = self.http.post(
            f"/clinics/{self.id}/services", json={"name": "Pendaftaran", "prefix": "A"}
        ).json()["id"]
        self.counter = self.http.post(
            f"/clinics/{self.id}/counters", json={"name": "Loket 1", "service_ids": [self.service]}
        ).json()["id"]

    def close(self) -> None:
        self.http.close()

    def take(self) -> Json:
        response = self.http.post(f"/clinics/{self.id}/tickets", json={"service_id": self.service})
        assert response.status_code == 201, response.text
        body: Json = response.json()
        return body

    def call(self) -> Json:
        response = self.http.post(f"/counters/{self.counter}/call-next")
        assert response.status_code == 200, response.text
        body: Json = response.json()
        return body


@pytest.fixture
def clinic(servers: tuple[ServerProcess, ServerProcess]) -> Iterator[Clinic]:
    """A clinic set up through the first process."""
    clinic = Clinic(servers[0].url)
    yield clinic
    clinic.close()


def next_change(ws: ClientConnection) -> Json:
    while True:
        message: Json = json.loads(ws.recv(timeout=10))
        if message["type"] != "ping":
            return message


def display(server: ServerProcess, clinic_id: int, since: int | None = None) -> ClientConnection:
    query = "" if since is None else f"?since={since}"
    return connect(f"ws://127.0.0.1:{server.port}/ws/clinics/{clinic_id}{query}")


def test_a_call_through_one_process_reaches_a_display_on_the_other(
    servers: tuple[ServerProcess, ServerProcess], clinic: Clinic
) -> None:
    b = servers[1]
    with display(b, clinic.id) as ws:
        start = next_change(ws)
        assert start["type"] == "snapshot"
        ticket = clinic.take()
        clinic.call()
        issued, called = next_change(ws), next_change(ws)
        assert (issued["type"], issued["seq"]) == ("ticket.issued", start["seq"] + 1)
        assert (called["type"], called["seq"]) == ("ticket.called", start["seq"] + 2)
        assert called["ticket"]["code"] == ticket["code"]
        assert called["counter"]["name"] == "Loket 1"


def test_displays_recover_by_themselves_when_redis_drops_every_connection(
    servers: tuple[ServerProcess, ServerProcess], clinic: Clinic, redis_url: str
) -> None:
    b = servers[1]
    with display(b, clinic.id) as ws:
        seq = next_change(ws)["seq"]
        killer = redis.Redis.from_url(redis_url)
        dropped = killer.client_kill_filter(_type="pubsub") + killer.client_kill_filter(
            _type="normal", skipme=True
        )
        killer.close()
        assert dropped >= 2
        clinic.take()  # published while the processes reconnect
        clinic.take()
        assert [next_change(ws)["seq"] for _ in range(2)] == [seq + 1, seq + 2]
        clinic.call()
        assert next_change(ws)["seq"] == seq + 3


def test_a_display_survives_a_restart_of_its_server_and_gets_what_it_missed(
    servers: tuple[ServerProcess, ServerProcess], clinic: Clinic
) -> None:
    b = servers[1]
    with display(b, clinic.id) as ws:
        seq = next_change(ws)["seq"]
    b.stop()
    clinic.take()
    clinic.call()
    b.start()
    with display(b, clinic.id, since=seq) as ws:
        missed = [next_change(ws), next_change(ws)]
    assert [m["type"] for m in missed] == ["ticket.issued", "ticket.called"]
    assert [m["seq"] for m in missed] == [seq + 1, seq + 2]


def test_permessage_deflate_is_refused_to_save_memory_per_socket(
    servers: tuple[ServerProcess, ServerProcess], clinic: Clinic
) -> None:
    with display(servers[1], clinic.id) as ws:  # the client offers permessage-deflate
        assert next_change(ws)["type"] == "snapshot"
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers


def test_the_phone_rate_limit_is_shared_by_every_process(
    servers: tuple[ServerProcess, ServerProcess], clinic: Clinic
) -> None:
    body = {"service_id": clinic.service}
    statuses = [
        httpx.post(f"{server.url}/api/v1/clinics/{clinic.id}/tickets", json=body).status_code
        for server in (*servers, *servers)
    ]
    assert statuses == [201, 201, 201, 429]


def wait_until_refused(
    bases: list[str], path: str, headers: dict[str, str], deadline: float
) -> dict[str, float]:
    """Per server, how long after the start its first 401 on `path` came."""
    started = time.monotonic()
    refused: dict[str, float] = {}
    while len(refused) < len(bases) and time.monotonic() - started < deadline:
        for base in bases:
            if base not in refused:
                status = httpx.get(f"{base}/api/v1{path}", headers=headers).status_code
                if status == 401:
                    refused[base] = time.monotonic() - started
                else:
                    assert status == 200, status
        time.sleep(0.02)
    return refused


def test_an_account_or_key_disabled_through_one_process_is_refused_by_both_within_a_second(
    servers: tuple[ServerProcess, ServerProcess], clinic: Clinic
) -> None:
    bases = [servers[0].url, servers[1].url]
    account = clinic.http.post(
        "/users",
        json={
            "username": "damai.loket",
            "password": "loket-secret-1",
            "role": "staff",
            "clinic_id": clinic.id,
        },
    ).json()
    kiosk = clinic.http.post(
        f"/clinics/{clinic.id}/devices", json={"name": "Kios", "kind": "kiosk"}
    ).json()
    token = httpx.post(
        f"{bases[1]}/api/v1/auth/token",
        data={"username": "damai.loket", "password": "loket-secret-1"},
    ).json()["access_token"]
    credentials = {
        "account": {"Authorization": f"Bearer {token}"},
        "kiosk": {"Authorization": f"Bearer {kiosk['key']}"},
    }
    for headers in credentials.values():
        for base in bases:  # both processes now hold these sign-ins in memory
            assert httpx.get(f"{base}/api/v1/auth/me", headers=headers).status_code == 200

    disabled = clinic.http.patch(f"/users/{account['id']}", json={"is_active": False})
    assert disabled.status_code == 200, disabled.text
    account_refused = wait_until_refused(bases, "/auth/me", credentials["account"], 5)
    revoked = clinic.http.post(f"/devices/{kiosk['id']}/revoke")
    assert revoked.status_code == 200, revoked.text
    kiosk_refused = wait_until_refused(bases, "/auth/me", credentials["kiosk"], 5)

    for refused in (account_refused, kiosk_refused):
        assert set(refused) == set(bases), refused
        assert max(refused.values()) < 1.0, refused
    # The kiosk can no longer take tickets through either process.
    for base in bases:
        response = httpx.post(
            f"{base}/api/v1/clinics/{clinic.id}/tickets",
            json={"service_id": clinic.service},
            headers=credentials["kiosk"],
        )
        assert response.status_code == 401
