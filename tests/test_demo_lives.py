"""`make demo` as a newcomer meets it: a past on the office's reports, calls on the display.

Runs `python -m app.demo` as its own process on a fresh SQLite file (the README's first command
does the same on ./antrean-demo.db), with a shorter history and the live morning sped up so the
test does not wait for real minutes.
"""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx2 as httpx
import pytest
from websockets.sync.client import connect

from app.demo import CLINICS, DEMO_ADMIN
from tests.server import ROOT, free_port

HISTORY_DAYS = 14


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "ANTREAN_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}",
        "ANTREAN_DEMO_HISTORY_DAYS": str(HISTORY_DAYS),
        "ANTREAN_DEMO_LIVE_SPEED": "40",
        "ANTREAN_LOG_LEVEL": "warning",
    }
    for name in ("ANTREAN_ADMIN_USERNAME", "ANTREAN_ADMIN_PASSWORD", "ANTREAN_REDIS_URL"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "app.demo", "--port", str(port)],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the demo exited"
            assert time.monotonic() < deadline, "the demo did not come up"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_demo_city_has_a_past_and_a_live_morning(demo: str) -> None:
    token = httpx.post(
        f"{demo}/api/v1/auth/token",
        data={"username": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]},
    ).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    clinics = httpx.get(f"{demo}/api/v1/clinics").json()
    assert len(clinics) == len(CLINICS)

    # The office's figures for the past weeks: every clinic served patients on working days.
    today = date.today()
    report = httpx.get(
        f"{demo}/api/v1/reports/wait-times",
        headers=admin,
        params={
            "date_from": str(today - timedelta(days=HISTORY_DAYS)),
            "date_to": str(today - timedelta(days=1)),
            "group_by": "clinic",
        },
    ).json()["rows"]
    assert {row["clinic_name"] for row in report} == {name for _, name, _ in CLINICS}
    for row in report:
        assert row["issued"] > 50 * (HISTORY_DAYS // 2), row
        assert 0 < row["served"] <= row["issued"]
        assert row["wait_mean_min"] is not None
    by_day = httpx.get(
        f"{demo}/api/v1/reports/wait-times",
        headers=admin,
        params={
            "clinic_id": clinics[0]["id"],
            "date_from": str(today - timedelta(days=HISTORY_DAYS)),
            "date_to": str(today - timedelta(days=1)),
            "group_by": "day",
        },
    ).json()["rows"]
    assert len(by_day) >= HISTORY_DAYS * 5 // 7  # Monday to Saturday

    # The display: numbers are called without anyone touching a counter.
    ws_url = demo.replace("http://", "ws://") + f"/ws/clinics/{clinics[0]['id']}"
    seen: list[str] = []
    with connect(ws_url, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "snapshot"
        deadline = time.monotonic() + 60
        while "ticket.called" not in seen and time.monotonic() < deadline:
            message = json.loads(socket.recv(timeout=60))
            seen.append(message["type"])
    assert "ticket.issued" in seen
    assert "ticket.called" in seen
