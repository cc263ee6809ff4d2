"""Ticket legs, the reports' unit: written with every event, and derivable from the log alone."""

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.models import Clinic, Service, Ticket, TicketEvent, TicketLeg
from app.queueing.legs import derive_legs
from tests.clock import FakeClock
from tests.scenarios import busy_morning
from tests.world import World

LEG_FIELDS = [name for name in TicketLeg.model_fields if name != "id"]


def legs_of(engine: Engine, ticket_id: int) -> list[TicketLeg]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(TicketLeg)
                .where(col(TicketLeg.ticket_id) == ticket_id)
                .order_by(col(TicketLeg.leg))
            )
        )


def test_a_journey_with_a_no_show_a_requeue_and_a_transfer_makes_two_legs(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    start = clock.now  # A: Pendaftaran, target 15 min; B: Poli Umum, target 30 (transfer only)
    ticket = world.take("A")
    clock.advance(minutes=5)
    assert world.call("Loket 1").json()["id"] == ticket["id"]
    clock.advance(minutes=1)
    world.act(ticket, "recall")
    clock.advance(minutes=1)
    world.act(ticket, "no-show")
    clock.advance(minutes=1)
    world.act(ticket, "requeue")
    clock.advance(minutes=2)
    assert world.call("Loket 2").json()["id"] == ticket["id"]  # second call: wait unchanged
    clock.advance(minutes=1)
    world.act(ticket, "start")
    clock.advance(minutes=4)
    world.act(ticket, "transfer", service_id=world.services["B"]["id"])
    clock.advance(minutes=5)
    world.call("Ruang Umum")
    clock.advance(minutes=10)
    world.act(ticket, "complete")  # done without a start: service counts from the call

    first, second = legs_of(engine, ticket["id"])
    assert (first.leg, first.service_id, first.outcome) == (
        1,
        world.services["A"]["id"],
        "transferred",
    )
    assert first.entered_at == start
    assert first.wait_seconds == 5 * 60
    assert first.recalls == 1
    assert first.counter_id == world.counters["Loket 2"]["id"]
    assert first.service_seconds == 4 * 60  # from the start, not the first call
    assert first.target_wait_minutes == 15
    assert first.entered_hour == 8  # 00:00 UTC is 08:00 WITA
    assert (second.leg, second.service_id, second.outcome) == (2, world.services["B"]["id"], "done")
    assert second.entered_at == start + timedelta(minutes=15)
    assert second.wait_seconds == 5 * 60
    assert second.service_seconds == 10 * 60
    assert second.target_wait_minutes == 30


def test_legs_that_end_unserved_have_no_service_time(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    cancelled, no_show, left_over = world.take("A"), world.take("A"), world.take("C")
    world.act(cancelled, "cancel")
    world.call("Loket 1")  # calls `no_show` (cancelled is gone)
    clock.advance(minutes=3)
    world.act(no_show, "no-show")
    clock.advance(days=1)
    world.call("Ruang Gigi")  # the next day's first call expires yesterday's tickets
    outcomes = {
        t["id"]: (leg.outcome, leg.wait_seconds, leg.service_seconds, leg.ended_at is not None)
        for t in (cancelled, no_show, left_over)
        for leg in legs_of(engine, t["id"])
    }
    assert outcomes[cancelled["id"]] == ("cancelled", None, None, True)
    assert outcomes[no_show["id"]] == ("no_show", 0.0, None, True)
    assert outcomes[left_over["id"]] == ("expired", None, None, True)


def test_the_legs_written_with_the_events_are_the_legs_the_log_alone_gives(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    busy_morning(world, clock)
    with Session(engine) as session:
        stored = {
            (leg.ticket_id, leg.leg): leg.model_dump(include=set(LEG_FIELDS))
            for leg in session.exec(select(TicketLeg))
        }
        zones = dict(session.exec(select(Clinic.id, Clinic.timezone)).all())
        targets = dict(session.exec(select(Service.id, Service.target_wait_minutes)).all())
        events = session.exec(
            select(TicketEvent, col(Ticket.visit_date))
            .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
            .order_by(col(TicketEvent.id))
        ).all()
        derived = {
            (leg.ticket_id, leg.leg): leg.model_dump(include=set(LEG_FIELDS))
            for leg in derive_legs(events, timezone_of=zones.__getitem__, target_of=targets.get)
        }
    assert len(stored) > 15
    assert derived == stored
