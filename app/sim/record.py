"""What a simulated clinic-day produces: its tickets and their event log.

`SimTicket` and `SimEvent` carry the column names of `Ticket` and `TicketEvent` (duck-typed:
building the models costs ~150 us each, these ~1 us), so a replay can give them ids, numbers
and datetimes and bulk-insert them as rows. The engine fills what it decides: each event's
epoch time `ts`, its `type`, the counter, user and device that acted, and the service a
ticket is issued or transferred to. `SimClinic` is the directory of ids the events refer to:
synthetic (1..n) for a pure simulation, the real rows' ids when a loader created them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.models import Channel, EventType, Priority, TicketStatus


@dataclass
class SimClinic:
    """The ids and settings of one simulated clinic, by the scenario's names."""

    id: int
    code: str
    timezone: str
    name: str = ""
    services: dict[str, int] = field(default_factory=dict)  # service name -> service id
    prefixes: dict[str, str] = field(default_factory=dict)  # service name -> ticket prefix
    targets: dict[str, int | None] = field(default_factory=dict)  # target wait (minutes)
    lead_minutes: dict[str, int] = field(default_factory=dict)  # priority lead per service
    counters: dict[str, int] = field(default_factory=dict)  # counter name -> counter id
    # counter name -> the service names it calls from (one counter may serve several)
    counter_services: dict[str, tuple[str, ...]] = field(default_factory=dict)
    staff: dict[int, int] = field(default_factory=dict)  # counter id -> its staff user id
    kiosk: int = 1  # the kiosk device id

    def target_by_id(self) -> dict[int, int | None]:
        """Target wait by service id (what the legs carry)."""
        return {self.services[name]: target for name, target in self.targets.items()}


class SimTicket:
    """A ticket as it is being simulated; a replay turns it into the row the service keeps."""

    __slots__ = (
        "id", "clinic_id", "service_id", "origin_service_id", "counter_id", "visit_date",
        "number", "code", "status", "priority", "channel", "leg", "recall_count", "issued_at",
        "entered_at", "queue_key", "called_at", "started_at", "finished_at",
        "estimate_at_issue_min", "token_digest", "issued_ts", "clinic", "cancel_at", "prefix",
        "path", "waits", "entered_ts", "joined_ts", "key_ts", "arrival", "arrive_ts", "entry",
        "requeued",
    )  # fmt: skip
    id: int
    clinic_id: int
    service_id: int
    origin_service_id: int
    counter_id: int | None
    visit_date: date
    number: int
    code: str
    status: TicketStatus | None
    priority: Priority
    channel: Channel
    leg: int
    recall_count: int
    issued_at: datetime
    entered_at: datetime
    queue_key: datetime
    called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    estimate_at_issue_min: int | None
    token_digest: str
    issued_ts: float
    clinic: SimClinic
    cancel_at: float | None
    prefix: str  # the origin service's prefix (numbering)
    path: tuple[str, ...]  # the journey: service names, the first is the entry service
    waits: list[float | None]  # per leg: seconds from joining its queue to the first call
    entered_ts: float  # when the current leg began (issue or transfer in)
    joined_ts: float  # when it last joined a queue (issue, transfer in, requeue)
    key_ts: float  # its queue_key as epoch seconds
    arrival: int  # issue order within the day (ties of the call order, as ids are)
    arrive_ts: float  # when the patient is in the waiting room (inf: never comes)
    entry: list[Any] | None  # its place in a queue's heap while it waits
    requeued: bool  # came back after a no-show on this leg

    def __init__(self, clinic: SimClinic, visit_date: date, path: tuple[str, ...],
                 priority: Priority, channel: Channel, issued_ts: float, token_digest: str,
                 arrival: int) -> None:  # fmt: skip
        self.clinic = clinic
        self.clinic_id = clinic.id
        self.visit_date = visit_date
        self.path = path
        self.prefix = clinic.prefixes[path[0]]
        self.service_id = self.origin_service_id = clinic.services[path[0]]
        self.priority = priority
        self.channel = channel
        self.issued_ts = issued_ts
        self.token_digest = token_digest
        self.arrival = arrival
        self.status = None
        self.counter_id = None
        self.leg = 0
        self.recall_count = 0
        self.cancel_at = None
        self.estimate_at_issue_min = None
        self.waits = []
        self.entered_ts = self.joined_ts = self.key_ts = self.arrive_ts = issued_ts
        self.entry = None
        self.requeued = False
        self.id = 0
        self.number = 0
        self.code = ""


# A counter's Next completes the held ticket before it calls: at one instant, endings sort
# before what follows them.
ENDINGS = frozenset({EventType.completed, EventType.transferred, EventType.no_show})


class SimEvent:
    """Duck-typed TicketEvent."""

    __slots__ = (
        "id", "clinic_id", "seq", "ticket_id", "type", "at", "leg", "service_id", "counter_id",
        "user_id", "device_id", "from_service_id", "to_service_id", "ts", "rank", "order",
        "ticket",
    )  # fmt: skip
    id: int
    clinic_id: int
    seq: int
    ticket_id: int
    type: EventType
    at: datetime
    leg: int
    service_id: int
    counter_id: int | None
    user_id: int | None
    device_id: int | None
    from_service_id: int | None
    to_service_id: int | None
    ts: float
    rank: int
    order: int
    ticket: SimTicket

    def __init__(self, ticket: SimTicket, ts: float, kind: EventType, order: int,
                 counter_id: int | None = None, user_id: int | None = None,
                 device_id: int | None = None,
                 to_service_id: int | None = None) -> None:  # fmt: skip
        self.ticket = ticket
        self.clinic_id = ticket.clinic_id
        self.ts = ts
        self.type = kind
        self.order = order
        self.rank = 0 if kind in ENDINGS else 1
        self.leg = ticket.leg
        self.service_id = ticket.service_id
        self.counter_id = counter_id
        self.user_id = user_id
        self.device_id = device_id
        self.from_service_id = None
        self.to_service_id = to_service_id


@dataclass
class Day:
    """One clinic-day: its tickets in issue order and its events in time order."""

    tickets: list[SimTicket] = field(default_factory=list)
    events: list[SimEvent] = field(default_factory=list)
    order: int = 0
    clinic: SimClinic | None = None
    visit_date: date | None = None

    def add(self, ticket: SimTicket, ts: float, kind: EventType, **fields: Any) -> SimEvent:
        self.order += 1
        event = SimEvent(ticket, ts, kind, self.order, **fields)
        self.events.append(event)
        return event
