"""The live state of a simulated clinic-day: each service's queue and each counter.

Observers see these objects as they are (app/sim/view.py): read them, never change them.
"""

import heapq
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from app.queueing.priority import queue_key
from app.queueing.states import Action
from app.sim.record import SimTicket


class CounterState(StrEnum):
    closed = "closed"  # before opening or after closing
    open = "open"
    paused = "paused"


@dataclass(slots=True, frozen=True)
class FinishedLeg:
    """A leg served to its end (done or transferred) at a counter."""

    ticket: SimTicket
    counter_id: int
    called_ts: float  # the call that served it (after a requeue: the later call)
    started_ts: float | None
    end_ts: float

    @property
    def service_seconds(self) -> float:
        return self.end_ts - (self.started_ts if self.started_ts is not None else self.called_ts)


class Waiting(NamedTuple):
    ticket: SimTicket
    key_ts: float  # queue_key, epoch seconds
    joined_ts: float


class Queue:
    """One service's waiting tickets in call order: the smallest queue_key, ties by issue
    order. A heap whose entries are struck out (ticket None) when a ticket leaves otherwise
    than by being called, so nothing is ever searched for."""

    __slots__ = (
        "counters", "finished", "heap", "id", "lead_minutes", "mean_minutes", "mu", "name",
        "pushes", "sigma", "waiting",
    )  # fmt: skip

    def __init__(self, name: str, service_id: int, lead_minutes: int, mean_minutes: float,
                 mu: float, sigma: float) -> None:  # fmt: skip
        self.name = name
        self.id = service_id
        self.lead_minutes = lead_minutes
        self.mean_minutes = mean_minutes  # the scenario's mean service time
        self.mu, self.sigma = mu, sigma  # of the lognormal service time in minutes
        self.heap: list[list[Any]] = []  # [key_ts, issue order, push order, ticket | None]
        self.pushes = 0
        self.waiting = 0
        self.counters: list[Counter] = []
        self.finished: list[FinishedLeg] = []  # today's served legs, in end order

    def push(self, ticket: SimTicket, now: float) -> None:
        """The ticket joins the queue now; its place is the real rule's queue_key."""
        joined = datetime.fromtimestamp(now, UTC)
        key = queue_key(joined, ticket.priority, self.lead_minutes).timestamp()
        ticket.joined_ts, ticket.key_ts = now, key
        self.pushes += 1
        entry = [key, ticket.arrival, self.pushes, ticket]
        ticket.entry = entry
        heapq.heappush(self.heap, entry)
        self.waiting += 1

    def head(self) -> list[Any] | None:
        heap = self.heap
        while heap and heap[0][3] is None:
            heapq.heappop(heap)
        return heap[0] if heap else None

    def take(self, ticket: SimTicket) -> None:
        """The ticket leaves the queue (called, cancelled, expired)."""
        entry = ticket.entry
        if entry is None:
            return
        entry[3] = None
        ticket.entry = None
        self.waiting -= 1

    def in_call_order(self) -> list[Waiting]:
        """The waiting tickets, first to be called first (a sort: for observers, not the loop)."""
        return [Waiting(e[3], e[0], e[3].joined_ts) for e in sorted(self.heap) if e[3] is not None]

    def position(self, ticket: SimTicket) -> int:
        """How many waiting tickets will be called before this one."""
        mine = ticket.entry
        if mine is None:
            return 0
        return sum(1 for e in self.heap if e[3] is not None and e[:2] < mine[:2])


class Counter:
    """A loket or room: its hours, the services it calls from and the ticket it holds."""

    __slots__ = (
        "called_ts", "close_ts", "held", "id", "idle_since", "name", "open_ts", "pauses",
        "plan", "queues", "started_ts", "state", "user_id",
    )  # fmt: skip

    def __init__(self, name: str, counter_id: int, user_id: int, open_ts: float,
                 close_ts: float, pauses: list[tuple[float, float]]) -> None:  # fmt: skip
        self.name = name
        self.id = counter_id
        self.user_id = user_id
        self.open_ts, self.close_ts = open_ts, close_ts
        self.pauses = pauses  # (start, end) epoch seconds
        self.queues: list[Queue] = []
        self.state = CounterState.closed
        self.held: SimTicket | None = None
        self.called_ts: float | None = None  # when it called the ticket it holds
        self.started_ts: float | None = None
        self.idle_since = open_ts
        # What is still to happen to the held ticket, in time order.
        self.plan: list[tuple[float, Action]] = []

    @property
    def service_ids(self) -> list[int]:
        return [queue.id for queue in self.queues]
