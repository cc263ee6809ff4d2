"""Simulated days turned into the rows the service writes, by the service's own rules.

A replay gives tickets their ids, daily numbers and codes, and events their ids and per-clinic
`seq`, in the order the service would give them; it applies every event to its ticket through
the state machine (app.queueing.states.step, so an illegal move raises as it would in the
service), sets the ticket's fields as app/queueing/actions.py does (queue_key by
app.queueing.priority), and advances each leg with app.queueing.legs.advance. It also keeps,
per service and local day, what `daily_sequence` holds: the last number, the waiting count and
the moving mean of service times, changed by the same events as in app/queueing/actions.py.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import cast

from app.models import EventType, TicketEvent, TicketLeg
from app.models.leg import LegOutcome
from app.queueing.legs import advance, local_hour
from app.queueing.numbering import MEAN_WEIGHT, ticket_code
from app.queueing.priority import queue_key
from app.queueing.states import ACTION_OF, Action, step
from app.sim.record import Day, SimClinic, SimEvent, SimTicket

ISSUED = step(None, Action.issue)
# What sets a ticket's finished_at (app/queueing/actions.py, app/queueing/expiry.py).
_FINISHING = frozenset({EventType.completed, EventType.cancelled, EventType.expired})
# How each event moves its service's waiting count (app/queueing/actions.py); a transfer adds
# one to the service it goes to. Expiry leaves the count of a day that has ended.
_WAITING = {
    EventType.issued: 1,
    EventType.called: -1,
    EventType.cancelled: -1,
    EventType.requeued: 1,
}


class SimLeg:
    """Duck-typed TicketLeg, begun as app.queueing.legs.begin_leg does."""

    __slots__ = tuple(column.name for column in TicketLeg.__table__.columns)  # type: ignore[attr-defined]

    def __init__(self, event: SimEvent, visit_date: date, service_id: int, leg: int,
                 hour: int, target: int | None) -> None:  # fmt: skip
        self.id = 0
        self.ticket_id = event.ticket_id
        self.leg = leg
        self.clinic_id = event.clinic_id
        self.service_id = service_id
        self.visit_date = visit_date
        self.entered_hour = hour
        self.entered_at = event.at
        self.first_called_at: datetime | None = None
        self.started_at: datetime | None = None
        self.ended_at: datetime | None = None
        self.outcome: LegOutcome | None = None
        self.counter_id: int | None = None
        self.recalls = 0
        self.wait_seconds: float | None = None
        self.service_seconds: float | None = None
        self.target_wait_minutes = target


@dataclass
class ServiceDay:
    """A `daily_sequence` row as the replay leaves it."""

    last_number: int = 0
    waiting: int = 0
    mean_service_seconds: float | None = None
    # The day's first call (epoch seconds): the estimator's history of when calls begin.
    first_call_at: float | None = None


@dataclass
class Ids:
    """The last ids given, each clinic's last seq and each service-day's row: start them from
    what a database holds, and a load continues where it left off."""

    ticket: int = 0
    event: int = 0
    leg: int = 0
    seq: dict[int, int] = field(default_factory=dict)
    days: dict[tuple[int, date], ServiceDay] = field(default_factory=dict)

    def day(self, service_id: int, visit_date: date) -> ServiceDay:
        found = self.days.get((service_id, visit_date))
        if found is None:
            found = self.days[(service_id, visit_date)] = ServiceDay()
        return found


@dataclass
class Rows:
    """What a replay produced, ready to be bound and written."""

    tickets: list[SimTicket] = field(default_factory=list)
    events: list[SimEvent] = field(default_factory=list)
    legs: list[SimLeg] = field(default_factory=list)


@dataclass(frozen=True)
class _Settings:
    timezone: str
    targets: dict[int, int | None]
    leads: dict[int, int]


def _settings(clinic: SimClinic) -> _Settings:
    leads = {clinic.services[name]: lead for name, lead in clinic.lead_minutes.items()}
    return _Settings(clinic.timezone, clinic.target_by_id(), leads)


def replay(days: Iterable[Day], ids: Ids) -> Rows:
    """The rows of these clinic-days (any clinics, any dates), numbered after `ids`, which
    is advanced."""
    rows = Rows()
    for day in days:
        rows.tickets.extend(day.tickets)
        rows.events.extend(day.events)
    # Ids and numbers in the order tickets were taken; events in the order they happened,
    # within a clinic-day in the order the engine logged them (what follows from an event,
    # at the same instant, comes after it).
    rows.tickets.sort(key=lambda t: (t.issued_ts, t.clinic_id, t.arrival))
    rows.events.sort(key=lambda e: (e.ts, e.clinic_id, e.order))
    for ticket in rows.tickets:
        ids.ticket += 1
        ticket.id = ids.ticket
        service_day = ids.day(ticket.origin_service_id, ticket.visit_date)
        service_day.last_number += 1
        ticket.number = service_day.last_number
        ticket.code = ticket_code(ticket.prefix, ticket.number)
    _Replay(ids, rows.legs).run(rows.events)
    return rows


class _Replay:
    """The events applied one by one, each to its ticket, its leg and its service-day."""

    def __init__(self, ids: Ids, made: list[SimLeg]) -> None:
        self.ids = ids
        self.made = made
        self.settings: dict[int, _Settings] = {}
        self.legs: dict[int, SimLeg] = {}  # by ticket id: the leg it is in

    def run(self, events: list[SimEvent]) -> None:
        ids, settings, legs = self.ids, self.settings, self.legs
        seqs = ids.seq
        for event in events:
            ticket = event.ticket
            clinic_id = ticket.clinic_id
            clinic = settings.get(clinic_id)
            if clinic is None:
                clinic = settings[clinic_id] = _settings(ticket.clinic)
            at = event.at = datetime.fromtimestamp(event.ts, UTC)
            ids.event += 1
            event.id = ids.event
            event.clinic_id = clinic_id
            event.seq = seqs[clinic_id] = seqs.get(clinic_id, 0) + 1
            event.ticket_id = ticket.id
            if event.type is EventType.issued:
                self.issue(event, ticket, clinic, at)
            else:
                self.apply(event, ticket, clinic, at, legs[ticket.id])

    def begin(self, event: SimEvent, ticket: SimTicket, clinic: _Settings, number: int) -> None:
        """The ticket enters its service's queue: a leg begins (app.queueing.legs.begin_leg)."""
        service_id = ticket.service_id
        hour = local_hour(event.at, clinic.timezone)
        leg = SimLeg(event, ticket.visit_date, service_id, number, hour, clinic.targets[service_id])
        self.ids.leg += 1
        leg.id = self.ids.leg
        self.legs[ticket.id] = leg
        self.made.append(leg)
        self.ids.day(service_id, ticket.visit_date).waiting += 1

    def issue(self, event: SimEvent, ticket: SimTicket, clinic: _Settings, at: datetime) -> None:
        """As app/queueing/issue.py sets a new ticket and logs it."""
        ticket.status = ISSUED.status
        ticket.service_id = ticket.origin_service_id
        ticket.leg, ticket.recall_count = 1, 0
        ticket.counter_id = ticket.called_at = ticket.started_at = ticket.finished_at = None
        ticket.issued_at = ticket.entered_at = at
        ticket.queue_key = queue_key(at, ticket.priority, clinic.leads[ticket.service_id])
        event.leg, event.service_id = 1, ticket.service_id
        event.to_service_id = ticket.service_id
        self.begin(event, ticket, clinic, 1)

    def apply(self, event: SimEvent, ticket: SimTicket, clinic: _Settings, at: datetime,
              leg: SimLeg) -> None:  # fmt: skip
        """As app/queueing/actions.py changes the ticket, its leg and its service-day."""
        kind = event.type
        if kind is EventType.expired:
            event.counter_id = ticket.counter_id  # the counter holding it, if any
        event.leg, event.service_id = ticket.leg, ticket.service_id
        ticket.status = step(ticket.status, ACTION_OF[kind]).status
        service_day = self.ids.day(ticket.service_id, ticket.visit_date)
        service_day.waiting += _WAITING.get(kind, 0)
        if kind is EventType.called:
            ticket.counter_id = event.counter_id
            ticket.called_at = ticket.called_at or at
            if service_day.first_call_at is None:
                service_day.first_call_at = event.ts
        elif kind is EventType.recalled:
            ticket.recall_count += 1
        elif kind is EventType.started:
            ticket.started_at = at
        elif kind in _FINISHING:
            ticket.finished_at = at
        elif kind is EventType.requeued:
            ticket.counter_id = None
            ticket.queue_key = queue_key(at, ticket.priority, clinic.leads[ticket.service_id])
        advance(cast(TicketLeg, leg), cast(TicketEvent, event))
        if kind is EventType.completed or kind is EventType.transferred:
            _note_service_time(service_day, leg.service_seconds)
        if kind is EventType.transferred:
            event.from_service_id = ticket.service_id
            ticket.service_id = cast(int, event.to_service_id)
            ticket.leg += 1
            ticket.recall_count = 0
            ticket.counter_id = None
            ticket.entered_at = at
            ticket.queue_key = queue_key(at, ticket.priority, clinic.leads[ticket.service_id])
            ticket.called_at = ticket.started_at = None
            self.begin(event, ticket, clinic, ticket.leg)


def _note_service_time(day: ServiceDay, seconds: float | None) -> None:
    """The moving mean the service keeps (app/queueing/numbering.py)."""
    if seconds is None:
        return
    mean = day.mean_service_seconds
    day.mean_service_seconds = seconds if mean is None else mean + (seconds - mean) * MEAN_WEIGHT
