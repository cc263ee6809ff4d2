"""Crash rounds: kiosks, phones and counters at work while the server is killed (SIGKILL) at
random moments and restarted, on each database; then every 2xx is held to the database
(tests/crashload.py). Also the database and Redis restarted under a running service.

The seed is printed; ANTREAN_CRASH_SEED=<seed> runs the same kill moments and choices again.
"""

import os
import random
import re
import time
from collections.abc import Callable
from datetime import date

import httpx2 as httpx
import pytest

from app.db import make_engine
from tests.crashload import Ack, Journal, Load, Sent, Stored, check, read_database, setup_clinic
from tests.server import ServerProcess
from tests.world import ADMIN_PASSWORD, ADMIN_USERNAME

ROUNDS = int(os.environ.get("ANTREAN_CRASH_ROUNDS", "6"))


def crash_seed() -> int:
    raw = os.environ.get("ANTREAN_CRASH_SEED")
    return int(raw) if raw else random.SystemRandom().randrange(2**32)


def admin_headers(base: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.slow
def test_crash_rounds_lose_no_answered_change_and_keep_the_log_whole(
    empty_database_url: str,
) -> None:
    seed = crash_seed()
    print(f"\ncrash rounds: ANTREAN_CRASH_SEED={seed}")  # noqa: T201
    rng = random.Random(seed)
    server = ServerProcess(
        {
            "ANTREAN_DATABASE_URL": empty_database_url,
            "ANTREAN_ADMIN_USERNAME": ADMIN_USERNAME,
            "ANTREAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
            # Every phone comes from 127.0.0.1: the limit must not be what refuses them.
            "ANTREAN_REMOTE_TICKET_RATE": "100000/minute",
            "ANTREAN_PUBLIC_URL": "http://antrean.test",
        }
    )
    server.start()
    load: Load | None = None
    started = time.monotonic()
    try:
        admin = admin_headers(server.url)
        clinics = [setup_clinic(server.url, admin, code) for code in ("KARANG", "TELAGA")]
        load = Load(server.url, clinics, seed)
        load.start()
        for _ in range(ROUNDS):
            time.sleep(rng.uniform(1.0, 3.0))
            server.kill()
            time.sleep(rng.uniform(0.0, 0.4))
            server.start()
        time.sleep(1.0)
        load.finish()
    finally:
        if load is not None:
            load.stop.set()
        server.stop()
    engine = make_engine(empty_database_url)
    try:
        stored = read_database(engine)
    finally:
        engine.dispose()
    try:
        report = check(load.journal, stored)
    except AssertionError as exc:
        raise AssertionError(f"ANTREAN_CRASH_SEED={seed}\n{exc}") from None
    print(f"{ROUNDS} rounds in {time.monotonic() - started:.1f}s: {report}")  # noqa: T201
    assert report["acked tickets"] >= 50, report
    assert report["unanswered"] >= ROUNDS, "the kills caught no request in flight"


def one_ticket_world() -> tuple[Journal, Stored]:
    """A ticket issued (2xx), called by counter 7 (2xx) and started (2xx), as stored."""
    journal = Journal(counters_services={7: [2]})
    journal.sent = [
        Sent("issue", None, None, 1.0, 1.1, "ok", 201, key="k" * 16),
        Sent("call-next", None, 7, 2.0, 2.1, "ok", 200),
        Sent("start", 1, 7, 3.0, 3.1, "ok", 200),
    ]
    journal.keys = {"k" * 16: 1}
    journal.acks = [
        Ack(1, "issued", "waiting", 2, None, 1.0),
        Ack(1, "called", "called", 2, 7, 2.0),
        Ack(1, "started", "serving", 2, 7, 3.0),
    ]
    ticket = {
        "id": 1,
        "clinic_id": 1,
        "service_id": 2,
        "origin_service_id": 2,
        "counter_id": 7,
        "visit_date": date(2026, 12, 7),
        "number": 1,
        "status": "serving",
        "channel": "kiosk",
        "leg": 1,
    }
    event = {"clinic_id": 1, "ticket_id": 1, "leg": 1, "service_id": 2, "to_service_id": None}
    events = [
        {**event, "seq": 1, "type": "issued", "counter_id": None},
        {**event, "seq": 2, "type": "called", "counter_id": 7},
        {**event, "seq": 3, "type": "started", "counter_id": 7},
    ]
    return journal, Stored({1: ticket}, {1: events}, {1: [1, 2, 3]})


def test_the_checks_pass_a_consistent_history() -> None:
    journal, stored = one_ticket_world()
    assert check(journal, stored)["determinable"] == 1


@pytest.mark.parametrize(
    ("spoil", "finding"),
    [
        (lambda w: w[1].tickets[1].update(status="done"), "the last 2xx said serving"),
        (lambda w: w[1].events[1].pop(), "1 started answered 2xx, 0 in the log"),
        (lambda w: w[1].tickets[1].update(number=2), "are not 1..1"),
        (lambda w: w[1].seqs[1].append(5), "event seq not 1..4"),
        (
            lambda w: w[1].events[1].insert(2, {**w[1].events[1][1]}),
            "called twice",
        ),
        (lambda w: w[1].tickets.pop(1), "is not stored"),
        (lambda w: w[0].keys.update({"x" * 16: 9}), "answered but not stored: [9]"),
    ],
)
def test_the_checks_find_what_a_crash_could_spoil(
    spoil: Callable[[tuple[Journal, Stored]], object], finding: str
) -> None:
    journal, stored = world = one_ticket_world()
    spoil(world)
    with pytest.raises(AssertionError, match=re.escape(finding)):
        check(journal, stored)


def test_an_unanswered_request_makes_the_state_undeterminable() -> None:
    journal, stored = one_ticket_world()
    journal.sent.append(Sent("complete", 1, 7, 3.5, 4.0, "unknown"))
    stored.tickets[1]["status"] = "done"
    stored.events[1].append({**stored.events[1][2], "seq": 4, "type": "completed"})
    stored.seqs[1].append(4)
    assert check(journal, stored)["determinable"] == 0
