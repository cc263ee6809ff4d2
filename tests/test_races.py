"""Racing clients never corrupt a queue: concurrent callers and issuers, on both databases."""

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import pytest
from sqlalchemy import Connection, Engine, text
from sqlmodel import col, select

from app.db import open_session
from app.models import EventType, TicketEvent
from tests.test_rollups import rollups_from_legs, stored_rollups
from tests.world import Json, World

T = TypeVar("T")
CALLERS = 6


def run_together(workers: int, job: Callable[[int], T]) -> list[T]:
    """Start `workers` jobs at the same instant and collect their results."""
    barrier = threading.Barrier(workers)

    def start(index: int) -> T:
        barrier.wait()
        return job(index)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(start, range(workers)))


def called_events(engine: Engine) -> Counter[int]:
    with open_session(engine, write=False) as session:
        rows = session.exec(
            select(TicketEvent.ticket_id).where(col(TicketEvent.type) == EventType.called)
        ).all()
    return Counter(rows)


def test_concurrent_call_next_never_gives_a_ticket_twice_nor_skips_one(
    world: World, engine: Engine
) -> None:
    names = [f"Loket Cepat {i}" for i in range(CALLERS)]
    for name in names:
        world.add_counter(name, "A")
    tickets = [world.take("A") for _ in range(40)]

    def drain(index: int) -> list[int]:
        got: list[int] = []
        while True:
            response = world.call(names[index])
            if response.status_code == 204:
                return got
            assert response.status_code == 200, response.text
            got.append(response.json()["id"])

    per_counter = run_together(CALLERS, drain)
    every_call = [ticket_id for calls in per_counter for ticket_id in calls]
    assert sorted(every_call) == sorted(t["id"] for t in tickets)
    assert len(every_call) == len(set(every_call))
    assert sum(1 for calls in per_counter if calls) >= 2, "the callers did not overlap"
    # Each counter received its tickets in queue order.
    for calls in per_counter:
        assert calls == sorted(calls)
    assert set(called_events(engine).values()) == {1}
    # Every counter holds exactly its last ticket; the rest were completed by call-next.
    held = {c["counter_name"]: c["ticket"] for c in world.queue()["counters"]}
    for name, calls in zip(names, per_counter, strict=True):
        assert (held[name] or {}).get("id") == (calls[-1] if calls else None)


def test_concurrent_issuing_numbers_without_gap_or_repeat(world: World) -> None:
    def issue(_index: int) -> list[Json]:
        return [world.take("A") for _ in range(10)]

    issued = [ticket for batch in run_together(4, issue) for ticket in batch]
    numbers = sorted(ticket["number"] for ticket in issued)
    assert numbers == list(range(1, 41))
    assert len({ticket["token"] for ticket in issued}) == 40


def test_the_report_rollups_stay_exact_while_kiosks_and_counters_race(
    world: World, engine: Engine
) -> None:
    names = [f"Loket Cepat {i}" for i in range(3)]
    for name in names:
        world.add_counter(name, "A")

    def work(index: int) -> None:
        for round_ in range(12):
            if index < 2:
                world.take("A")
                continue
            called = world.call(names[index - 2])
            if called.status_code == 200 and round_ % 3 == 0:
                world.act(called.json(), "no-show")  # then requeued: another counter calls it
                world.act(called.json(), "requeue")

    run_together(5, work)
    stored = stored_rollups(engine)
    assert sum(counts[0] for counts, _ in stored.values()) == 24  # every ticket issued, once
    assert sum(len(waits) for _, waits in stored.values()) >= 10
    assert stored == rollups_from_legs(engine)


def test_quota_holds_under_concurrent_issuing(world: World) -> None:
    def issue(_index: int) -> list[int]:
        return [world.take_response("C").status_code for _ in range(3)]

    statuses = [status for batch in run_together(4, issue) for status in batch]
    assert statuses.count(201) == 3
    assert statuses.count(409) == 9
    assert world.waiting_codes("C") == ["C-001", "C-002", "C-003"]


def test_a_retried_request_racing_itself_makes_one_ticket(world: World) -> None:
    def retry(_index: int) -> Json:
        response = world.take_response(
            "A", headers={**world.kiosk, "Idempotency-Key": "retry-key-0000042"}
        )
        assert response.status_code == 201, response.text
        body: Json = response.json()
        return body

    answers = run_together(4, retry)
    assert len({answer["id"] for answer in answers}) == 1
    assert len({answer["token"] for answer in answers}) == 1
    assert world.waiting_codes("A") == ["A-001"]


def test_two_staff_acting_on_one_ticket_at_once_change_it_once(world: World) -> None:
    ticket = world.take("A")
    world.call("Loket 1")
    statuses = run_together(4, lambda _i: world.act(ticket, "no-show").status_code)
    assert sorted(statuses) == [200, 409, 409, 409]
    assert world.ticket(ticket)["status"] == "no_show"


def test_done_and_next_pressed_together_at_one_counter(world: World) -> None:
    """Completing the held ticket while call-next runs: no deadlock, no ticket lost."""
    held = world.take("A")
    world.call("Loket 1")
    for _ in range(8):
        waiting = world.take("A")

        def press(button: int, held: Json = held) -> int:
            done = world.act(held, "complete") if button == 0 else world.call("Loket 1")
            return done.status_code

        statuses = run_together(2, press)
        assert statuses[1] == 200
        assert statuses[0] in (200, 409)  # 409: call-next had completed it first
        assert world.ticket(held)["status"] == "done"
        assert world.ticket(waiting)["status"] == "called"
        held = waiting


def test_a_refused_action_never_hides_a_waiting_ticket_from_call_next(world: World) -> None:
    for _ in range(8):
        ticket = world.take("A")

        def press(button: int, ticket: Json = ticket) -> int:
            done = world.act(ticket, "start") if button == 0 else world.call("Loket 1")
            return done.status_code

        statuses = run_together(2, press)
        assert statuses[1] == 200, "call-next answered that nobody waits"
        # Start is refused while the ticket waits, and allowed once call-next has called it.
        expected = "serving" if statuses[0] == 200 else "called"
        assert world.ticket(ticket)["status"] == expected


@contextmanager
def holding_lock(engine: Engine, ticket_id: int) -> Iterator[Connection]:
    """A transaction of its own holding the ticket's row lock, as another counter's would,
    until the block ends."""
    with engine.connect() as connection:
        connection.execute(
            text("SELECT id FROM ticket WHERE id = :id FOR NO KEY UPDATE"), {"id": ticket_id}
        )
        yield connection
        connection.rollback()


def wait_until_blocked(engine: Engine, what: str) -> None:
    """Until a session of this database waits for a row lock (call-next, in its thread)."""
    for _ in range(200):
        with engine.connect() as connection:
            blocked = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        if blocked:
            return
        time.sleep(0.02)
    pytest.fail(f"call-next did not wait for {what}")


def lock_now_or_fail(engine: Engine, ticket_id: int) -> None:
    """Lock the ticket without waiting (LockNotAvailable if anyone holds it), then let go."""
    with engine.connect() as other:
        other.execute(
            text("SELECT id FROM ticket WHERE id = :id FOR NO KEY UPDATE NOWAIT"),
            {"id": ticket_id},
        )
        other.rollback()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # row locks
def test_call_next_waiting_for_a_held_ticket_keeps_no_lock_on_tickets_it_passed(
    world: World, engine: Engine
) -> None:
    """PostgreSQL: call-next that finds every waiting ticket held by other transactions waits
    for them, but must not keep locks on tickets that stopped waiting meanwhile. It did (a
    locking query over several rows keeps the rows it passed), and three counters calling at
    once deadlocked: one waited for its own held ticket, locked by a second that waited for a
    ticket the first had just taken."""
    first, second = world.take("A"), world.take("A")
    other_counter = world.counters["Loket 1"]["id"]
    # The locks are let go before the pool waits for call-next (the last opened, first closed).
    with (
        ThreadPoolExecutor(1) as pool,
        holding_lock(engine, first["id"]) as calling_first,
        holding_lock(engine, second["id"]),
    ):
        answer = pool.submit(world.call, "Loket 2")
        wait_until_blocked(engine, "the held tickets")
        # Another counter calls the first ticket and commits: Loket 2 must pass over it.
        calling_first.execute(
            text("UPDATE ticket SET status = 'called', counter_id = :c WHERE id = :id"),
            {"c": other_counter, "id": first["id"]},
        )
        calling_first.commit()
        time.sleep(0.3)  # Loket 2 moves on and waits for the second ticket
        assert not answer.done()
        # Before the fix: LockNotAvailable, Loket 2 still held the first ticket.
        lock_now_or_fail(engine, first["id"])
    response = answer.result(timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == second["id"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # row locks
def test_call_next_locks_its_own_held_ticket_before_taking_the_next(
    world: World, engine: Engine
) -> None:
    """PostgreSQL: a locking query can leave a lock on a ticket another counter called a moment
    before (the row changed between its snapshot and its lock). A counter that waits for such
    a lock on its own held ticket must not already hold the next ticket, which the holder of the
    stray lock may be waiting for: two counters deadlocked that way (bench/queue_ab.py)."""
    held = world.take("A")
    world.call("Loket 1")
    following = world.take("A")
    # The held ticket locked as a stray lock would hold it, until the block ends.
    with ThreadPoolExecutor(1) as pool, holding_lock(engine, held["id"]):
        answer = pool.submit(world.call, "Loket 1")
        wait_until_blocked(engine, "its held ticket")
        # Before the fix: LockNotAvailable, call-next held the next ticket while it waited.
        lock_now_or_fail(engine, following["id"])
    response = answer.result(timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == following["id"]
    assert world.ticket(held)["status"] == "done"
