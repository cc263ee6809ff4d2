"""Crash rounds: kiosks, phones and counters at work while the server is killed (SIGKILL) at
random moments and restarted, on each database; then every 2xx is held to the database
(tests/crashload.py). Also the database and Redis restarted under a running service.

The seed is printed; ANTREAN_CRASH_SEED=<seed> runs the same kill moments and choices again.
"""

import json
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import httpx2 as httpx
import pytest
from websockets.exceptions import WebSocketException
from websockets.sync.client import connect

from app.db import make_engine
from tests.crashload import (
    Ack,
    ClinicSetup,
    Journal,
    Load,
    Sent,
    Stored,
    check,
    read_database,
    setup_clinic,
)
from tests.privateservers import PrivatePostgres, PrivateRedis
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


def server_env(database_url: str, **more: str) -> dict[str, str]:
    return {
        "ANTREAN_DATABASE_URL": database_url,
        "ANTREAN_ADMIN_USERNAME": ADMIN_USERNAME,
        "ANTREAN_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "ANTREAN_PUBLIC_URL": "http://antrean.test",
        **more,
    }


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
        Ack(1, "issued", "waiting", 2, None, 1.0, 1.1),
        Ack(1, "called", "called", 2, 7, 2.0, 2.1),
        Ack(1, "started", "serving", 2, 7, 3.0, 3.1),
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


# -- PostgreSQL restarted under a running service ----------------------------------------


class Tried:
    """Requests of every kind, sent again and again, with what came back and when."""

    def __init__(self, base: str, clinic: ClinicSetup) -> None:
        self.base = base
        self.clinic = clinic
        self.stop = threading.Event()
        self.answers: list[tuple[str, float, float, int | None, dict[str, str], object]] = []
        self.lock = threading.Lock()
        counter = clinic.counters["A1"][0]
        self.kinds = {
            "issue": ("POST", f"/clinics/{clinic.id}/tickets", clinic.kiosk, clinic.services),
            "call-next": ("POST", f"/counters/{counter}/call-next", clinic.staff, None),
            "queue": ("GET", f"/clinics/{clinic.id}/queue", {}, None),
        }
        self.threads = [
            threading.Thread(target=self.loop, args=(kind,), daemon=True) for kind in self.kinds
        ]

    def send(self, http: httpx.Client, kind: str) -> int | None:
        method, path, headers, services = self.kinds[kind]
        body = None if services is None else {"service_id": self.clinic.services["A"]}
        sent = time.monotonic()
        status: int | None = None
        response_headers: dict[str, str] = {}
        payload: object = None
        try:
            response = http.request(method, path, headers=headers, json=body)
            status, response_headers = response.status_code, dict(response.headers)
            payload = response.json() if response.content else None
        except httpx.TransportError as exc:
            payload = repr(exc)
        with self.lock:
            self.answers.append((kind, sent, time.monotonic(), status, response_headers, payload))
        return status

    def loop(self, kind: str) -> None:
        with httpx.Client(base_url=f"{self.base}/api/v1", timeout=15) as http:
            while not self.stop.is_set():
                self.send(http, kind)
                time.sleep(0.05)

    def between(self, start: float, end: float) -> list[tuple[str, int | None, object]]:
        with self.lock:
            return [(k, st, body) for k, sent, done, st, _, body in self.answers
                    if sent >= start and done <= end]  # fmt: skip


@pytest.mark.slow
def test_postgres_restarted_under_load_answers_503_then_recovers_by_itself() -> None:
    """Probes of each kind see 503s, then answers; beside them a clinic's morning (the crash
    rounds' load) goes on, and its journal is held to the database afterwards."""
    seed = crash_seed()
    print(f"\npostgres restarted: ANTREAN_CRASH_SEED={seed}")  # noqa: T201
    database = PrivatePostgres()
    server: ServerProcess | None = None
    tried: Tried | None = None
    load: Load | None = None
    try:
        database.start()
        server = ServerProcess(server_env(database.url, ANTREAN_REMOTE_TICKET_RATE="100000/minute"))
        server.start()
        admin = admin_headers(server.url)
        clinic = setup_clinic(server.url, admin, "PULANG")
        morning = setup_clinic(server.url, admin, "MUARA")
        tried = Tried(server.url, clinic)
        load = Load(server.url, [morning], seed)
        load.start()
        for thread in tried.threads:
            thread.start()
        time.sleep(1.5)
        database.stop("immediate")
        down = time.monotonic()
        time.sleep(3)
        restarting = time.monotonic()
        database.start()
        back = time.monotonic()
        time.sleep(3)
        tried.stop.set()
        for thread in tried.threads:
            thread.join(timeout=20)
        load.finish()

        # Restarted while nobody asked: the first command after it is served (the writer's
        # idle connection, dropped by the restart, is replaced before a batch runs on it).
        time.sleep(0.5)
        database.stop("immediate")
        database.start()
        with httpx.Client(base_url=f"{server.url}/api/v1", timeout=15) as http:
            assert [tried.send(http, kind) for kind in ("issue", "call-next", "queue")] == [
                201,
                200,
                200,
            ], tried.answers[-3:]
        server.stop()
        engine = make_engine(database.url)
        try:
            stored = read_database(engine).only({morning.id})
        finally:
            engine.dispose()
    finally:
        for part in (tried, load):
            if part is not None:
                part.stop.set()
        if server is not None:
            server.stop()
        database.remove()
    try:
        report = check(load.journal, stored, allowed=frozenset({503}))
    except AssertionError as exc:
        raise AssertionError(f"ANTREAN_CRASH_SEED={seed}\n{exc}") from None
    print(f"the morning beside: {report}")  # noqa: T201
    assert report.get("http 503", 0) > 0, "the morning's load never met the database away"

    answers = tried.answers
    assert not any(thread.is_alive() for thread in tried.threads), "a request hung"
    slow = [(kind, done - sent) for kind, sent, done, *_ in answers if done - sent > 5]
    assert not slow, f"answers that took more than 5 s: {slow}"
    unexpected = [a for a in answers if a[3] not in (200, 201, 204, 503)]
    assert not unexpected, f"neither an answer nor 503: {unexpected[:5]}"
    for kind, _, _, _, headers, body in (a for a in answers if a[3] == 503):
        assert isinstance(body, dict), (kind, body)
        assert set(body) == {"detail", "code"}, body
        assert body["code"] == "unavailable", body
        assert int(headers.get("retry-after", "0")) >= 1, (kind, headers)
    while_down = tried.between(down + 0.2, restarting)
    assert {kind for kind, *_ in while_down} == set(tried.kinds), "some kind was not tried"
    assert {status for _, status, _ in while_down} == {503}, while_down
    after = tried.between(back + 1.0, float("inf"))
    assert {kind for kind, *_ in after} == set(tried.kinds)
    failed = [a for a in after if a[1] not in (200, 201, 204)]
    assert not failed, f"not recovered a second after the database came back: {failed[:5]}"


# -- Redis restarted under two processes and a display -----------------------------------

View = tuple[int, dict[int, str | None], dict[int, int]]  # seq, counters' tickets, waiting


def snapshot_view(snapshot: dict[str, Any]) -> View:
    counters = {
        c["id"]: None if c["ticket"] is None else f"{c['ticket']['code']}:{c['ticket']['status']}"
        for c in snapshot["counters"]
    }
    return snapshot["seq"], counters, {s["id"]: s["waiting"] for s in snapshot["services"]}


def fresh_view(port: int, clinic_id: int) -> View:
    with connect(f"ws://127.0.0.1:{port}/ws/clinics/{clinic_id}") as ws:
        return snapshot_view(json.loads(ws.recv(timeout=10)))


HOLDING = ("ticket.called", "ticket.recalled", "ticket.started")


class Display:
    """A waiting-room display following docs/realtime.md: a snapshot, then each change with
    seq + 1; on a gap, a `clinic.changed` or a lost connection, a new snapshot."""

    def __init__(self, port: int, clinic_id: int) -> None:
        self.url = f"ws://127.0.0.1:{port}/ws/clinics/{clinic_id}"
        self.lock = threading.Lock()
        self.view: View = (0, {}, {})
        self.snapshots = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def current(self) -> View:
        with self.lock:
            return self.view[0], dict(self.view[1]), dict(self.view[2])

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with connect(self.url, open_timeout=5) as ws:
                    for message in self.messages(ws):
                        if not self.apply(message):
                            break  # resync
            except (OSError, TimeoutError, WebSocketException):
                time.sleep(0.1)

    def messages(self, ws: Any) -> Iterator[dict[str, Any]]:
        while not self.stop.is_set():
            try:
                raw = ws.recv(timeout=0.2)
            except TimeoutError:
                continue
            yield json.loads(raw)

    def apply(self, message: dict[str, Any]) -> bool:
        kind = message["type"]
        with self.lock:
            if kind == "snapshot":
                self.view = snapshot_view(message)
                self.snapshots += 1
                return True
            if kind == "ping":
                return True
            seq, counters, waiting = self.view
            if kind == "clinic.changed":
                return False
            if message["seq"] <= seq:  # already in the snapshot
                return True
            if message["seq"] != seq + 1:  # missed one
                return False
            ticket = message["ticket"]
            for counter_id, held in list(counters.items()):
                if held is not None and held.split(":")[0] == ticket["code"]:
                    counters[counter_id] = None
            if kind in HOLDING:
                counters[ticket["counter_id"]] = f"{ticket['code']}:{ticket['status']}"
            waiting.update({int(k): v for k, v in message["waiting"].items()})
            self.view = (message["seq"], counters, waiting)
            return True


class Desk:
    """Staff at work through one process: kiosk tickets, calls at two counters, completions."""

    def __init__(self, base: str, clinic: ClinicSetup) -> None:
        self.http = httpx.Client(base_url=f"{base}/api/v1", timeout=15)
        self.clinic = clinic
        self.statuses: list[int | None] = []
        self.go = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def act(self, step: int) -> None:
        clinic = self.clinic
        counter = clinic.counters["A1" if step % 2 else "A2"][0]
        try:
            if step % 3 == 0:
                response = self.http.post(f"/counters/{counter}/call-next", headers=clinic.staff)
            else:
                response = self.http.post(
                    f"/clinics/{clinic.id}/tickets",
                    headers=clinic.kiosk,
                    json={"service_id": clinic.services["A" if step % 5 else "C"]},
                )
            self.statuses.append(response.status_code)
        except httpx.TransportError:
            self.statuses.append(None)

    def run(self) -> None:
        step = 0
        while not self.stop.is_set():
            if self.go.wait(0.1):
                step += 1
                self.act(step)
                time.sleep(0.08)


def converged(display: Display, port: int, clinic_id: int, within: float) -> float | None:
    """Seconds until the display's view equals a fresh snapshot's, or None."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if display.current() == fresh_view(port, clinic_id):
            return time.monotonic() - started
        time.sleep(0.1)
    return None


@pytest.mark.slow
def test_a_display_is_right_again_within_5_s_of_redis_coming_back(
    empty_postgres_url: str,
) -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    env = server_env(
        empty_postgres_url,
        ANTREAN_REDIS_URL=redis_server.url,
        # Only Redis carries events between the processes within the test's 5 s: the hub's
        # check of the database (its fallback) comes once a minute.
        ANTREAN_REALTIME_POLL_SECONDS="60",
        ANTREAN_REMOTE_TICKET_RATE="100000/minute",
    )
    first, second = ServerProcess(env), ServerProcess(env)
    display: Display | None = None
    desk: Desk | None = None
    try:
        first.start()
        second.start()
        clinic = setup_clinic(second.url, admin_headers(second.url), "REDIS")
        display = Display(first.port, clinic.id)
        display.thread.start()
        desk = Desk(second.url, clinic)
        desk.thread.start()
        desk.go.set()
        time.sleep(2)
        desk.go.clear()
        assert converged(display, second.port, clinic.id, 3) is not None, "not even with Redis"

        desk.go.set()
        redis_server.kill()
        time.sleep(1)
        phone = httpx.post(
            f"{second.url}/api/v1/clinics/{clinic.id}/tickets",
            json={"service_id": clinic.services["A"]},
            timeout=15,
        )
        # The phones' rate limit is counted in Redis: without it, "try again", not a 500.
        assert phone.status_code == 503, phone.text
        assert phone.json()["code"] == "unavailable"
        time.sleep(1)
        redis_server.start()
        back = time.monotonic()
        time.sleep(2)  # the desk goes on while the processes reconnect
        desk.go.clear()
        took = converged(display, second.port, clinic.id, 5 - (time.monotonic() - back))
        assert took is not None, (display.current(), fresh_view(second.port, clinic.id))

        # Live again through Redis (no snapshot, no database check): the next ticket arrives.
        seq = display.current()[0]
        snapshots = display.snapshots
        desk.act(1)
        deadline = time.monotonic() + 2
        while display.current()[0] == seq and time.monotonic() < deadline:
            time.sleep(0.05)
        assert display.current()[0] == seq + 1
        assert display.snapshots == snapshots
    finally:
        for part in (display, desk):
            if part is not None:
                part.stop.set()
        if desk is not None:
            desk.thread.join(timeout=20)
            desk.http.close()
        first.stop()
        second.stop()
        redis_server.kill()
    assert desk is not None
    assert set(desk.statuses) <= {200, 201, 204}, desk.statuses
