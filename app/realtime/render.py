"""Display messages and snapshots, read from the database. No personal data, no tokens."""

from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from app.after_commit import TicketBrief
from app.directory.setups import ClinicSetup
from app.models import (
    Clinic,
    Counter,
    EventRow,
    EventType,
    Service,
    Ticket,
    TicketEvent,
)
from app.queueing.localday import local_date, to_local
from app.queueing.queries import clinic_counters, held_tickets, kept_waiting
from app.queueing.states import STATUS_AFTER

Message = dict[str, Any]

CALL_EVENTS = (EventType.called, EventType.recalled)
# The events that move a ticket into or out of its service's waiting queue (a transfer: into
# the service it goes to).
QUEUE_EVENTS = (EventType.issued, EventType.called, EventType.requeued, EventType.cancelled)
LAST_CALLS = 10


def _iso(moment: datetime | None, timezone: str) -> str | None:
    local = to_local(moment, timezone)
    return local.isoformat() if local else None


def waiting_counts(session: Session, service_ids: list[int], visit_date: date) -> dict[int, int]:
    """Every given service's waiting count, zeros included: the counts kept with the numbers
    (app/queueing/numbering.py), one row per service, whatever the length of the queue."""
    counts = dict.fromkeys(service_ids, 0)
    if service_ids:
        counts.update(kept_waiting(session, service_ids, visit_date))
    return counts


def render_committed(
    events: list[EventRow], tickets: dict[int, TicketBrief], setup: ClinicSetup
) -> list[Message]:
    """The display messages of one clinic's events that a commit made permanent, built from
    what the commands wrote (each event carries the waiting counts it changed) and the
    clinic's setup: no read."""
    names: dict[int | None, str] = {cid: counter.name for cid, counter in setup.counters.items()}
    return [
        _message(event, tickets[event.ticket_id], setup.clinic, names, event.waiting)
        for event in events
    ]


def render_events(
    session: Session, clinic_id: int, first_seq: int, last_seq: int, now: datetime
) -> list[Message]:
    """The display messages of the clinic's events first_seq..last_seq that are committed (a
    display catching up); the waiting counts are today's, as they are now."""
    clinic = session.get(Clinic, clinic_id)
    if clinic is None or last_seq < first_seq:
        return []
    rows = session.exec(
        select(TicketEvent, Ticket)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(
            col(TicketEvent.clinic_id) == clinic_id,
            col(TicketEvent.seq) >= first_seq,
            col(TicketEvent.seq) <= last_seq,
        )
        .order_by(col(TicketEvent.seq))
    ).all()
    counter_ids = {event.counter_id for event, _ in rows if event.counter_id is not None}
    names = dict(
        session.exec(select(Counter.id, Counter.name).where(col(Counter.id).in_(counter_ids))).all()
    )
    changed = {event.id: _queue_changed(event) for event, _ in rows}
    counts = waiting_counts(
        session,
        sorted({sid for sid in changed.values() if sid is not None}),
        local_date(now, clinic.timezone),
    )
    messages = []
    for event, ticket in rows:
        service_id = changed[event.id]
        waiting = {} if service_id is None else {service_id: counts.get(service_id, 0)}
        messages.append(_message(event, ticket, clinic, names, waiting))
    return messages


def _queue_changed(event: TicketEvent) -> int | None:
    """The service whose waiting queue the event changed, if any."""
    if event.type is EventType.transferred:
        return event.to_service_id
    if event.type in QUEUE_EVENTS:
        return event.service_id
    return None


def _message(
    event: TicketEvent | EventRow,
    ticket: Ticket | TicketBrief,
    clinic: Clinic,
    counter_names: dict[int | None, str],
    waiting: dict[int, int],
) -> Message:
    service_after = event.to_service_id if event.type is EventType.transferred else event.service_id
    counter = None
    if event.counter_id is not None:
        counter = {"id": event.counter_id, "name": counter_names.get(event.counter_id, "")}
    return {
        "type": f"ticket.{event.type.value}",
        "seq": event.seq,
        "clinic_id": clinic.id,
        "at": _iso(event.at, clinic.timezone),
        "ticket": {
            "id": ticket.id,
            "code": ticket.code,
            "priority": ticket.priority.value,
            "status": STATUS_AFTER[event.type].value,
            "service_id": service_after,
            "counter_id": event.counter_id if event.type in CALL_EVENTS else None,
        },
        "counter": counter,
        "from_service_id": event.service_id if event.type is EventType.transferred else None,
        "to_service_id": event.to_service_id if event.type is EventType.transferred else None,
        # The waiting count of each service whose queue this event changed, right after it.
        "waiting": {str(service_id): count for service_id, count in waiting.items()},
    }


def current_seq(session: Session, clinic_ids: list[int]) -> dict[int, int]:
    rows = session.exec(select(Clinic.id, Clinic.event_seq).where(col(Clinic.id).in_(clinic_ids)))
    return {clinic_id: seq for clinic_id, seq in rows if clinic_id is not None}


def snapshot(session: Session, clinic: Clinic, now: datetime) -> Message:
    """Everything a display needs, consistent with `seq` (read in one transaction)."""
    assert clinic.id is not None
    seq = current_seq(session, [clinic.id]).get(clinic.id, 0)
    today = local_date(now, clinic.timezone)
    tz = clinic.timezone
    services = list(
        session.exec(
            select(Service).where(col(Service.clinic_id) == clinic.id).order_by(col(Service.id))
        )
    )
    counts = waiting_counts(session, [s.id for s in services if s.id is not None], today)
    counters = clinic_counters(session, clinic.id)
    held = held_tickets(session, [c.id for c, _ in counters if c.id is not None], today)
    return {
        "type": "snapshot",
        "seq": seq,
        "clinic": {"id": clinic.id, "code": clinic.code, "name": clinic.name, "timezone": tz},
        "visit_date": today.isoformat(),
        "services": [
            {
                "id": s.id,
                "name": s.name,
                "prefix": s.prefix,
                "entry": s.entry,
                "is_open": s.is_open,
                "waiting": counts.get(s.id or 0, 0),
            }
            for s in services
        ],
        "counters": [
            {
                "id": c.id,
                "name": c.name,
                "service_ids": ids,
                "ticket": _held(held.get(c.id or 0), tz),
            }
            for c, ids in counters
        ],
        "last_calls": _last_calls(session, clinic, today, {c.id: c.name for c, _ in counters}),
    }


def _held(ticket: Ticket | None, timezone: str) -> Message | None:
    if ticket is None:
        return None
    return {
        "id": ticket.id,
        "code": ticket.code,
        "status": ticket.status.value,
        "service_id": ticket.service_id,
        "called_at": _iso(ticket.called_at, timezone),
    }


def _last_calls(
    session: Session, clinic: Clinic, today: date, counter_names: dict[int | None, str]
) -> list[Message]:
    rows = session.exec(
        select(TicketEvent, Ticket)
        .join(Ticket, col(Ticket.id) == col(TicketEvent.ticket_id))
        .where(col(TicketEvent.clinic_id) == clinic.id, col(TicketEvent.type).in_(CALL_EVENTS))
        .order_by(col(TicketEvent.seq).desc())
        .limit(LAST_CALLS)
    ).all()
    return [
        {
            "seq": event.seq,
            "code": ticket.code,
            "counter_id": event.counter_id,
            "counter_name": counter_names.get(event.counter_id, ""),
            "at": _iso(event.at, clinic.timezone),
            "recall": event.type is EventType.recalled,
        }
        for event, ticket in rows
        if ticket.visit_date == today
    ]
