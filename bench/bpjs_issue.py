"""What the BPJS bridge costs the queue: CPU per ticket with the bridge on and off, in one run.

In-process like bench/issue_cpu.py (the ASGI app driven directly, one SQLite file), one app
with two clinics of the same shape: registration (kiosk tickets) and a poli. In one the bridge
is on, pointed at the fake BPJS (a process of its own, over HTTP), and the poli's patients
book through Mobile JKN; in the other there is no bridge and the poli's patients take kiosk
tickets. A burst is 32 registration tickets taken at once, then the poli's counter calls its
next (with the bridge: an outbox row, sent by the worker) and registration calls 4. The poli's
tickets are taken before each round (`--bookings ahead`, the outbox's cost) or one in each
burst (`--bookings in-round`, Mobile JKN's booking calls counted too). Rounds alternate between
the clinics (A B A B ...); a bridge round ends once the worker has sent what it was given, so
its sends count in its own round.

    .venv/bin/python -m bench.bpjs_issue [--rounds 6] [--bursts 30] [--bookings in-round]
"""

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.bpjs.fake import Consumer
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from app.models import BpjsOutbox, OutboxState
from bench.issue_cpu import ADMIN, BURST, call

Json = dict[str, Any]
CONSUMER = Consumer(cons_id="bench-cons", cons_secret="bench-secret", user_key="bench-key")
BPJS_LOGIN = ("mjkn.bench", "rahasia-bench-2026")
WITA = timedelta(hours=8)
FAKE_PORT = 18099
FAKE_URL = f"http://127.0.0.1:{FAKE_PORT}"
REGISTRATION_CALLS = 4


async def _json(app: Any, method: str, path: str, headers: dict[str, str], data: Json) -> Json:
    status, body = await call(app, method, path, headers, json.dumps(data).encode())
    assert 200 <= status < 300, (path, status, body)
    answer: Json = json.loads(body)
    return answer


@dataclass
class Clinic:
    id: int
    code: str
    bpjs: bool
    kiosk: dict[str, str]
    registration: int  # service id
    poli: int
    poli_counter: int
    registration_counters: list[int]
    mjkn: dict[str, str] = field(default_factory=dict)


async def setup(app: Any, admin: dict[str, str], code: str, *, bpjs: bool) -> Clinic:
    clinic = await _json(
        app,
        "POST",
        "/api/v1/clinics",
        admin,
        {"code": code, "name": f"Puskesmas {code.title()}", "timezone": "Asia/Makassar"},
    )
    base = f"/api/v1/clinics/{clinic['id']}"
    registration = await _json(
        app, "POST", f"{base}/services", admin, {"name": "Pendaftaran", "prefix": "A"}
    )
    poli = await _json(app, "POST", f"{base}/services", admin, {"name": "Poli Umum", "prefix": "B"})
    counters = [
        await _json(
            app, "POST", f"{base}/counters", admin, {"name": name, "service_ids": [service]}
        )
        for name, service in (
            ("Ruang Umum", poli["id"]),
            ("Loket 1", registration["id"]),
            ("Loket 2", registration["id"]),
        )
    ]
    kiosk = await _json(app, "POST", f"{base}/devices", admin, {"name": "K", "kind": "kiosk"})
    if bpjs:
        await _json(
            app,
            "PATCH",
            f"/api/v1/services/{poli['id']}",
            admin,
            {"bpjs_poli_code": "001"},
        )
        await _json(
            app,
            "PUT",
            f"{base}/bpjs",
            admin,
            {
                "enabled": True,
                "base_url": FAKE_URL,
                "cons_id": CONSUMER.cons_id,
                "cons_secret": CONSUMER.cons_secret,
                "user_key": CONSUMER.user_key,
                "username": BPJS_LOGIN[0],
                "password": BPJS_LOGIN[1],
            },
        )
    return Clinic(
        id=clinic["id"],
        code=code,
        bpjs=bpjs,
        kiosk={"Authorization": "Bearer " + kiosk["key"]},
        registration=registration["id"],
        poli=poli["id"],
        poli_counter=counters[0]["id"],
        registration_counters=[c["id"] for c in counters[1:]],
    )


async def sign_in(app: Any, clinic: Clinic) -> None:
    """Mobile JKN's token for the clinic (taken again each round: it lasts minutes)."""
    headers = {"x-username": BPJS_LOGIN[0], "x-password": BPJS_LOGIN[1]}
    status, body = await call(app, "GET", f"/bpjs/fktp/{clinic.code}/auth", headers)
    answer = json.loads(body)
    assert answer["metadata"]["code"] == 200, body
    clinic.mjkn = {"x-token": answer["response"]["token"], "x-username": BPJS_LOGIN[0]}


async def poli_ticket(app: Any, clinic: Clinic, cards: "count[int]") -> None:
    if not clinic.bpjs:
        body = json.dumps({"service_id": clinic.poli}).encode()
        path = f"/api/v1/clinics/{clinic.id}/tickets"
        status, answer = await call(app, "POST", path, clinic.kiosk, body)
        assert status == 201, answer
        return
    today = (datetime.now(UTC) + WITA).date().isoformat()
    booking = {
        "nomorkartu": f"{next(cards):013d}",
        "nik": "6471012301900001",
        "kodepoli": "001",
        "tanggalperiksa": today,
        "keluhan": "demam",
        "kodedokter": 101,
        "jampraktek": "08:00-12:00",
        "norm": "RM-1",
        "nohp": "081234567890",
    }
    path = f"/bpjs/fktp/{clinic.code}/antrean"
    status, answer = await call(app, "POST", path, clinic.mjkn, json.dumps(booking).encode())
    assert json.loads(answer)["metadata"]["code"] == 200, answer


async def burst(
    app: Any, clinic: Clinic, admin: dict[str, str], cards: "count[int]", *, poli: bool
) -> None:
    """32 registration tickets at once (and with `poli`, the poli's ticket among them), then
    the poli calls its next and registration calls 4."""
    ticket = json.dumps({"service_id": clinic.registration}).encode()
    path = f"/api/v1/clinics/{clinic.id}/tickets"
    kiosk = asyncio.gather(*(call(app, "POST", path, clinic.kiosk, ticket) for _ in range(BURST)))
    if poli:
        answers, _ = await asyncio.gather(kiosk, poli_ticket(app, clinic, cards))
    else:
        answers = await kiosk
    assert all(status == 201 for status, _ in answers), answers[0]
    calls = [clinic.poli_counter] + clinic.registration_counters * (REGISTRATION_CALLS // 2)
    for counter in calls:
        status, body = await call(app, "POST", f"/api/v1/counters/{counter}/call-next", admin)
        assert status == 200, body


def outbox_rows(engine: Any, *, delivered: bool) -> int:
    """How many outbox rows are delivered (or not yet)."""
    state = col(BpjsOutbox.state)
    with Session(engine) as session:
        found = session.execute(
            select(func.count())
            .select_from(BpjsOutbox)
            .where(state == OutboxState.delivered if delivered else state != OutboxState.delivered)
        ).scalar_one()
        return int(found)


async def measure(rounds: int, bursts: int, booked_ahead: bool) -> dict[bool, list[float]]:
    """CPU µs per ticket taken, per round, by whether the clinic has the bridge.
    `booked_ahead`: the poli's tickets (Mobile JKN bookings in the BPJS clinic) are taken
    before the round, as bookings are made hours or days ahead, so the round holds the queue's
    work and the outbox's (writing the calls, sending them) but not Mobile JKN's own calls."""
    folder = tempfile.mkdtemp()
    url = f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    upgrade_to_head(engine)
    settings = Settings(
        database_url=url,
        run_migrations=False,
        admin_username=ADMIN[0],
        admin_password=ADMIN[1],
        secret_key=None,
        bpjs_rate="1000000/minute",
        bpjs_auth_rate="1000000/minute",
    )
    app = create_app(settings, engine=engine)
    figures: dict[bool, list[float]] = {True: [], False: []}
    cards = count(1)
    async with app.router.lifespan_context(app):
        form = f"username={ADMIN[0]}&password={ADMIN[1]}".encode()
        status, body = await call(app, "POST", "/api/v1/auth/token", {}, form, form=True)
        admin = {"Authorization": "Bearer " + json.loads(body)["access_token"]}
        clinics = [
            await setup(app, admin, "BRIDGE", bpjs=True),
            await setup(app, admin, "PLAIN", bpjs=False),
        ]
        delivery = app.state.bpjs_outbox.delivery
        for warm in range(2 * 5):  # warm up both: caches, prepared statements
            clinic = clinics[warm % 2]
            if clinic.bpjs:
                await sign_in(app, clinic)
            await burst(app, clinic, admin, cards, poli=True)
        for round_number in range(2 * rounds):
            clinic = clinics[round_number % 2]
            if clinic.bpjs:
                await sign_in(app, clinic)
            if booked_ahead:
                for _ in range(bursts):
                    await poli_ticket(app, clinic, cards)
            started = time.process_time()
            for _ in range(bursts):
                await burst(app, clinic, admin, cards, poli=not booked_ahead)
            if clinic.bpjs:  # what the worker was given this round is sent in this round
                await delivery.deliver_due(datetime.now(UTC))
                # What is still out is the worker's, being sent.
                while await asyncio.to_thread(outbox_rows, engine, delivered=False):
                    await asyncio.sleep(0.02)
                    await delivery.deliver_due(datetime.now(UTC))
            taken = bursts * (BURST if booked_ahead else BURST + 1)
            figures[clinic.bpjs].append((time.process_time() - started) / taken * 1e6)
        sent = outbox_rows(engine, delivered=True)
    engine.dispose()
    print(f"outbox rows delivered to the fake BPJS: {sent}")
    return figures


@contextmanager
def fake_bpjs() -> Iterator[None]:
    """The fake BPJS in a process of its own: its CPU is BPJS's, not the clinic's."""
    command = [sys.executable, "-m", "app.bpjs.fake", "--port", str(FAKE_PORT)]
    command += ["--cons-id", CONSUMER.cons_id, "--secret", CONSUMER.cons_secret]
    command += ["--user-key", CONSUMER.user_key]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", FAKE_PORT), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("the fake BPJS did not start") from None
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6, help="rounds of each clinic")
    parser.add_argument("--bursts", type=int, default=30, help="bursts a round")
    parser.add_argument(
        "--bookings",
        choices=["ahead", "in-round"],
        default="ahead",
        help="the poli's tickets taken before each round (the outbox's cost), or in its bursts "
        "(Mobile JKN's booking calls counted too)",
    )
    args = parser.parse_args()
    with fake_bpjs():
        figures = asyncio.run(measure(args.rounds, args.bursts, args.bookings == "ahead"))
    on, off = statistics.median(figures[True]), statistics.median(figures[False])
    for bridge, label in ((False, "bridge off"), (True, "bridge on ")):
        print(
            f"{label}: CPU per ticket, µs: "
            + " ".join(f"{figure:.0f}" for figure in figures[bridge])
            + f"  (median {statistics.median(figures[bridge]):.0f})"
        )
    # Throughput is the inverse of CPU per ticket here (the process is CPU-bound).
    ratio = off / on
    print(f"throughput, bridge on / off: {ratio:.3f} (a drop of {(1 - ratio) * 100:.1f} %)")


if __name__ == "__main__":
    main()
