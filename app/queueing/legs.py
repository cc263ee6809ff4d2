"""Ticket legs kept in step with the event log: each event advances its leg, in its own
transaction. The definitions (one, everywhere; SPEC "Reports"):

- a leg begins when the ticket enters a service's queue (issued, or transferred in) and ends
  with its outcome: done, transferred, no_show, cancelled or expired; a requeue after a
  no-show continues the same leg, and a no-show left until the day closes stays a no-show;
- wait = from the leg's beginning to its first call;
- service = from the start (or the first call, without a start) to the leg's end, when served
  (done or transferred).
"""

from collections.abc import Callable, Iterable
from datetime import date, datetime

from sqlmodel import Session, col, select

from app.models import EventType, Service, Ticket, TicketEvent
from app.models.leg import SERVED_OUTCOMES, LegOutcome, TicketLeg
from app.prepared import RowInsert
from app.queueing.localday import to_local
from app.queueing.lookup import clinic_setup
from app.queueing.rollups import share_of, shift

ENDINGS: dict[EventType, LegOutcome] = {
    EventType.completed: LegOutcome.done,
    EventType.transferred: LegOutcome.transferred,
    EventType.no_show: LegOutcome.no_show,
    EventType.cancelled: LegOutcome.cancelled,
    EventType.expired: LegOutcome.expired,
}


_LEG_INSERT = RowInsert(TicketLeg)


def local_hour(moment: datetime, timezone: str) -> int:
    local = to_local(moment, timezone)
    assert local is not None
    return local.hour


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds()


def begin_leg(
    event: TicketEvent,
    *,
    visit_date: date,
    service_id: int,
    leg: int,
    hour: int,
    target: int | None,
) -> TicketLeg:
    return TicketLeg(
        ticket_id=event.ticket_id,
        leg=leg,
        clinic_id=event.clinic_id,
        service_id=service_id,
        visit_date=visit_date,
        entered_hour=hour,
        entered_at=event.at,
        target_wait_minutes=target,
    )


def advance(leg: TicketLeg, event: TicketEvent) -> None:
    """What one event (other than the issue) does to its leg."""
    kind = event.type
    if kind in (EventType.called, EventType.recalled):
        leg.counter_id = event.counter_id
        if kind is EventType.recalled:
            leg.recalls += 1
        if leg.first_called_at is None:
            leg.first_called_at = event.at
            leg.wait_seconds = _seconds(event.at, leg.entered_at)
    elif kind is EventType.started:
        if leg.started_at is None:
            leg.started_at = event.at
    elif kind is EventType.requeued:  # the patient came late: the same leg goes on
        leg.outcome = None
        leg.ended_at = None
    elif kind is EventType.expired and leg.outcome is LegOutcome.no_show:
        return  # the day closing on a no-show: the leg ended at the no-show
    elif kind in ENDINGS:
        leg.outcome = ENDINGS[kind]
        leg.ended_at = event.at
        served_from = leg.started_at or leg.first_called_at
        if leg.outcome in SERVED_OUTCOMES and served_from is not None:
            leg.service_seconds = _seconds(event.at, served_from)


def record_leg(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """Advance the ticket's legs, and their rollups, by an event being recorded in this
    session."""
    setup = clinic_setup(session, event.clinic_id)
    clinic = setup.clinic

    def start(service_id: int, leg: int) -> TicketLeg:
        service = setup.services.get(service_id) or session.get(Service, service_id)
        return begin_leg(
            event,
            visit_date=ticket.visit_date,
            service_id=service_id,
            leg=leg,
            hour=local_hour(event.at, clinic.timezone),
            target=service.target_wait_minutes if service else None,
        )

    def begin(service_id: int, leg: int) -> None:
        began = start(service_id, leg)
        _LEG_INSERT.add(session, began)
        shift(session, None, share_of(began))

    if event.type is EventType.issued:
        begin(event.service_id, event.leg)
        return
    current = session.exec(
        select(TicketLeg).where(
            col(TicketLeg.ticket_id) == event.ticket_id, col(TicketLeg.leg) == event.leg
        )
    ).one()
    before = share_of(current)
    advance(current, event)
    session.add(current)
    shift(session, before, share_of(current))
    if event.type is EventType.transferred and event.to_service_id is not None:
        begin(event.to_service_id, event.leg + 1)


def derive_legs(
    events: Iterable[tuple[TicketEvent, date]],
    *,
    timezone_of: Callable[[int], str],
    target_of: Callable[[int], int | None],
) -> list[TicketLeg]:
    """Every leg from the event log alone (events in log order, each with its ticket's date)."""
    legs: dict[tuple[int, int], TicketLeg] = {}

    def start(event: TicketEvent, visit_date: date, service_id: int, leg: int) -> None:
        legs[(event.ticket_id, leg)] = begin_leg(
            event,
            visit_date=visit_date,
            service_id=service_id,
            leg=leg,
            hour=local_hour(event.at, timezone_of(event.clinic_id)),
            target=target_of(service_id),
        )

    for event, visit_date in events:
        if event.type is EventType.issued:
            start(event, visit_date, event.service_id, event.leg)
            continue
        advance(legs[(event.ticket_id, event.leg)], event)
        if event.type is EventType.transferred and event.to_service_id is not None:
            start(event, visit_date, event.to_service_id, event.leg + 1)
    return list(legs.values())
