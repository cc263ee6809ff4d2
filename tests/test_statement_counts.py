"""The write path's statements, counted as SQLite runs them: taking a ticket and calling the next
cost a handful whatever the length of the queue, and a transaction's shared writes are made
once for all its commands (the legs and events of all of them in one driver call each, which
SQLite runs row by row; the rollups and the event sequence once)."""

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.prepared import driver_connection
from app.queueing import actions
from app.queueing.events import Actor
from tests.commands import issue_command, run_together
from tests.world import World

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")


class Statements:
    """Every statement the writer's connection runs while it listens, transactions' own
    BEGIN, COMMIT and savepoints aside."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def listen(self, session: Session, on: bool) -> None:
        driver, _ = driver_connection(session)
        driver.set_trace_callback(self.seen.append if on else None)

    @property
    def counted(self) -> list[str]:
        return [s for s in self.seen if not s.lstrip().upper().startswith(TRANSACTION_CONTROL)]


@pytest.fixture
def statements(engine: Any) -> Statements:
    if engine.dialect.name != "sqlite":
        pytest.skip("counted with SQLite's trace of the statements it runs")
    return Statements()


def listening(statements: Statements, on: bool) -> Callable[[Session], None]:
    return lambda session: statements.listen(session, on)


def test_a_ticket_alone_takes_six_statements_and_in_a_batch_four_and_a_fifth(
    world: World, client: TestClient, statements: Statements
) -> None:
    issue = issue_command(world, client)
    for _ in range(200):  # a queue already there changes nothing
        world.take("A")
    run_together(client, [listening(statements, True), issue])
    run_together(client, [listening(statements, False)])
    # The number (with the waiting count and mean service time), the ticket; then, for the
    # transaction: its legs, rollups, the clinic's event sequence, its events.
    assert len(statements.counted) == 6, statements.counted

    statements.seen.clear()
    run_together(client, [listening(statements, True), *[issue] * 10])
    run_together(client, [listening(statements, False)])
    # Per ticket its number, ticket, leg and event; the rollups and the sequence once.
    assert len(statements.counted) == 4 * 10 + 2, statements.counted


def test_call_next_takes_eight_driver_calls(
    world: World, client: TestClient, statements: Statements
) -> None:
    for _ in range(200):
        world.take("A")
    world.call("Loket 1")  # the counter holds a ticket, which the next call completes
    state = client.app.state  # type: ignore[attr-defined]
    counter_id = world.counters["Loket 1"]["id"]

    def call(session: Session) -> Any:
        return actions.call_next(session, counter_id=counter_id, actor=Actor(), now=state.clock())

    run_together(client, [listening(statements, True), call])
    run_together(client, [listening(statements, False)])
    # Eight driver calls: the held ticket, the next one, the service's day row, both tickets'
    # UPDATE, both legs' UPDATE; then the rollups (the completed leg's row and the called
    # leg's move), the event sequence, both events. Rows of one call are run one by one.
    assert len(statements.counted) == 2 + 1 + 2 + 2 + 2 + 1 + 2, statements.counted
