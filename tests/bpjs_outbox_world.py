"""The BPJS outbox's tests: a clinic with its bridge pointed at the fake BPJS, and the calls
the fake received."""

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from app.bpjs.fake import Consumer, FakeBpjs
from app.bpjs.outbox.worker import OutboxWorker
from app.models import BpjsOutbox, OutboxState
from app.models.bpjs import BpjsBooking
from tests.bpjs_mjkn import MobileJkn, bridge_on, outcome
from tests.clock import FakeClock
from tests.world import Json, World

# The consumer tests/bpjs_mjkn.py's bridge_on stores for the clinic.
CONSUMER = Consumer(cons_id="12345", cons_secret="s3cr3t-cons", user_key="user-key-abc")
FAKE_URL = "http://bpjs.fake"

Sent = tuple[str, dict[str, Any]]


def fake_bpjs(clock: FakeClock) -> FakeBpjs:
    """The fake on the tests' clock (its "today" and signature times are the app's)."""
    return FakeBpjs([CONSUMER], clock=lambda: clock.now.timestamp())


def card(n: int) -> str:
    return f"{n:013d}"


def bridge_to_fake(world: World) -> MobileJkn:
    bridge_on(world, base_url=FAKE_URL)
    return MobileJkn(world).sign_in()


def book(mjkn: MobileJkn, engine: Engine, nomorkartu: str, kodepoli: str = "001") -> Json:
    """A Mobile JKN booking: the ticket it became (id and code)."""
    answer = mjkn.book(nomorkartu=nomorkartu, kodepoli=kodepoli)
    assert outcome(answer) == (200, "Ok"), answer.text
    with Session(engine) as session:
        ticket_id = session.execute(
            select(col(BpjsBooking.ticket_id)).where(
                col(BpjsBooking.nomorkartu) == nomorkartu, col(BpjsBooking.kodepoli) == kodepoli
            )
        ).scalar_one()
    return {"id": ticket_id, "code": answer.json()["response"]["nomorantrean"]}


def stop_worker(client: TestClient) -> None:
    """Deliveries only when the test asks (`deliver`): the worker would race the clock the
    test moves by hand (a lease lapses in a simulated jump while a real call is out)."""
    worker: OutboxWorker = client.app.state.bpjs_outbox  # type: ignore[attr-defined]
    client.portal.call(worker.stop)  # type: ignore[union-attr]


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "waited in vain"
        time.sleep(0.01)


def deliver(client: TestClient, clock: FakeClock) -> int:
    """One delivery pass at the clock's time, on the app's event loop."""
    delivery = client.app.state.bpjs_outbox.delivery  # type: ignore[attr-defined]
    attempts: int = client.portal.call(delivery.deliver_due, clock.now)  # type: ignore[union-attr]
    return attempts


def quiet(engine: Engine, timeout: float = 5.0) -> None:
    """Wait until no row is being sent (the worker, woken by a commit, may be sending)."""
    deadline = time.monotonic() + timeout
    while any(row.state is OutboxState.sending for row in outbox(engine)):
        assert time.monotonic() < deadline, "a row stayed in sending"
        time.sleep(0.01)


def received(fake: FakeBpjs, *, delivered_only: bool = True) -> list[Sent]:
    """The panggil and batal calls the fake received (those it took, unless told otherwise)."""
    return [
        (call.path, call.body)
        for call in fake.calls
        if call.path in ("/antrean/panggil", "/antrean/batal")
        and (not delivered_only or (call.http_status == 200 and call.code == 200))
    ]


def outbox(engine: Engine) -> list[BpjsOutbox]:
    with Session(engine) as session:
        return list(session.execute(select(BpjsOutbox).order_by(col(BpjsOutbox.id))).scalars())


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def panggil(nomorkartu: str, status: int, at: datetime, day: str, kodepoli: str = "001") -> Sent:
    body = {
        "tanggalperiksa": day,
        "kodepoli": kodepoli,
        "nomorkartu": nomorkartu,
        "status": status,
        "waktu": ms(at),
    }
    return ("/antrean/panggil", body)


def batal(nomorkartu: str, alasan: str, day: str, kodepoli: str = "001") -> Sent:
    body = {"tanggalperiksa": day, "kodepoli": kodepoli, "nomorkartu": nomorkartu}
    return ("/antrean/batal", {**body, "alasan": alasan})
