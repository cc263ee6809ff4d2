"""Workloads shared by tests: a clinic's morning with every kind of event."""

from tests.clock import FakeClock
from tests.world import World


def busy_morning(world: World, clock: FakeClock) -> None:
    """Priorities, quotas, transfers, recalls, no-shows with requeues called at another
    counter, cancels, and a day closed by the next day's first call."""
    for round_ in range(12):
        world.take("A", priority="elderly" if round_ % 4 == 0 else "none")
        if round_ < 3:  # C's daily quota is 3
            world.take("C")
        clock.advance(minutes=2)
        called = world.call("Loket 1" if round_ % 2 else "Loket 2")
        if called.status_code == 200 and round_ % 3 == 0:
            world.act(called.json(), "recall")
            world.act(called.json(), "transfer", service_id=world.services["B"]["id"])
            world.call("Ruang Umum")
        if called.status_code == 200 and round_ % 4 == 1:
            world.act(called.json(), "no-show")
            world.act(called.json(), "requeue")
        if round_ % 5 == 0:
            held = world.call("Ruang Gigi")
            if held.status_code == 200:
                world.act(held.json(), "no-show")
        if round_ == 7:
            world.act(world.take("A"), "cancel")
        clock.advance(minutes=9 + round_ % 4, seconds=17 * round_)
    clock.advance(hours=20)
    world.call("Loket 1")  # the next day: yesterday's open tickets expire
