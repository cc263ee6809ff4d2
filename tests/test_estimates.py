"""The estimate a new ticket is given follows the service's completions at once, though the
mean service time is kept in memory between them (app/queueing/service_times.py)."""

from datetime import date

from app.queueing.service_times import MAX_AGE_SECONDS, ServiceTimes
from tests.clock import FakeClock
from tests.world import World


def serve(world: World, clock: FakeClock, counter: str, minutes: float) -> None:
    called = world.call(counter).json()
    clock.advance(minutes=minutes)
    assert world.act(called, "complete").status_code == 200


def test_a_new_tickets_estimate_follows_each_completion(world: World, clock: FakeClock) -> None:
    for _ in range(6):
        world.take("A")
    serve(world, clock, "Loket 1", minutes=10)
    # 5 waiting ahead, 10 minutes each, 2 counters: 25 minutes.
    assert world.take("A")["estimated_wait_minutes"] == 25
    serve(world, clock, "Loket 1", minutes=2)
    # 5 ahead again, mean now (10 + 2) / 2 = 6 minutes: 15 minutes.
    assert world.take("A")["estimated_wait_minutes"] == 15


def test_kept_means_age_out_and_a_read_raced_by_a_completion_is_not_kept() -> None:
    now = [0.0]
    times = ServiceTimes(clock=lambda: now[0])
    day = date(2026, 11, 23)
    assert times.mean(1, day, lambda: 4.0) == 4.0
    assert times.mean(1, day, lambda: 9.0) == 4.0  # kept
    now[0] += MAX_AGE_SECONDS
    assert times.mean(1, day, lambda: 9.0) == 9.0  # aged out: read again
    assert times.mean(1, date(2026, 11, 24), lambda: 1.0) == 1.0  # a new day starts afresh

    def read_while_completing() -> float:
        times.forget({1})  # a completion commits while the old mean is being read
        return 7.0

    assert times.mean(2, day, read_while_completing) == 7.0
    assert times.mean(2, day, lambda: 3.0) == 3.0  # the raced read was not kept
