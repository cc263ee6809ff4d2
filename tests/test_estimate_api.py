"""The service's estimates are the estimator's (app/queueing/estimate.py) for the state the
service kept: a ticket's estimate as of now, the one given at its issue, a new ticket's."""

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from app.queueing.estimate import Pace, called, estimated_wait_minutes, joined
from app.queueing.estimate_now import shared_counters
from app.queueing.queries import _shared_counters, service_days
from tests.clock import FakeClock
from tests.world import World

MIN = 60.0


def test_a_tickets_estimates_are_the_estimators_for_the_kept_pace(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    a = world.services["A"]["id"]  # Pendaftaran: two counters call from it
    start = clock()
    for _ in range(3):
        world.take("A")
    world.call("Loket 1")  # two still wait: the interval to the next call is the pace
    clock.advance(minutes=3)
    world.call("Loket 2")
    clock.advance(minutes=1)
    mine = world.take("A")

    # The same joins and calls replayed through the estimator's own rules.
    pace = Pace()
    for _ in range(3):
        pace = joined(pace, at=start.timestamp(), priority=False)
    pace = called(pace, at=start.timestamp(), waiting_after=2)
    pace = called(pace, at=(start + timedelta(minutes=3)).timestamp(), waiting_after=1)
    pace = joined(pace, at=(start + timedelta(minutes=4)).timestamp(), priority=False)
    with Session(engine) as session:
        kept = service_days(session, [a], start.date())[a].pace
    assert kept == pace
    assert (kept.gaps, kept.gap_seconds) == (1, 3 * MIN)

    def expected(position: int) -> int:
        return estimated_wait_minutes(
            position, now=clock().timestamp(), pace=pace, counters=2, default_service_minutes=5
        )

    assert mine["position"] == 1
    # The next call about a gap after the last (2.6 min, today's 3 min leaning on 5 / 2),
    # one more gap, stretched by the priority tickets that may join ahead: 5 minutes.
    assert mine["estimated_wait_minutes"] == expected(1) == 5
    assert mine["estimate_at_issue_minutes"] == mine["estimated_wait_minutes"]

    clock.advance(minutes=2)  # the next call is overdue now: the estimate follows the clock
    read = world.ticket(mine)
    assert read["estimated_wait_minutes"] == expected(1)
    assert read["estimate_at_issue_minutes"] == mine["estimate_at_issue_minutes"]

    services = world.client.get(f"/api/v1/clinics/{world.clinic_id}/services").json()
    new_ticket = next(s for s in services if s["id"] == a)["estimated_wait_minutes"]
    assert new_ticket == expected(2)  # two wait: a new ticket would be third

    world.call("Loket 1")  # the one ahead
    world.call("Loket 2")  # mine
    called_ticket = world.ticket(mine)
    assert called_ticket["status"] == "called"
    assert called_ticket["estimated_wait_minutes"] is None
    assert called_ticket["estimate_at_issue_minutes"] == mine["estimate_at_issue_minutes"]


def test_joins_move_the_kept_pace_as_the_estimator_does(
    world: World, clock: FakeClock, engine: Engine
) -> None:
    """Issues, a priority one among them, a requeue and a transfer in: the day row's share of
    priority joins and interval between joins are the estimator's own rules replayed."""
    a, b = world.services["A"]["id"], world.services["B"]["id"]
    start = clock()
    first = world.take("A")
    clock.advance(minutes=2)
    world.take("A", priority="elderly")
    clock.advance(minutes=1)
    world.take("A")
    called_ticket = world.call("Loket 1").json()  # the elderly patient: priority goes first
    assert called_ticket["priority"] == "elderly"
    clock.advance(minutes=4)
    world.act(called_ticket, "transfer", service_id=b)

    def at(minutes: float) -> float:
        return (start + timedelta(minutes=minutes)).timestamp()

    pace_a = Pace()
    for minutes, priority in ((0, False), (2, True), (3, False)):
        pace_a = joined(pace_a, at=at(minutes), priority=priority)
    pace_b = joined(Pace(), at=at(7), priority=True)
    with Session(engine) as session:
        kept = service_days(session, [a, b], start.date())
    assert kept[a].pace.priority_share == pytest.approx(pace_a.priority_share)
    assert kept[a].pace.join_gap_seconds == pytest.approx(pace_a.join_gap_seconds)
    assert kept[a].pace.last_join_at == pace_a.last_join_at
    assert kept[b].pace.priority_share == pytest.approx(pace_b.priority_share)
    assert kept[b].pace.join_gap_seconds is None
    # The regular ticket's estimate is stretched by that share; the elderly one's would not be.
    read = world.ticket(first)
    assert read["estimated_wait_minutes"] == estimated_wait_minutes(
        read["position"],
        now=clock().timestamp(),
        pace=kept[a].pace,
        counters=2,
        default_service_minutes=5,
        lead_minutes=world.services["A"]["priority_lead_minutes"],
    )


def test_a_shared_counter_counts_as_its_share_on_every_path(world: World, engine: Engine) -> None:
    """Loket 3 calls from Pendaftaran and Poli Gigi: half a counter for each, whether the
    counters come from the clinic's setup in memory (commands, GET ticket) or a query (lists,
    feeds)."""
    world.add_counter("Loket 3", "A", "C")
    a, c = world.services["A"]["id"], world.services["C"]["id"]
    setups = world.client.app.state.setups  # type: ignore[attr-defined]
    setup = setups.clinic(world.clinic_id)
    assert (shared_counters(setup, a), shared_counters(setup, c)) == (2.5, 1.5)
    with Session(engine) as session:
        assert _shared_counters(session, [a, c]) == {a: 2.5, c: 1.5}
