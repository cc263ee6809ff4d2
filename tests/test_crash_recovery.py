"""After `kill -9` and a restart every committed ticket is there, and numbering goes on."""

import threading
import time
from collections.abc import Iterator

import httpx2 as httpx
import pytest

from tests.server import ServerProcess
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME

pytestmark = pytest.mark.slow


@pytest.fixture
def server(empty_database_url: str) -> Iterator[ServerProcess]:
    process = ServerProcess(
        {
            "ANTREAN_DATABASE_URL": empty_database_url,
            "ANTREAN_ADMIN_USERNAME": ADMIN_USERNAME,
            "ANTREAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
    )
    process.start()
    yield process
    process.stop()


def setup_clinic(base: str) -> tuple[dict[str, str], int, int]:
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    ).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    clinic = httpx.post(
        f"{base}/api/v1/clinics", headers=admin, json={"code": "BATAKAN", "name": "Batakan"}
    ).json()
    service = httpx.post(
        f"{base}/api/v1/clinics/{clinic['id']}/services",
        headers=admin,
        json={"name": "Pendaftaran", "prefix": "A"},
    ).json()
    return admin, clinic["id"], service["id"]


def test_kill_9_loses_no_committed_ticket_and_numbering_continues(server: ServerProcess) -> None:
    admin, clinic_id, service_id = setup_clinic(server.url)
    confirmed: list[dict[str, object]] = []
    stop = threading.Event()

    def issue_forever() -> None:
        with httpx.Client(base_url=server.url, timeout=5) as client:
            while not stop.is_set():
                try:
                    response = client.post(
                        f"/api/v1/clinics/{clinic_id}/tickets",
                        headers=admin,
                        json={"service_id": service_id},
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 201:
                    confirmed.append(response.json())

    workers = [threading.Thread(target=issue_forever) for _ in range(8)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + 20
    while len(confirmed) < 30 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()
    stop.set()
    for worker in workers:
        worker.join(timeout=10)
    assert len(confirmed) >= 30

    server.start()
    # The old token still works after the restart (the signing key is in the database).
    queue = httpx.get(f"{server.url}/api/v1/clinics/{clinic_id}/queue").json()
    waiting = queue["services"][0]["waiting"]
    stored_ids = {ticket["id"] for ticket in waiting}
    assert {ticket["id"] for ticket in confirmed} <= stored_ids
    numbers = sorted(int(ticket["code"].split("-")[1]) for ticket in waiting)
    assert numbers == list(range(1, len(numbers) + 1)), "a gap or a repeat in the numbering"

    after = httpx.post(
        f"{server.url}/api/v1/clinics/{clinic_id}/tickets",
        headers=admin,
        json={"service_id": service_id},
    )
    assert after.status_code == 201
    assert after.json()["number"] == len(numbers) + 1
