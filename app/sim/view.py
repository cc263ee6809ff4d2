"""What a wait estimator sees of a simulated clinic-day, and how it is told what happens.

The engine calls each observer's `on_join(view, ticket)` whenever a ticket joins a queue
(issued, transferred in, requeued) and `on_event(view, event)` after every event, and sets a
new ticket's `estimate_at_issue_min` from `estimate_at_issue(view, ticket)`. The view is the
live state at that moment, not a copy: it is cheap to hand out, and must not be changed.
"""

from collections.abc import Callable
from datetime import date
from typing import Protocol

from app.sim.record import SimClinic, SimEvent, SimTicket
from app.sim.state import Counter, Queue


class ClinicView:
    """The clinic-day as it stands at `now` (epoch seconds)."""

    __slots__ = ("clinic", "counters", "now", "services", "visit_date", "weekday")

    def __init__(self, clinic: SimClinic, visit_date: date, queues: list[Queue],
                 counters: list[Counter]) -> None:  # fmt: skip
        self.clinic = clinic
        self.visit_date = visit_date
        self.weekday = visit_date.weekday()  # 0 is Monday
        self.now = 0.0
        # By service name: waiting tickets in call order (`in_call_order()`, `position()`,
        # `waiting`), the counters serving it (`counters`: state, hours, pauses, the ticket
        # held and since when), today's served legs (`finished`), `mean_minutes`.
        self.services: dict[str, Queue] = {queue.name: queue for queue in queues}
        self.counters: dict[str, Counter] = {counter.name: counter for counter in counters}

    def service_of(self, ticket: SimTicket) -> Queue:
        """The queue the ticket is in (or was last in)."""
        return self.services[ticket.path[ticket.leg - 1]]


class Observer(Protocol):
    def on_join(self, view: ClinicView, ticket: SimTicket) -> None: ...

    def on_event(self, view: ClinicView, event: SimEvent) -> None: ...


EstimateAtIssue = Callable[[ClinicView, SimTicket], int | None]
