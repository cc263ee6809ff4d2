"""The kept waiting count per service and day matches the queue after every kind of move,
and the positions that commands answer with (computed from it) match the queue's order."""

from sqlalchemy import Engine, func
from sqlmodel import col, select

from app.db import open_session
from app.models import DailySequence, Ticket, TicketStatus
from tests.clock import FakeClock
from tests.world import Json, World


def kept_and_counted(engine: Engine) -> tuple[dict[int, int], dict[int, int]]:
    """Per service: the kept `daily_sequence.waiting`, and a count of its waiting tickets."""
    with open_session(engine, write=False) as session:
        kept = {
            row.service_id: row.waiting
            for row in session.exec(select(DailySequence)).all()
            if row.waiting
        }
        counted = dict(
            session.exec(
                select(Ticket.service_id, func.count())
                .where(col(Ticket.status) == TicketStatus.waiting)
                .group_by(col(Ticket.service_id))
            ).all()
        )
    return kept, counted


def assert_positions_follow_the_queue(world: World, answers: list[Json]) -> None:
    """Each answer's position is the ticket's place in its service's queue at that moment."""
    for answer in answers:
        prefix = next(p for p, s in world.services.items() if s["id"] == answer["service_id"])
        assert world.waiting_codes(prefix).index(answer["code"]) == answer["position"], answer


def test_the_waiting_count_follows_every_move_in_and_out_of_the_queue(
    world: World, engine: Engine
) -> None:
    a = [world.take("A") for _ in range(5)]
    elder = world.take("A", priority="elderly")
    assert_positions_follow_the_queue(world, [elder])
    assert elder["position"] == 0
    late = world.take("A")
    assert_positions_follow_the_queue(world, [late])
    assert late["position"] == 6

    called = world.call("Loket 1").json()  # the priority ticket leaves the queue
    assert called["id"] == elder["id"]
    assert world.act(a[4], "cancel").status_code == 200
    assert world.act(a[4], "cancel").status_code == 409  # refused: changes nothing
    assert world.act(called, "no-show").status_code == 200
    requeued = world.act(called, "requeue").json()
    assert_positions_follow_the_queue(world, [requeued])

    first = world.call("Loket 2").json()
    moved = world.act(first, "transfer", service_id=world.services["B"]["id"]).json()
    assert moved["status"] == "waiting"
    assert moved["position"] == 0
    in_b = world.call("Ruang Umum").json()
    to_lab = world.act(in_b, "transfer", service_id=world.services["D"]["id"]).json()
    assert to_lab["position"] == 0
    assert world.call("Loket 1").status_code == 200  # completes nothing held, calls the next
    assert world.call("Loket 1").status_code == 200  # completes the held one, calls another
    world.take("C")

    kept, counted = kept_and_counted(engine)
    assert counted == {
        world.services["A"]["id"]: len(world.waiting_codes("A")),
        world.services["D"]["id"]: 1,
        world.services["C"]["id"]: 1,
    }
    assert kept == counted

    fresh = world.take("A")
    assert_positions_follow_the_queue(world, [fresh])
    assert fresh["position"] == len(world.waiting_codes("A")) - 1


def test_a_refused_ticket_leaves_the_count_as_it_was(world: World, engine: Engine) -> None:
    for _ in range(3):
        world.take("C")  # Poli Gigi's daily quota is 3
    assert world.take_response("C").status_code == 409
    kept, counted = kept_and_counted(engine)
    assert kept == counted == {world.services["C"]["id"]: 3}


def test_each_leg_served_moves_its_services_mean_and_the_estimates_follow(
    world: World, clock: FakeClock
) -> None:
    """The mean service time is kept with the numbers: the first leg served sets it, each next
    one moves it a tenth of the way, transfers included (registration's legs mostly end so);
    a new ticket's estimate and the services' list read it, in every process alike."""
    a, b = world.services["A"]["id"], world.services["B"]["id"]

    def estimate_for_a_new_ticket() -> int:
        services = world.client.get(f"/api/v1/clinics/{world.clinic_id}/services").json()
        found: int = next(s for s in services if s["id"] == a)["estimated_wait_minutes"]
        return found

    first = world.take("A")
    world.call("Loket 1")
    clock.advance(minutes=4)
    world.act(first, "complete")  # served 4 min: the mean is 4 min
    second = world.take("A")
    world.call("Loket 1")
    clock.advance(minutes=14)
    world.act(second, "transfer", service_id=b)  # served 14 min: 4 + (14 - 4) / 10 = 5
    for _ in range(4):
        world.take("A")
    # Four waiting, two counters call from A, 5 minutes each: 4 × 5 / 2 = 10 minutes, and a
    # regular ticket may be passed by priority tickets joining later: 11 (app/queueing/estimate.py).
    assert estimate_for_a_new_ticket() == 11
    fifth = world.take("A")
    assert fifth["position"] == 4
    assert fifth["estimated_wait_minutes"] == 11
