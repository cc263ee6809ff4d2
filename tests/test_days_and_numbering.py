"""Numbering per service and local day, and tickets of an ended day expiring."""

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.clock import FakeClock
from tests.world import World

MIDNIGHT_UTC = {
    "Asia/Jakarta": datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
    "Asia/Makassar": datetime(2026, 11, 23, 16, 0, tzinfo=UTC),
    "Asia/Jayapura": datetime(2026, 11, 23, 15, 0, tzinfo=UTC),
}


@pytest.mark.parametrize("timezone", list(MIDNIGHT_UTC))
def test_numbers_start_again_at_local_midnight(
    client: TestClient, clock: FakeClock, timezone: str
) -> None:
    midnight = MIDNIGHT_UTC[timezone]
    clock.set(midnight - timedelta(minutes=2))
    world = World.build(client, timezone=timezone)
    before = [world.take("A") for _ in range(3)]
    assert [t["code"] for t in before] == ["A-001", "A-002", "A-003"]
    assert {t["visit_date"] for t in before} == {"2026-11-23"}

    clock.set(midnight - timedelta(seconds=1))
    assert world.take("A")["code"] == "A-004"
    clock.set(midnight)
    after = world.take("A")
    assert after["code"] == "A-001"
    assert after["visit_date"] == "2026-11-24"
    # Times come back in the clinic's own offset.
    offset = {"Asia/Jakarta": "+07:00", "Asia/Makassar": "+08:00", "Asia/Jayapura": "+09:00"}
    assert after["issued_at"].endswith(offset[timezone])
    assert after["issued_at"].startswith("2026-11-24T00:00:00")


def test_each_service_counts_on_its_own_and_transfers_keep_their_code(world: World) -> None:
    a1, c1, a2 = world.take("A"), world.take("C"), world.take("A")
    assert (a1["code"], c1["code"], a2["code"]) == ("A-001", "C-001", "A-002")
    world.call("Loket 1")
    moved = world.act(a1, "transfer", service_id=world.services["B"]["id"]).json()
    assert moved["code"] == "A-001"
    assert moved["number"] == 1
    assert world.take("A")["code"] == "A-003"
    assert world.waiting_codes("B") == ["A-001"]


def test_a_day_that_ended_expires_its_open_tickets_and_blocks_nothing(
    world: World, clock: FakeClock
) -> None:
    held = world.take("A")
    waiting = world.take("A")
    assert world.call("Loket 1").json()["id"] == held["id"]
    clock.advance(days=1)

    # Yesterday's tickets are gone from today's queue without anyone touching them.
    assert world.waiting_codes("A") == []
    assert all(counter["ticket"] is None for counter in world.queue()["counters"])
    # Acting on them is refused.
    assert world.act(held, "complete").status_code == 409
    assert world.act(waiting, "start").status_code == 409

    today = world.take("A")
    assert today["code"] == "A-001"
    called = world.call("Loket 1")
    assert called.status_code == 200
    assert called.json()["id"] == today["id"]
    assert world.ticket(held)["status"] == "expired"
    assert world.ticket(waiting)["status"] == "expired"
    assert world.ticket(held)["finished_at"] is not None


def test_call_next_with_nobody_waiting_keeps_the_counters_ticket(world: World) -> None:
    ticket = world.take("A")
    world.call("Loket 1")
    empty = world.call("Loket 1")
    assert empty.status_code == 204
    assert empty.content == b""
    assert world.ticket(ticket)["status"] == "called"


def test_call_next_completes_the_held_ticket_first(world: World, clock: FakeClock) -> None:
    first, second = world.take("A"), world.take("A")
    world.call("Loket 1")
    world.act(first, "start")
    clock.advance(minutes=5)
    assert world.call("Loket 1").json()["id"] == second["id"]
    done = world.ticket(first)
    assert done["status"] == "done"
    assert done["finished_at"] is not None
    holders = {c["counter_name"]: c["ticket"] for c in world.queue()["counters"]}
    assert holders["Loket 1"]["code"] == "A-002"


def test_call_next_takes_from_every_service_of_the_counter_in_arrival_order(
    world: World, clock: FakeClock
) -> None:
    world.add_counter("Loket Serba", "A", "C")
    codes = []
    for prefix in ("C", "A", "C"):
        codes.append(world.take(prefix)["code"])
        clock.advance(minutes=1)
    called = [world.call("Loket Serba").json()["code"] for _ in codes]
    assert called == ["C-001", "A-001", "C-002"]


def test_requeued_ticket_joins_at_the_back_of_the_same_leg(world: World, clock: FakeClock) -> None:
    late, other = world.take("A"), world.take("A")
    world.call("Loket 1")
    world.act(late, "no-show")
    clock.advance(minutes=10)
    requeued = world.act(late, "requeue").json()
    assert requeued["leg"] == 1
    assert requeued["position"] == 1
    assert world.waiting_codes("A") == [other["code"], late["code"]]


def test_a_ticket_taken_across_midnight_is_numbered_on_the_new_day(
    world: World, clock: FakeClock
) -> None:
    """The clock passes midnight between reading the date and taking the number's lock."""
    world.take("A")
    midnight = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)  # Balikpapan
    clock.reads(midnight - timedelta(seconds=1), midnight)
    ticket = world.take("A")
    assert ticket["visit_date"] == "2026-11-24"
    assert ticket["code"] == "A-001"
    assert ticket["status"] == "waiting"


def test_a_prefix_cannot_change_on_a_day_its_service_issued_tickets(
    world: World, clock: FakeClock
) -> None:
    world.take("A")
    service = f"/api/v1/services/{world.services['A']['id']}"
    refused = world.client.patch(service, headers=world.admin, json={"prefix": "X"})
    assert refused.status_code == 409
    clock.advance(days=1)
    moved = world.client.patch(service, headers=world.admin, json={"prefix": "X"})
    assert moved.status_code == 200
    assert world.take("A")["code"] == "X-001"
