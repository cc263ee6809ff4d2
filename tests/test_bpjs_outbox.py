"""What BPJS hears of a Mobile JKN booking: the call, the no-show, the clinic's cancellation,
and nothing for BPJS's own cancellation or for tickets BPJS does not know."""

from datetime import UTC, date, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.after_commit import Commit, TicketBrief
from app.bpjs.fake import FakeBpjs
from app.bpjs.outbox.claims import MAX_BACKOFF_SECONDS, backoff_seconds
from app.bpjs.outbox.links import BookingRef
from app.bpjs.outbox.plan import BY_PATIENT, BY_STAFF, plan_rows
from app.config import Settings
from app.main import create_app
from app.models import Channel, EventRow, EventType, OutboxKind, OutboxState, Priority
from tests.bpjs_mjkn import TODAY, outcome
from tests.bpjs_outbox_world import (
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


def test_a_booking_called_transferred_and_done_reports_its_first_call_only(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    walk_in = world.take("A")  # a kiosk ticket: BPJS never hears of it
    booked = book(mjkn, engine, card(1))
    assert world.call("Loket 1").json()["id"] == walk_in["id"]
    clock.advance(minutes=3)
    called_at = clock.now
    assert world.call("Loket 2").json()["id"] == booked["id"]
    clock.advance(minutes=1)
    assert world.act(booked, "recall").status_code == 200
    assert world.act(booked, "start").status_code == 200
    sent_to_b = world.act(booked, "transfer", service_id=world.services["B"]["id"])
    assert sent_to_b.status_code == 200, sent_to_b.text
    clock.advance(minutes=5)
    assert world.call("Ruang Umum").json()["id"] == booked["id"]
    assert world.act(booked, "complete").status_code == 200
    assert world.act(walk_in, "complete").status_code == 200
    # The worker, woken by the call's commit, sent it by itself.
    wait_until(lambda: bool(received(fake)))
    quiet(engine)
    assert received(fake) == [panggil(card(1), 1, called_at, TODAY)]
    [row] = outbox(engine)
    assert (row.kind, row.status, row.state, row.attempts) == (
        OutboxKind.panggil,
        1,
        OutboxState.delivered,
        1,
    )
    assert row.ticket_code == booked["code"]


@pytest.mark.usefixtures("manual")
def test_a_no_show_sends_tidak_hadir_and_a_requeued_patient_who_comes_hadir_again(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    booked = book(mjkn, engine, card(2))
    first_call = clock.now
    world.call("Loket 1")
    clock.advance(minutes=2)
    missed_at = clock.now
    assert world.act(booked, "no-show").status_code == 200
    clock.advance(minutes=20)
    assert world.act(booked, "requeue").status_code == 200
    came_at = clock.now
    assert world.call("Loket 1").json()["id"] == booked["id"]
    world.act(booked, "recall")  # a recall is the same presence: nothing new
    deliver(world.client, clock)
    assert received(fake) == [
        panggil(card(2), 1, first_call, TODAY),
        panggil(card(2), 2, missed_at, TODAY),
        panggil(card(2), 1, came_at, TODAY),
    ]


@pytest.mark.usefixtures("manual")
def test_the_clinics_cancellations_send_batal_and_bpjs_own_sends_nothing_back(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    by_staff = book(mjkn, engine, card(3))
    by_bpjs = book(mjkn, engine, card(4))
    assert world.act(by_staff, "cancel").status_code == 200
    assert outcome(mjkn.cancel(nomorkartu=card(4))) == (200, "Ok")
    assert world.ticket(by_bpjs)["status"] == "cancelled"
    deliver(world.client, clock)
    assert received(fake) == [batal(card(3), BY_STAFF, TODAY)]
    assert [row.ticket_id for row in outbox(engine)] == [by_staff["id"]]


def test_a_cancellation_without_staff_is_the_patients_and_bpjs_own_is_not_sent() -> None:
    """A Mobile JKN ticket's token stays with the patient: a cancellation with it carries no
    staff account or device (the plan, without a database)."""
    at = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    ref = BookingRef(card(7), "001", date(2026, 11, 23), cancelled_by_bpjs=False)
    commit = Commit(tickets={9: TicketBrief(9, "A-009", Priority.none, Channel.bpjs)})

    def cancelled(user_id: int | None = None) -> EventRow:
        return EventRow(1, 9, EventType.cancelled, at, 1, 1, user_id=user_id)

    by_patient, by_staff = (
        plan_rows([event], {9: ref}, {}, commit) for event in (cancelled(), cancelled(user_id=3))
    )
    assert [row["payload"]["alasan"] for row in by_patient + by_staff] == [BY_PATIENT, BY_STAFF]
    flagged = BookingRef(card(7), "001", date(2026, 11, 23), cancelled_by_bpjs=True)
    assert plan_rows([cancelled()], {9: flagged}, {}, commit) == []


@pytest.mark.usefixtures("manual")
def test_a_clinic_whose_bridge_is_off_writes_nothing(
    world: World, engine: Engine, fake: FakeBpjs, clock: FakeClock
) -> None:
    mjkn = bridge_to_fake(world)
    booked = book(mjkn, engine, card(6))
    off = world.client.put(
        f"/api/v1/clinics/{world.clinic_id}/bpjs",
        headers=world.clinic_admin,
        json={"enabled": False},
    )
    assert off.status_code == 200, off.text
    assert world.call("Loket 1").json()["id"] == booked["id"]
    deliver(world.client, clock)
    assert outbox(engine) == []
    assert received(fake, delivered_only=False) == []


def test_backoff_doubles_with_jitter_up_to_ten_minutes() -> None:
    import random

    rng = random.Random(7)
    for attempts, ceiling in ((1, 5), (2, 10), (3, 20), (8, 600), (30, MAX_BACKOFF_SECONDS)):
        for _ in range(20):
            assert ceiling / 2 <= backoff_seconds(attempts, rng) <= ceiling
