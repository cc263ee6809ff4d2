"""BPJS down, slow or refusing: the queue never waits for it, nothing owed is lost, a ticket's
calls reach BPJS in order, a new process sends what the last one left, and a refusal waits for
the clinic admin's retry."""

import asyncio
import time
from collections import defaultdict
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from sqlmodel import Session, col

from app.bpjs.fake import FakeBpjs
from app.bpjs.outbox.claims import LEASE, MAX_BACKOFF_SECONDS
from app.bpjs.outbox.plan import BY_STAFF
from app.config import Settings
from app.main import create_app
from app.models import BpjsOutbox, OutboxState
from tests.bpjs_mjkn import NIK, TODAY
from tests.bpjs_outbox_world import (
    Sent,
    batal,
    book,
    bridge_to_fake,
    card,
    deliver,
    fake_bpjs,
    outbox,
    panggil,
    quiet,
    received,
    stop_worker,
    wait_until,
)
from tests.clock import FakeClock
from tests.world import World


@pytest.fixture
def fake(clock: FakeClock) -> FakeBpjs:
    return fake_bpjs(clock)


@pytest.fixture
def app(settings: Settings, engine: Engine, clock: FakeClock, fake: FakeBpjs) -> FastAPI:
    return create_app(settings, engine=engine, clock=clock, bpjs_transport=fake.transport())


@pytest.fixture
def manual(client: TestClient) -> None:
    stop_worker(client)


def by_card(calls: list[Sent]) -> dict[str, list[Sent]]:
    found: dict[str, list[Sent]] = defaultdict(list)
    for call in calls:
        found[call[1]["nomorkartu"]].append(call)
    return dict(found)


@pytest.mark.usefixtures("manual")
def test_an_hour_of_bpjs_down_loses_nothing_and_keeps_each_tickets_order(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    fake.fail("down")
    expected: list[Sent] = []
    booked = [book(mjkn, engine, card(n)) for n in range(1, 13)]
    cards = {ticket["id"]: card(n) for n, ticket in enumerate(booked, start=1)}
    # Two are cancelled while waiting, one by staff at the counter's request.
    for ticket in (booked[3], booked[7]):
        assert world.act(ticket, "cancel").status_code == 200
        expected.append(batal(cards[ticket["id"]], BY_STAFF, TODAY))
    slowest = 0.0
    for step in range(10):  # 10 calls over the hour, a delivery attempt every 3 minutes
        clock.advance(minutes=3)
        started = time.monotonic()
        answer = world.call("Loket 1")
        slowest = max(slowest, time.monotonic() - started)
        assert answer.status_code == 200, answer.text
        ticket = answer.json()
        expected.append(panggil(cards[ticket["id"]], 1, clock.now, TODAY))
        clock.advance(minutes=1)
        if step % 3 == 1:
            assert world.act(ticket, "no-show").status_code == 200
            expected.append(panggil(cards[ticket["id"]], 2, clock.now, TODAY))
            if step == 4:  # back in the queue, then cancelled
                assert world.act(ticket, "requeue").status_code == 200
                assert world.act(ticket, "cancel").status_code == 200
                expected.append(batal(cards[ticket["id"]], BY_STAFF, TODAY))
        else:
            assert world.act(ticket, "complete").status_code == 200
        deliver(world.client, clock)
        clock.advance(minutes=2)
        deliver(world.client, clock)
    assert slowest < 1.0  # answered as usual: the outbox is not in the way
    assert received(fake) == []
    attempted = received(fake, delivered_only=False)
    assert attempted, "the worker kept trying"
    rows = outbox(engine)
    assert len(rows) == len(expected)
    assert {row.state for row in rows} == {OutboxState.pending}
    assert max(row.attempts for row in rows) >= 5
    assert all(row.last_error and "503" in row.last_error for row in rows if row.attempts)
    # BPJS is back: within the longest backoff everything owed goes, none lost, in order.
    fake.recover()
    clock.advance(seconds=MAX_BACKOFF_SECONDS + 1)
    deliver(world.client, clock)
    delivered = received(fake)
    assert sorted(map(repr, delivered)) == sorted(map(repr, expected))  # none lost, no repeat
    assert by_card(delivered) == by_card(expected)  # each ticket's in the order they happened
    assert {row.state for row in outbox(engine)} == {OutboxState.delivered}


def test_a_slow_bpjs_holds_up_neither_the_queue_nor_the_worker_for_others(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    first, second = book(mjkn, engine, card(1)), book(mjkn, engine, card(2))
    fake.fail("slow", seconds=30, count=1)
    world.call("Loket 1")  # the worker wakes and sends first's panggil: BPJS takes 30 s
    deadline = time.monotonic() + 5
    while not received(fake, delivered_only=False) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert received(fake, delivered_only=False), "the worker is sending"
    started = time.monotonic()
    assert world.call("Loket 2").json()["id"] == second["id"]
    assert world.act(first, "complete").status_code == 200
    assert time.monotonic() - started < 1.0
    # Meanwhile the other ticket's call goes through (its own row, not behind the slow one).
    deliver(world.client, clock)
    assert [body["nomorkartu"] for _, body in received(fake)] == [card(2)]


def test_a_new_process_sends_what_the_last_one_left(
    settings: Settings, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    fake.fail("down")
    first_app = create_app(settings, engine=engine, clock=clock, bpjs_transport=fake.transport())
    with TestClient(first_app) as client:
        world = World.build(client)
        mjkn = bridge_to_fake(world)
        waiting, sending = book(mjkn, engine, card(1)), book(mjkn, engine, card(2))
        called_at = clock.now
        world.call("Loket 1")
        world.call("Loket 2")
    # The process died while sending the second (its lease still runs).
    with Session(engine) as session:
        session.execute(
            update(BpjsOutbox)
            .where(col(BpjsOutbox.ticket_id) == sending["id"])
            .values(state=OutboxState.sending, lease_until=clock.now + LEASE, attempts=1)
        )
        session.commit()
    fake.recover()
    clock.advance(seconds=10)  # past a first retry's backoff, if the first process tried
    with TestClient(
        create_app(settings, engine=engine, clock=clock, bpjs_transport=fake.transport())
    ) as client:
        # The new process's worker looks at once when it starts: the waiting row goes.
        wait_until(
            lambda: any(
                row.ticket_id == waiting["id"] and row.state is OutboxState.delivered
                for row in outbox(engine)
            )
        )
        assert received(fake) == [panggil(card(1), 1, called_at, TODAY)]
        # The one its sender left goes once that sender's lease has run out.
        clock.advance(seconds=LEASE.total_seconds() + 1)
        deliver(client, clock)
        quiet(engine)
        assert received(fake)[1:] == [panggil(card(2), 1, called_at, TODAY)]
    assert {row.ticket_id: row.state for row in outbox(engine)} == {
        waiting["id"]: OutboxState.delivered,
        sending["id"]: OutboxState.delivered,
    }


@pytest.mark.usefixtures("manual")
def test_a_refusal_is_kept_failed_with_bpjs_message_until_the_admin_retries(
    world: World, client: TestClient, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    booked = book(mjkn, engine, card(1))
    fake.fail("error", code=201, message="Antrean Tidak Ditemukan", count=1)
    called_at = clock.now
    world.call("Loket 1")
    deliver(client, clock)
    listing = client.get(
        f"/api/v1/clinics/{world.clinic_id}/bpjs/outbox", headers=world.clinic_admin
    )
    assert listing.status_code == 200, listing.text
    page: dict[str, Any] = listing.json()
    [item] = page["items"]
    assert item["state"] == "failed"
    assert item["last_error"] == "201: Antrean Tidak Ditemukan"
    assert (item["kind"], item["status"], item["ticket_code"]) == ("panggil", 1, booked["code"])
    assert item["nomorkartu"] == "*********0001"
    assert card(1) not in listing.text
    assert NIK not in listing.text
    assert page["counts"] == {"pending": 0, "sending": 0, "delivered": 0, "failed": 1}
    # Not sent again by itself, however long it waits.
    clock.advance(hours=2)
    deliver(client, clock)
    assert len(received(fake, delivered_only=False)) == 1
    # Another clinic's admin may not retry it; an unknown row is not found.
    other = World.build(client, code="SEPINGGAN")
    retry = f"/api/v1/bpjs/outbox/{item['id']}/retry"
    refused = client.post(retry, headers=other.clinic_admin)
    assert (refused.status_code, refused.json()["code"]) == (403, "other_clinic")
    missing = client.post("/api/v1/bpjs/outbox/999999/retry", headers=world.admin)
    assert (missing.status_code, missing.json()["code"]) == (404, "outbox_row_not_found")
    again = client.post(retry, headers=world.clinic_admin)
    assert again.status_code == 200, again.text
    assert again.json()["state"] in ("pending", "delivered")
    quiet(engine)  # the retry woke the worker: it may be sending it now
    deliver(client, clock)
    assert received(fake) == [panggil(card(1), 1, called_at, TODAY)]
    [row] = outbox(engine)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.delivered, 2, None)
    twice = client.post(retry, headers=world.clinic_admin)
    assert (twice.status_code, twice.json()["code"]) == (409, "outbox_row_not_failed")
    delivered = client.get(
        f"/api/v1/clinics/{world.clinic_id}/bpjs/outbox",
        headers=world.clinic_admin,
        params={"state": "delivered"},
    ).json()
    assert [i["id"] for i in delivered["items"]] == [item["id"]]
    assert delivered["items"][0]["next_attempt_at"] is None


@pytest.mark.usefixtures("manual")
def test_two_senders_at_once_send_each_row_once(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    """Two delivery passes side by side (as two server processes): claims never overlap."""
    mjkn = bridge_to_fake(world)
    fake.fail("down")
    for n in range(1, 21):
        book(mjkn, engine, card(n))
        world.call("Loket 1" if n % 2 else "Loket 2")
    fake.recover()
    clock.advance(minutes=11)
    delivery = world.client.app.state.bpjs_outbox.delivery  # type: ignore[attr-defined]

    async def both() -> list[int]:
        passes = (delivery.deliver_due(clock.now), delivery.deliver_due(clock.now))
        return list(await asyncio.gather(*passes))

    world.client.portal.call(both)  # type: ignore[union-attr]
    delivered = received(fake)
    assert sorted(body["nomorkartu"] for _, body in delivered) == [card(n) for n in range(1, 21)]
    assert {row.state for row in outbox(engine)} == {OutboxState.delivered}
