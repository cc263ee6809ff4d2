"""Leg rollups, what the reports read: written with every event, equal to what the legs give."""

from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from app.migrate import alembic_config, upgrade_to_head
from app.models import LegRollup, TicketLeg
from app.models.rollup import NO_COUNTER, unpack_waits
from app.queueing import actions
from app.queueing.events import Actor
from app.queueing.rollups import (
    COUNT_COLUMNS,
    KEY_COLUMNS,
    LEG_FIGURE_COLUMNS,
    derive_rollups,
    rebuild_rollups,
)
from tests.clock import FakeClock
from tests.commands import issue_command, run_together
from tests.scenarios import busy_morning
from tests.world import World

Rollups = dict[tuple[Any, ...], tuple[tuple[float, ...], list[float]]]


def stored_rollups(engine: Engine) -> Rollups:
    """Every row that holds a leg (rows whose legs all moved to a counter's row are empty)."""
    with Session(engine) as session:
        rows = session.execute(select(LegRollup.__table__)).all()  # type: ignore[attr-defined]
    return {
        tuple(getattr(row, name) for name in KEY_COLUMNS): (
            tuple(getattr(row, name) for name in COUNT_COLUMNS),
            sorted(float(wait) for wait in unpack_waits(row.waits)),
        )
        for row in rows
        if row.issued
    }


def rollups_from_legs(engine: Engine) -> Rollups:
    with Session(engine) as session:
        return derive_rollups(session.execute(select(*LEG_FIGURE_COLUMNS)).all())


def test_the_rollups_written_with_the_events_are_what_the_legs_give(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    busy_morning(world, clock)
    stored = stored_rollups(engine)
    assert stored == rollups_from_legs(engine)
    # The morning reached every kind of figure, in more than one row.
    totals = [sum(counts[i] for counts, _ in stored.values()) for i in range(len(COUNT_COLUMNS))]
    assert all(totals), dict(zip(COUNT_COLUMNS, totals, strict=True))
    assert len(stored) >= 10
    assert sum(len(waits) for _, waits in stored.values()) >= 15


def test_a_leg_called_again_at_another_counter_takes_its_wait_along(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    ticket = world.take("A")
    clock.advance(minutes=4)
    assert world.call("Loket 1").json()["id"] == ticket["id"]
    world.act(ticket, "no-show")
    world.act(ticket, "requeue")
    clock.advance(minutes=1)
    assert world.call("Loket 2").json()["id"] == ticket["id"]
    world.act(ticket, "complete")

    stored = stored_rollups(engine)
    assert len(stored) == 1
    [(key, (counts, waits))] = stored.items()
    counters = dict(zip(KEY_COLUMNS, key, strict=True))
    assert counters["counter_id"] == world.counters["Loket 2"]["id"]
    figures = dict(zip(COUNT_COLUMNS, counts, strict=True))
    assert (figures["issued"], figures["served"], figures["no_show"]) == (1, 1, 0)
    assert waits == [4 * 60]  # the first call's wait, counted once, at Loket 2
    assert NO_COUNTER not in {k[KEY_COLUMNS.index("counter_id")] for k in stored}


def test_rebuilding_from_the_legs_gives_the_rows_written(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    busy_morning(world, clock)
    written = stored_rollups(engine)
    with Session(engine) as session:
        rebuild_rollups(session)
        session.commit()
    assert stored_rollups(engine) == written


def test_the_migration_fills_rollups_from_the_legs_already_recorded(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    busy_morning(world, clock)
    written = stored_rollups(engine)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "8e03e2cc99ff")  # before rollups: the table is dropped
    upgrade_to_head(engine)
    assert stored_rollups(engine) == written


def test_rollups_out_of_step_never_stop_a_queue_and_a_rebuild_mends_them(
    world: World, clock: FakeClock, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    ticket = world.take("A")
    clock.advance(minutes=3)
    world.call("Loket 1")
    world.act(ticket, "no-show")
    world.act(ticket, "requeue")
    with engine.begin() as connection:  # rollups lost, as a bad restore might leave them
        connection.execute(LegRollup.__table__.delete())  # type: ignore[attr-defined]
    response = world.call("Loket 2")  # takes the wait back from Loket 1's (missing) row
    assert response.status_code == 200, response.text
    assert response.json()["id"] == ticket["id"]
    assert "lacks a leg's share; run rebuild_rollups" in caplog.text
    with Session(engine) as session:
        rebuild_rollups(session)
        session.commit()
    assert stored_rollups(engine) == rollups_from_legs(engine)
    assert [waits for _, waits in stored_rollups(engine).values()] == [[3 * 60]]


class Refused(Exception):
    pass


def test_commands_in_one_transaction_see_the_legs_begun_before_them_and_a_refused_one_leaves_them(
    world: World, client: TestClient, engine: Engine
) -> None:
    """Legs begun in a transaction are inserted when it ends: a call later in the same batch
    finds its ticket's leg among them, and a call refused after changing it changes nothing."""
    state = client.app.state  # type: ignore[attr-defined]
    writer = state.writer
    loket = world.counters["Loket 1"]["id"]
    issue = issue_command(world, client)

    def call(session: Session) -> int | None:
        acted = actions.call_next(session, counter_id=loket, actor=Actor(), now=state.clock())
        return None if acted is None else acted.ticket.id

    def call_then_refuse(session: Session) -> None:
        call(session)
        raise Refused()

    commits_before = writer.commits
    first, refused, second, called = run_together(client, [issue, call_then_refuse, issue, call])
    assert writer.commits == commits_before + 1, "one transaction"
    assert isinstance(refused, Refused)
    assert called == first["id"]
    with Session(engine) as session:
        legs = {
            leg.ticket_id: leg
            for leg in session.scalars(select(TicketLeg).where(col(TicketLeg.leg) == 1))
        }
    assert legs[first["id"]].counter_id == loket
    assert legs[first["id"]].wait_seconds == 0
    assert legs[second["id"]].first_called_at is None
    assert stored_rollups(engine) == rollups_from_legs(engine)
